# `concord import fts` on OCHA FTS's own answers (../shared/data/fts): FTS's
# totals reproduced from the ledger, versions, refusals, the audit log.
set(CONCORD_SHARED_DATA ${CMAKE_SOURCE_DIR}/../shared/data CACHE PATH
    "The shared data files (FTS, IATI, HXL) the interoperability tests read in place")
add_test(NAME fts COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_fts.py
         $<TARGET_FILE:concord> ${CONCORD_SHARED_DATA})
set_tests_properties(fts PROPERTIES TIMEOUT 600)
