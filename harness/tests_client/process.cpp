// Child processes for the end-to-end tests.
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace quorumlab::client::e2e {

namespace {

constexpr char kReadyPrefix[] = "serving clients on ";

/// fork + exec of `argv`; the child's stdout/stderr go to the given fds (-1: inherit).
pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd, int in_fd = -1) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (out_fd >= 0) ::dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
    int in = in_fd >= 0 ? in_fd : ::open("/dev/null", O_RDONLY);
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  return pid;
}

}  // namespace

std::string qlab_path() {
  const char* env = std::getenv("QLAB_BIN");
  return env && *env ? env : QLAB_BIN;
}

ServerProcess::ServerProcess(std::vector<std::string> extra, std::chrono::milliseconds ready_wait)
    : extra_(std::move(extra)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "qlab-e2e-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    error_ = "mkdtemp failed";
    return;
  }
  data_dir_ = tmpl;
  start({"--client-port", "0"}, ready_wait);
}

ServerProcess::~ServerProcess() {
  kill();
  if (!data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

bool ServerProcess::restart(std::chrono::milliseconds ready_wait) {
  if (address_.empty()) return false;
  std::string port = address_.substr(address_.rfind(':') + 1);
  kill();
  address_.clear();
  start({"--client-port", port}, ready_wait);
  return ok();
}

void ServerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void ServerProcess::start(const std::vector<std::string>& port_args,
                          std::chrono::milliseconds ready_wait) {
  std::vector<std::string> argv = {
      qlab_path(), "--log-level", "warn", "server",    "--id", "1",     "--data-dir",
      data_dir_,   "--broadcast", "solo", "--storage", "wal",  "--set", "storage.fsync=false"};
  argv.insert(argv.end(), port_args.begin(), port_args.end());
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error_ = "pipe failed";
    return;
  }
  pid_ = spawn(argv, fds[1], -1);
  ::close(fds[1]);
  // Read the ready line, waiting on the pipe (no sleeps).
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + ready_wait;
  error_.clear();
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      error_ = "no ready line within " + std::to_string(ready_wait.count()) + " ms";
      break;
    }
    char buf[256];
    auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      error_ = "server exited before it was ready";
      break;
    }
    line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);  // the server ignores SIGPIPE on stdout after its ready line
  auto at = line.find(kReadyPrefix);
  if (error_.empty() && at != std::string::npos) {
    auto end = line.find('\n', at);
    address_ = line.substr(at + std::strlen(kReadyPrefix), end - at - std::strlen(kReadyPrefix));
  } else if (error_.empty()) {
    error_ = "unexpected ready line: " + line;
  }
}

CommandResult run_qlab(const std::vector<std::string>& args, const std::string& stdin_text) {
  CommandResult result;
  int out[2], err[2], in[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return result;
  if (!stdin_text.empty()) {
    if (stdin_text.size() > 65536 || ::pipe2(in, O_CLOEXEC) != 0) return result;
    // Fits the pipe's buffer: written whole before the child starts, so this never blocks.
    if (::write(in[1], stdin_text.data(), stdin_text.size()) !=
        static_cast<ssize_t>(stdin_text.size()))
      return result;
    ::close(in[1]);
  }
  std::vector<std::string> argv = {qlab_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, out[1], err[1], in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (in[0] >= 0) ::close(in[0]);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      auto n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace quorumlab::client::e2e
