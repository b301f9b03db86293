# tst_streaming evaluates the family fixtures and the embedded demo model resident and layer-streamed.
target_compile_definitions(tst_streaming PRIVATE
  MPQ_FAMILY_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/data/families"
  MPQ_DEMO_MODEL="${PROJECT_SOURCE_DIR}/resources/demo/model")
