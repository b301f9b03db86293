# The workbench's Qt tests (issue #8): tst_widgets*, tst_mapping*, tst_gui* link the widget and GUI
# libraries. Without MPQ_BUILD_GUI those libraries do not exist: the targets are left out of the
# build and their tests disabled (CTest lists them as "Disabled").
file(GLOB _gui_tests CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/tst_widgets*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/tst_mapping*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/tst_gui*.cpp)
foreach(src IN LISTS _gui_tests)
  get_filename_component(_name ${src} NAME_WE)
  string(REGEX REPLACE "^tst_" "" _unit ${_name})
  if(MPQ_BUILD_GUI)
    if(_name MATCHES "^tst_gui")
      target_link_libraries(${_name} PRIVATE mpq_gui)
    else()
      target_link_libraries(${_name} PRIVATE mpq_widgets)
    endif()
    set_tests_properties(${_unit} PROPERTIES TIMEOUT 300)
  else()
    set_target_properties(${_name} PROPERTIES EXCLUDE_FROM_ALL ON)
    set_tests_properties(${_unit} PROPERTIES DISABLED ON)
  endif()
endforeach()

# tst_gui checks `mpq-workbench --version` against CMake's project() version.
if(TARGET tst_gui AND TARGET mpq-workbench)
  add_dependencies(tst_gui mpq-workbench)
  target_compile_definitions(tst_gui PRIVATE MPQ_WORKBENCH_PATH="$<TARGET_FILE:mpq-workbench>"
    MPQ_PROJECT_VERSION="${PROJECT_VERSION}")
endif()
