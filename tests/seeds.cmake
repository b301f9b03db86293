# tst_seeds runs `mpq sweep --seeds` on the demo model: it needs the binary built first and its
# path compiled in.
if(TARGET tst_seeds AND TARGET mpq)
  add_dependencies(tst_seeds mpq)
  target_compile_definitions(tst_seeds PRIVATE MPQ_CLI_PATH="$<TARGET_FILE:mpq>")
endif()
