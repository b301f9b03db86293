# tst_sessionkill drives the built `mpq` executable (kill -9 at random points, then --resume):
# it needs the binary built first and its path compiled in, as tst_cli.
if(TARGET tst_sessionkill AND TARGET mpq)
  add_dependencies(tst_sessionkill mpq)
  target_compile_definitions(tst_sessionkill PRIVATE MPQ_CLI_PATH="$<TARGET_FILE:mpq>")
endif()
