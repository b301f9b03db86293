# tst_hftokenizer: the Hugging Face tokenizer.json tokenizer against reference ids written by
# bench/reference/tokenizer_reference.{mjs,py} into tests/data/tokenizer/.
target_compile_definitions(tst_hftokenizer PRIVATE
  MPQ_TOKENIZER_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/tokenizer")
target_link_libraries(tst_hftokenizer PRIVATE nlohmann_json::nlohmann_json)
