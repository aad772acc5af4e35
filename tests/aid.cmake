# The aid pipeline (organisation, commodity, crossing, warehouse,
# distribution_point, consignment, consignment_move) through the command line
# and POST /v1/batch: stages, capacities, overrides, proof of delivery,
# refusals that write nothing, idempotency, the audit log.
add_test(NAME aid COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_aid.py
         $<TARGET_FILE:concord>)
set_tests_properties(aid PROPERTIES TIMEOUT 600)
