# tst_runs resumes a run of a family fixture committed under tests/data/families.
target_compile_definitions(tst_runs PRIVATE MPQ_FAMILY_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/data/families")
