# Integration tests of the command line, run against the built binary.
add_test(NAME cli COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli PROPERTIES TIMEOUT 600)
add_test(NAME cli_conditions COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_conditions.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli_conditions PROPERTIES TIMEOUT 600)
