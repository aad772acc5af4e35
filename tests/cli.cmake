# Integration tests of the command line, run against the built binary.
add_test(NAME cli COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli PROPERTIES TIMEOUT 600)
