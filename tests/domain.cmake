# What every domain operation owes the audit log and the other parties:
# replay after refused lines, proofs of what it made, no reading across parties.
add_test(NAME domain COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_domain.py
         $<TARGET_FILE:concord>)
set_tests_properties(domain PROPERTIES TIMEOUT 600)
