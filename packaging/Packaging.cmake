# Man pages from --help (help2man) and the Debian package (CPack DEB): `bash packaging/deb.sh`.
# Included by the top-level CMakeLists.txt after the programs' targets exist.

# --- man pages: help2man runs each program's --help and --version (Debian: help2man) ---------
find_program(MPQ_HELP2MAN help2man)
option(MPQ_BUILD_MAN "Generate man pages from --help with help2man (when it is installed)" ON)
set(_man_pages)
if(MPQ_BUILD_MAN AND MPQ_HELP2MAN)
  set(_man_dir ${CMAKE_BINARY_DIR}/man)
  set(_programs mpq)
  if(MPQ_BUILD_GUI)
    list(APPEND _programs mpq-workbench)
  endif()
  foreach(prog IN LISTS _programs)
    if(prog STREQUAL "mpq")
      set(_name "mixed-precision post-training quantization of LLaMA-family models")
    else()
      set(_name "the MPQ Workbench desktop application")
    endif()
    add_custom_command(OUTPUT ${_man_dir}/${prog}.1.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_man_dir}
      # The GUI parses its options after QApplication exists: the offscreen platform needs no display.
      COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
              ${MPQ_HELP2MAN} --no-info --section=1 --name=${_name} --output=${_man_dir}/${prog}.1
              $<TARGET_FILE:${prog}>
      COMMAND gzip -9nf ${_man_dir}/${prog}.1   # Debian ships man pages compressed, without a timestamp
      DEPENDS ${prog}
      COMMENT "help2man: ${prog}.1.gz"
      VERBATIM)
    list(APPEND _man_pages ${_man_dir}/${prog}.1.gz)
  endforeach()
  add_custom_target(man ALL DEPENDS ${_man_pages})
  install(FILES ${_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  message(STATUS "man pages: help2man (${MPQ_HELP2MAN})")
else()
  message(STATUS "man pages: not generated (help2man not found or MPQ_BUILD_MAN=OFF)")
endif()

# --- CPack: one .deb with mpq, mpq-workbench, the desktop files and the demo model ------------
# Debian's machine-readable copyright file (the package's licences; lintian looks for it).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/mpq-workbench)
set(CPACK_PACKAGE_NAME mpq-workbench)
set(CPACK_PACKAGE_VENDOR "MPQ Workbench")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "MPQ Workbench developers <mpq-workbench@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "mixed-precision post-training quantization of LLaMA-family models")
set(CPACK_PACKAGE_DESCRIPTION
    "A LibTorch engine, the mpq command-line tool and a Qt 6 desktop workbench for RTN, GPTQ,\n"
    "MG-PTQ (graph-neural per-column bit allocation) and MXQ (data-free mixed quantization by a\n"
    "mixed integer program), with an embedded 0.33 M-parameter demo model (mpq eval --demo,\n"
    "mpq-workbench --demo).")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/mpq/workbench")
# Depends from the libraries the binaries link (dpkg-shlibdeps: Qt 6, LibTorch, HDF5, GLPK,
# PCRE2, ICU, …, with the versions Debian's symbols files require) …
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# … and what is loaded at run time without being linked: Debian's libtorch1.13 takes its BLAS
# through the alternatives system (reference BLAS by default, far slower); OpenBLAS is
# recommended, as packaging/install-deps.sh installs it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp | libopenblas0")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "xvfb")
include(CPack)
