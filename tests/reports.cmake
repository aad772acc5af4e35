# The mission's reports (funding, force, aid) through the command line and the
# HTTP API: every figure of every report against hand-computed values.
add_test(NAME cli_reports COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_reports.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli_reports PROPERTIES TIMEOUT 600)
