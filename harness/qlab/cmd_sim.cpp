// `qlab sim`: not built yet (the simulator is being written in harness/sim).
#include "commands.hpp"

namespace quorumlab::cli {

void add_sim(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("sim", "(not available yet)");
  cmd->callback([&action] {
    action = [] { throw std::runtime_error("qlab sim is not available in this build yet"); return 1; };
  });
}

}  // namespace quorumlab::cli
