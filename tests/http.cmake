# Integration tests of the HTTP API: `concord serve` on a port the OS picks,
# driven with Python's standard library. Every route against the CLI's --json
# answers on the same database, every error status, pagination, concurrent
# writers, keep-alive, the access log, and graceful shutdown on SIGTERM/SIGINT.
add_test(NAME http COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/http/test_http.py
         $<TARGET_FILE:concord>)
set_tests_properties(http PROPERTIES TIMEOUT 900)
# The authorization matrix: every route (read from the OpenAPI document) by
# every role and by missing, malformed, unknown, expired and revoked tokens;
# every operation kind by every writing role, allowed and denied, denials
# writing nothing; a viewer's reads; k-of-n approvals end to end.
add_test(NAME http_authz COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/http/test_authz.py
         $<TARGET_FILE:concord>)
set_tests_properties(http_authz PROPERTIES TIMEOUT 600)
