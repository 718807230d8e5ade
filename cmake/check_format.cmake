# SPDX-License-Identifier: MIT
# Fails when any C file in the tree differs from what clang-format would write.
file(GLOB_RECURSE files ${SRC}/src/*.[ch] ${SRC}/include/*.h ${SRC}/tests/*.[ch]
     ${SRC}/fuzz/*.[ch] ${SRC}/examples/*.[ch] ${SRC}/bench/*.[ch])
execute_process(COMMAND clang-format --dry-run -Werror ${files}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "unformatted sources (run: make format):\n${err}")
endif()
message(STATUS "${CMAKE_CURRENT_LIST_FILE}: all sources formatted")
