# The dashboard's end-to-end test (tests/e2e/test_dashboard.mjs): concord
# serve over the demo, driven by chromium through playwright-core from
# web/node_modules (scripts/web-deps). Saves its screenshots in build/screenshots/.
add_test(NAME e2e COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_dashboard.mjs
         $<TARGET_FILE:concord> ${CMAKE_SOURCE_DIR}/build/screenshots)
set_tests_properties(e2e PROPERTIES TIMEOUT 300)
