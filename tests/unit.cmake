# Unit tests (cmocka) of the pure-C engines and utilities: one executable per
# test file under tests/unit/, each linking the library and run by CTest.
foreach(unit_test test_ledger test_util test_governance)
  add_executable(${unit_test} ${CMAKE_CURRENT_SOURCE_DIR}/unit/${unit_test}.c)
  target_link_libraries(${unit_test} PRIVATE concord_lib PkgConfig::CMOCKA)
  add_test(NAME ${unit_test} COMMAND ${unit_test})
endforeach()
