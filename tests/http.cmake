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
set_tests_properties(http_authz PROPERTIES ENVIRONMENT
                     "CONCORD_ASSETS_LIST=${CMAKE_BINARY_DIR}/generated/http/assets.list;CONCORD_IATI_SCHEMA=${CONCORD_SHARED_DATA}/iati/schema/iati-activities-schema.xsd")
# The dashboard's files, served from the binary: bytes, types, ETag and 304,
# gzip, security headers, no token, 404 for the rest (whatever web/ holds).
add_test(NAME http_assets COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/http/test_assets.py
         $<TARGET_FILE:concord> ${CMAKE_SOURCE_DIR}/web
         ${CMAKE_BINARY_DIR}/generated/http/assets.list)
set_tests_properties(http_assets PROPERTIES TIMEOUT 300)
# The generator of the embedded files (tools/embed.c) on fixture files.
add_test(NAME embed COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/http/test_embed.py
         $<TARGET_FILE:concord-embed>)
set_tests_properties(embed PROPERTIES TIMEOUT 300)
