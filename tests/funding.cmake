# The funding domain (donor, pledge, commitment, disbursement, expenditure)
# through the command line: balances, refusals, idempotency, the audit log.
add_test(NAME funding COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_funding.py
         $<TARGET_FILE:concord>)
set_tests_properties(funding PROPERTIES TIMEOUT 600)
