// `qlab server`: not built yet.
#include "commands.hpp"

namespace quorumlab::cli {

void add_server(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("server", "(not available yet)");
  cmd->callback([&action] {
    action = [] { throw std::runtime_error("qlab server is not available in this build yet"); return 1; };
  });
}

}  // namespace quorumlab::cli
