// `qlab bench`: not built yet.
#include "commands.hpp"

namespace quorumlab::cli {

void add_bench(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("bench", "(not available yet)");
  cmd->callback([&action] {
    action = [] { throw std::runtime_error("qlab bench is not available in this build yet"); return 1; };
  });
}

}  // namespace quorumlab::cli
