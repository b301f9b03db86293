# tst_cli drives the built `mpq` executable as a user would: it needs the binary built first and
# its path compiled in.
if(TARGET tst_cli AND TARGET mpq)
  add_dependencies(tst_cli mpq)
  target_compile_definitions(tst_cli PRIVATE MPQ_CLI_PATH="$<TARGET_FILE:mpq>" MPQ_PROJECT_VERSION="${PROJECT_VERSION}"
    MPQ_TOKENIZER_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/tokenizer")
endif()
