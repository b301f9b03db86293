# tst_gguf reads ggml's reference test vectors (tests/data/ggml-quants.txt, made by ggml's own
# quantizers outside this repository; docs/gguf.md says how).
target_compile_definitions(tst_gguf PRIVATE MPQ_GGML_VECTORS="${CMAKE_CURRENT_SOURCE_DIR}/data/ggml-quants.txt")
# ... and the family fixtures (tests/data/families) for the per-family layouts.
target_compile_definitions(tst_gguf PRIVATE MPQ_FAMILY_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/data/families")
