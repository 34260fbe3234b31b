# The generated headers of the training layer, for the main build and the fuzz build alike:
# aicl_generated_headers(TARGET ROOT) gives TARGET (compiling ROOT/core/train) the include directory holding
#   paper_numbers_data.h  the published numbers (ROOT/core/train/paper_numbers.json), compiled in; editing the
#                         file re-runs the configure step
#   build_info.h          the git commit and dirty flag (cmake/build_info.cmake), refreshed at every build
function(aicl_generated_headers target root)
  set(gen ${CMAKE_BINARY_DIR}/generated)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${root}/core/train/paper_numbers.json)
  file(READ ${root}/core/train/paper_numbers.json AICL_PAPER_NUMBERS)
  configure_file(${root}/core/train/paper_numbers_data.h.in ${gen}/paper_numbers_data.h @ONLY)
  add_custom_target(${target}_build_info
    COMMAND ${CMAKE_COMMAND} -DSRC=${root} -DOUT=${gen}/build_info.h -P ${root}/cmake/build_info.cmake
    BYPRODUCTS ${gen}/build_info.h
    COMMENT "aicl build info (git commit)")
  add_dependencies(${target} ${target}_build_info)
  target_include_directories(${target} PRIVATE ${gen})
endfunction()
