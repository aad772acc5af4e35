# The model-based test: random seeded batches through engine + SQLite store,
# compared after every batch with a reference model written inside the test.
# CONCORD_MODEL_SEED replays a failing seed; CONCORD_MODEL_OPS scales the run.
add_executable(test_model ${CMAKE_CURRENT_SOURCE_DIR}/model/test_model.c)
target_link_libraries(test_model PRIVATE concord_lib)
add_test(NAME model COMMAND test_model)
set_tests_properties(model PROPERTIES TIMEOUT 600)
