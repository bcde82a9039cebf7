// Connection strings and paths: `host:port[,host:port...][/chroot]`, ZooKeeper's path rules
// (reference §1.6) and the purely client-side chroot mapping (reference §1.14).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quorumlab::client {

struct HostPort {
  std::string host;  // name or address; an IPv6 address without its brackets
  std::uint16_t port = 0;

  /// The ZeroMQ endpoint "tcp://host:port" ("tcp://[::1]:port" for IPv6).
  std::string endpoint() const;
  /// "host:port" as written in a connection string.
  std::string to_string() const;
};

/// A parsed connection string. `chroot` is empty when there is none ("/" alone means none).
struct ConnectString {
  std::vector<HostPort> hosts;
  std::string chroot;

  /// Parses `host:port[,host:port...][/chroot]`. IPv6 hosts go in brackets ("[::1]:2181").
  /// Every host needs a port in 1..65535; the chroot must be a valid path without a trailing
  /// slash. Returns nullopt and sets *error (if given) to the reason otherwise.
  static std::optional<ConnectString> parse(const std::string& text, std::string* error = nullptr);

  /// `path` as the server sees it: the chroot prepended ("/" maps to the chroot itself).
  std::string to_server(const std::string& path) const;
  /// `path` as the client sees it: the chroot stripped. A path outside the chroot (which a
  /// server should never send) comes back unchanged.
  std::string to_client(const std::string& path) const;
  /// True when `server_path` is the chroot or lies below it (always true without a chroot).
  bool contains(const std::string& server_path) const;
};

/// ZooKeeper's path rules (PathUtils.validatePath): absolute, no empty, "." or ".." component,
/// no trailing slash except for "/", no NUL or other forbidden characters. With `sequential`, a
/// trailing slash is allowed (the server appends the suffix). Returns the reason, or an empty
/// string when the path is valid.
std::string validate_path(const std::string& path, bool sequential = false);

}  // namespace quorumlab::client
