# Writes OUT (a header defining QL_GIT_REVISION) from `git rev-parse --short HEAD` in
# SOURCE_DIR, or "unknown". Run at every build; rewrites OUT only when the revision changed,
# so nothing recompiles otherwise.
execute_process(
  COMMAND git rev-parse --short HEAD
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE rev
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR rev STREQUAL "")
  set(rev "unknown")
endif()
set(content "// Generated at build time by harness/sim/cmake/git_revision.cmake.\n#define QL_GIT_REVISION \"${rev}\"\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL content)
  file(WRITE ${OUT} "${content}")
endif()
