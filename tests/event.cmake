# The audit log's event bodies (src/fmt/event.c): every operation type through
# encode → decode → encode byte for byte, invalid operations, and escaping.
add_executable(test_event ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_event.c)
target_link_libraries(test_event PRIVATE concord_lib PkgConfig::CMOCKA)
add_test(NAME test_event COMMAND test_event)
