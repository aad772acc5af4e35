# The dashboard's own verifier of the audit log (web/verify.js) and its
# amount helpers, run in Node against proofs the binary makes
# (tests/web/test_verify.mjs). No browser needed.
add_test(NAME web_verify COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/web/test_verify.mjs
         $<TARGET_FILE:concord>)
set_tests_properties(web_verify PROPERTIES TIMEOUT 120)
