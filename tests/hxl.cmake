# `concord import hxl` and `concord export hxl|csv`: libhxl's test inputs read
# as libhxl reads them, HDX's FTS tables (../shared/data) giving FTS's totals
# from the ledger and counted once beside `import fts`, bad values named,
# and exports checked against transfer show, balance and gaps.
set(CONCORD_SHARED_DATA ${CMAKE_SOURCE_DIR}/../shared/data CACHE PATH
    "The shared data files (FTS, IATI, HXL) the interoperability tests read in place")
add_test(NAME hxl COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_hxl.py
         $<TARGET_FILE:concord> ${CONCORD_SHARED_DATA})
set_tests_properties(hxl PROPERTIES TIMEOUT 900)
