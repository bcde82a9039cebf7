// Child processes for the end-to-end tests: a `qlab server` on port 0 (ready line parsed from
// its stdout, killed at the end) and one-shot `qlab` commands with captured output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace quorumlab::client::e2e {

/// The qlab executable under test: $QLAB_BIN, else the one this build produced.
std::string qlab_path();

/// `qlab server --id 1 --client-port 0 --broadcast solo ...` in a fresh data directory.
class ServerProcess {
 public:
  /// Starts the server and waits (up to `ready_wait`) for its ready line. `extra` is appended
  /// to the server's arguments. Check ok() / error() afterwards.
  explicit ServerProcess(std::vector<std::string> extra = {},
                         std::chrono::milliseconds ready_wait = std::chrono::seconds(60));
  /// Kills the server (SIGKILL), reaps it and removes the data directory.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// Kills the server (SIGKILL) and starts it again on the same port and data directory.
  /// Returns ok().
  bool restart(std::chrono::milliseconds ready_wait = std::chrono::seconds(60));

  bool ok() const { return !address_.empty(); }
  const std::string& error() const { return error_; }
  /// "127.0.0.1:PORT" from the ready line.
  const std::string& address() const { return address_; }

 private:
  void start(const std::vector<std::string>& extra, std::chrono::milliseconds ready_wait);
  void kill();

  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  std::string data_dir_;
  std::string address_;
  std::string error_;
};

struct CommandResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string out;
  std::string err;
};

/// Runs `qlab args...` to completion, capturing stdout and stderr; `stdin_text` is its
/// standard input (at most a pipe's buffer, 64 KiB), /dev/null when empty.
CommandResult run_qlab(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace quorumlab::client::e2e
