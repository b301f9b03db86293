# tst_families reads the family fixtures committed under tests/data/families and drives the
# built `mpq` for the every-method runs.
target_compile_definitions(tst_families PRIVATE MPQ_FAMILY_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/data/families")
if(TARGET mpq)
  add_dependencies(tst_families mpq)
  target_compile_definitions(tst_families PRIVATE MPQ_CLI_PATH="$<TARGET_FILE:mpq>")
endif()
