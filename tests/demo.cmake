# The illustrative mission of `concord demo`: it loads, verifies, passes the
# invariant check, refuses a ledger that is not empty, and is deterministic.
add_test(NAME cli_demo COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_demo.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli_demo PROPERTIES TIMEOUT 600)
