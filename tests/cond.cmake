# The conditions engine (src/cond/): parser, Kleene evaluation, derived
# conditions and forecasts, exact against brute force and Monte Carlo against
# exact. Needs src/cond/*.c in concord_lib's sources.
add_executable(test_cond ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_cond.c)
target_link_libraries(test_cond PRIVATE concord_lib PkgConfig::CMOCKA)
add_test(NAME test_cond COMMAND test_cond)
