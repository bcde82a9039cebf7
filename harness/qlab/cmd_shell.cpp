// `qlab shell`: not built yet.
#include "commands.hpp"

namespace quorumlab::cli {

void add_shell(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("shell", "(not available yet)");
  cmd->callback([&action] {
    action = [] { throw std::runtime_error("qlab shell is not available in this build yet"); return 1; };
  });
}

}  // namespace quorumlab::cli
