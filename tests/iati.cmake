# IATI 2.03 import and export through the command line: the standard's own
# should-pass and should-fail documents, every transaction type, hostile
# files, a flow reported by both sides, and export round trips. The test
# reads the shared IATI data in place (tests/cli/test_iati.py says where).
add_test(NAME iati COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_iati.py
         $<TARGET_FILE:concord>)
set_tests_properties(iati PROPERTIES TIMEOUT 900)
