# Crash test: `concord apply` of 20,000-transfer batches killed with SIGKILL at
# random moments, at least 50 times; after each kill the ledger must open, its
# invariants hold, and every batch be wholly present or wholly absent.
add_test(NAME crash
         COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/crash/test_crash.py $<TARGET_FILE:concord>)
set_tests_properties(crash PROPERTIES TIMEOUT 900)
