# The tamper-evident log engine (src/audit/): Merkle roots and proofs against
# the RFC 6962 reference vectors and exhaustively over small trees, frontiers,
# keys and signed checkpoints against Go's note format. Needs src/audit/*.c
# in concord_lib's sources and libsodium.
add_executable(test_audit ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_audit.c)
target_link_libraries(test_audit PRIVATE concord_lib PkgConfig::CMOCKA PkgConfig::SODIUM)
add_test(NAME test_audit COMMAND test_audit)
