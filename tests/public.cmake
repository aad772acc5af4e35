# The public header, used as an embedding program would.
add_executable(test_public public/test_public.c)
target_link_libraries(test_public PRIVATE concord_lib PkgConfig::CMOCKA)
add_test(NAME public COMMAND test_public)
