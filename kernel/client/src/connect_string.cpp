// Connection-string parsing, path rules and the chroot mapping.
#include "quorumlab/client/connect_string.hpp"

#include <charconv>

namespace quorumlab::client {

namespace {

bool fail(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return false;
}

bool parse_port(const std::string& text, std::uint16_t* port) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) return false;
  *port = static_cast<std::uint16_t>(value);
  return true;
}

bool parse_host(const std::string& item, HostPort* out, std::string* error) {
  if (item.empty()) return fail(error, "empty host in connection string");
  std::string host;
  std::string port;
  if (item.front() == '[') {
    auto close = item.find(']');
    if (close == std::string::npos) return fail(error, "unterminated '[' in host '" + item + "'");
    host = item.substr(1, close - 1);
    if (close + 1 >= item.size() || item[close + 1] != ':') {
      return fail(error, "missing port in host '" + item + "'");
    }
    port = item.substr(close + 2);
  } else {
    auto colon = item.rfind(':');
    if (colon == std::string::npos) return fail(error, "missing port in host '" + item + "'");
    host = item.substr(0, colon);
    port = item.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return fail(error, "IPv6 address must be in brackets: '" + item + "'");
    }
  }
  if (host.empty()) return fail(error, "empty host name in '" + item + "'");
  if (!parse_port(port, &out->port)) {
    return fail(error, "invalid port '" + port + "' in host '" + item + "' (expected 1..65535)");
  }
  out->host = std::move(host);
  return true;
}

}  // namespace

std::string HostPort::endpoint() const {
  bool v6 = host.find(':') != std::string::npos;
  return "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string HostPort::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<ConnectString> ConnectString::parse(const std::string& text, std::string* error) {
  ConnectString cs;
  auto slash = text.find('/');
  std::string hosts = text.substr(0, slash);
  if (slash != std::string::npos) {
    std::string chroot = text.substr(slash);
    if (chroot != "/") {
      auto reason = validate_path(chroot);
      if (!reason.empty()) {
        fail(error, "invalid chroot '" + chroot + "': " + reason);
        return std::nullopt;
      }
      cs.chroot = chroot;
    }
  }
  if (hosts.empty()) {
    fail(error, "connection string has no host");
    return std::nullopt;
  }
  std::size_t start = 0;
  while (start <= hosts.size()) {
    auto comma = hosts.find(',', start);
    if (comma == std::string::npos) comma = hosts.size();
    HostPort hp;
    if (!parse_host(hosts.substr(start, comma - start), &hp, error)) return std::nullopt;
    cs.hosts.push_back(std::move(hp));
    start = comma + 1;
  }
  return cs;
}

std::string ConnectString::to_server(const std::string& path) const {
  if (chroot.empty()) return path;
  if (path == "/") return chroot;
  return chroot + path;
}

std::string ConnectString::to_client(const std::string& path) const {
  if (chroot.empty()) return path;
  if (path == chroot) return "/";
  if (path.size() > chroot.size() && path.compare(0, chroot.size(), chroot) == 0 &&
      path[chroot.size()] == '/') {
    return path.substr(chroot.size());
  }
  return path;
}

bool ConnectString::contains(const std::string& server_path) const {
  if (chroot.empty() || server_path == chroot) return true;
  return server_path.size() > chroot.size() && server_path.compare(0, chroot.size(), chroot) == 0 &&
         server_path[chroot.size()] == '/';
}

std::string validate_path(const std::string& path, bool sequential) {
  if (sequential) return validate_path(path + "1", false);
  if (path.empty()) return "Path length must be > 0";
  if (path[0] != '/') return "Path must start with / character";
  if (path.size() == 1) return {};
  if (path.back() == '/') return "Path must not end with / character";
  for (std::size_t i = 1; i < path.size(); ++i) {
    auto c = static_cast<unsigned char>(path[i]);
    char prev = path[i - 1];
    if (c == 0) return "null character not allowed @" + std::to_string(i);
    if (c == '/' && prev == '/') return "empty node name specified @" + std::to_string(i);
    if (c == '.' && prev == '.') {
      if (path[i - 2] == '/' && (i + 1 == path.size() || path[i + 1] == '/')) {
        return "relative paths not allowed @" + std::to_string(i);
      }
    } else if (c == '.') {
      if (prev == '/' && (i + 1 == path.size() || path[i + 1] == '/')) {
        return "relative paths not allowed @" + std::to_string(i);
      }
    } else if ((c > 0x00 && c < 0x20) || c == 0x7f) {
      return "invalid character @" + std::to_string(i);
    }
  }
  return {};
}

}  // namespace quorumlab::client
