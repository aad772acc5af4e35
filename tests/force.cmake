# Force generation through the command line and POST /v1/batch: contingents
# through every stage, course capacity, skipped stages and conditional
# contingents refused by the ledger, idempotency, invalid fields named.
add_test(NAME cli_force COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_force.py
         $<TARGET_FILE:concord>)
set_tests_properties(cli_force PROPERTIES TIMEOUT 600)
