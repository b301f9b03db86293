# tst_override also drives `mpq quantize --override` (exit status and one-line errors).
if(TARGET tst_override AND TARGET mpq)
  add_dependencies(tst_override mpq)
  target_compile_definitions(tst_override PRIVATE MPQ_CLI_PATH="$<TARGET_FILE:mpq>")
endif()
