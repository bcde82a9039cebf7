#include "quorumlab/sim/simulator.hpp"

// QL_GIT_REVISION comes from the generated header (see cmake/git_revision.cmake); a build
// without it reports "unknown".
#if __has_include("ql_sim_git_revision.h")
#include "ql_sim_git_revision.h"
#endif
#ifndef QL_GIT_REVISION
#define QL_GIT_REVISION "unknown"
#endif

namespace quorumlab::sim {

const char* git_revision() {
  return QL_GIT_REVISION;
}

}  // namespace quorumlab::sim
