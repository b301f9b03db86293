# tst_tokenizer proves the engine's native SentencePiece tokenizer against the real library.
# The library runs in a helper process, spm_reference: Debian's libsentencepiece and LibTorch link
# two protobuf versions that cannot share one process, so the tool links libsentencepiece only
# (never the engine, never Torch). Without libsentencepiece the conformance tests skip.
find_path(MPQ_SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h)
find_library(MPQ_SENTENCEPIECE_LIBRARY sentencepiece)
find_library(MPQ_SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train)

if(MPQ_SENTENCEPIECE_INCLUDE_DIR AND MPQ_SENTENCEPIECE_LIBRARY)
  add_executable(spm_reference ${CMAKE_CURRENT_SOURCE_DIR}/tools/spm_reference.cpp)
  target_include_directories(spm_reference PRIVATE ${MPQ_SENTENCEPIECE_INCLUDE_DIR})
  target_link_libraries(spm_reference PRIVATE ${MPQ_SENTENCEPIECE_LIBRARY})
  # The trainer lets the test make unigram, NFKC and other variant models to compare on.
  if(MPQ_SENTENCEPIECE_TRAIN_LIBRARY)
    target_link_libraries(spm_reference PRIVATE ${MPQ_SENTENCEPIECE_TRAIN_LIBRARY})
    target_compile_definitions(spm_reference PRIVATE MPQ_SPM_HAVE_TRAINER)
  endif()
  # Beside the test executables, where mpq::test::toolsDir() finds it.
  set_target_properties(spm_reference PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  add_dependencies(tst_tokenizer spm_reference)
else()
  message(STATUS "libsentencepiece not found: tst_tokenizer will skip its reference comparisons")
endif()
