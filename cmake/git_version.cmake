# Writes bilevel/version.hpp with the commit the sources are at when the build runs: a result
# file names the commit its executable was built from (docs/result-format.md). Run at every
# build (the bilevel_version target), not only when CMake configures, so that committing and
# rebuilding without reconfiguring cannot leave an earlier commit in the files. "-dirty" marks
# a build from tracked files that differ from that commit. configure_file rewrites the header
# only when its text changes, so an unchanged commit recompiles nothing.
#
#   cmake -DSOURCE_DIR=... -DOUTPUT=.../version.hpp -DPROJECT_VERSION=... -P git_version.cmake
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE BILEVEL_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE not_git ERROR_QUIET)
if(not_git OR NOT BILEVEL_GIT_COMMIT)
  set(BILEVEL_GIT_COMMIT unknown)
else()
  execute_process(COMMAND git diff --quiet HEAD -- WORKING_DIRECTORY ${SOURCE_DIR}
                  RESULT_VARIABLE changed ERROR_QUIET)
  if(changed)
    string(APPEND BILEVEL_GIT_COMMIT "-dirty")
  endif()
endif()
configure_file(${SOURCE_DIR}/cmake/version.hpp.in ${OUTPUT} @ONLY)
