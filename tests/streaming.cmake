# tst_streaming evaluates the family fixtures and the embedded demo model (found as every test
# finds it: mpq::test::demoModel) resident and layer-streamed.
target_compile_definitions(tst_streaming PRIVATE
  MPQ_FAMILY_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/data/families")
