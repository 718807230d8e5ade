# SPDX-License-Identifier: MIT
# Helpers so that adding a source or a fuzz target needs no CMake edit.

# gh_component(NAME DEPS...): a static library from every .c under the current
# directory. Dependencies on components that do not exist yet are skipped, so
# a directory can name its whole place in the graph from the start.
function(gh_component name)
  cmake_parse_arguments(A "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  add_library(${name} STATIC ${srcs})
  foreach(dep ${A_DEPS})
    if(TARGET ${dep})
      target_link_libraries(${name} PUBLIC ${dep})
    endif()
  endforeach()
endfunction()

# gh_fuzz_target(NAME SRC LIBS...): with GH_FUZZ a libFuzzer binary; otherwise
# a replay binary run by CTest over fuzz/corpus/NAME and fuzz/regression/NAME.
function(gh_fuzz_target name src)
  set(tgt fuzz_${name})
  if(GH_FUZZ)
    add_executable(${tgt} ${src})
    target_link_options(${tgt} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${tgt} ${src} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.c)
    add_test(NAME fuzz/${name} COMMAND ${tgt}
             ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name}
             ${PROJECT_SOURCE_DIR}/fuzz/regression/${name})
    set_tests_properties(fuzz/${name} PROPERTIES TIMEOUT 300)
  endif()
  target_link_libraries(${tgt} PRIVATE ${ARGN})
endfunction()
