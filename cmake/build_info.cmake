# Writes OUT (a header) with the source tree's git commit and whether tracked files differ from it; run at every
# build (a custom target) and rewritten only when the text changes, so an unchanged tree rebuilds nothing.
execute_process(COMMAND git -C "${SRC}" rev-parse HEAD OUTPUT_VARIABLE commit ERROR_QUIET
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
  set(dirty "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no OUTPUT_VARIABLE changes
                  ERROR_QUIET)
  if(changes STREQUAL "")
    set(dirty "no")
  else()
    set(dirty "yes")
  endif()
endif()
set(text "// Generated at build time by cmake/build_info.cmake: the commit this aicl was built from.
#pragma once
#define AICL_GIT_COMMIT \"${commit}\"
#define AICL_GIT_DIRTY \"${dirty}\"  // yes: tracked files differed from the commit at build time
")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE "${OUT}" "${text}")
endif()
