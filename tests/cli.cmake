# Integration tests of the command line, run against the built binary.
add_test(NAME cli COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli PROPERTIES TIMEOUT 600)
add_test(NAME cli_conditions COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_conditions.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli_conditions PROPERTIES TIMEOUT 600)
# The audit log through the command line: key, checkpoints, proofs checked
# independently, and tampering with every ledger table caught by `verify`.
add_test(NAME cli_audit COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_audit.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli_audit PROPERTIES TIMEOUT 600)
