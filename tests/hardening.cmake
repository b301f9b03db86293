# tst_hardening drives the built `mpq` executable too (validation before work, two writers of one
# session): it needs the binary built first and its path compiled in, as tst_cli.
if(TARGET tst_hardening AND TARGET mpq)
  add_dependencies(tst_hardening mpq)
  target_compile_definitions(tst_hardening PRIVATE MPQ_CLI_PATH="$<TARGET_FILE:mpq>")
endif()
