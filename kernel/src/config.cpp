#include "quorumlab/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace quorumlab {

namespace {

ParamSpec spec(std::string name, ParamType type, ParamValue def, std::string help,
               std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt,
               std::vector<std::string> choices = {}) {
  return ParamSpec{std::move(name),   type, std::move(def), std::move(help), min, max,
                   std::move(choices)};
}

const char* const kSections[] = {"broadcast", "storage", "read_policy"};

// TOML spellings for to_toml(): its output must load again (--print-config into a file), so
// strings are escaped, keys quoted unless bare, and reals keep every digit and their type.
std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// Well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF), as TOML requires.
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;  // the sequence runs past the end
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    const std::uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::string toml_key(const std::string& k) {
  const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
  });
  return bare ? k : toml_string(k);
}

std::string toml_value(const ParamValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return toml_string(*s);
  if (const auto* d = std::get_if<double>(&v)) {
    if (std::isnan(*d)) return "nan";
    if (std::isinf(*d)) return *d > 0 ? "inf" : "-inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    std::string out = buf;
    if (out.find_first_of(".e") == std::string::npos) out += ".0";
    return out;
  }
  return format_value(v);
}

PluginChoice& section(NodeConfig& c, const std::string& name) {
  if (name == "broadcast") return c.broadcast;
  if (name == "storage") return c.storage;
  return c.read_policy;
}

bool is_section(const std::string& name) {
  return std::find(std::begin(kSections), std::end(kSections), name) != std::end(kSections);
}

std::string known_keys() {
  std::string out;
  for (const auto& s : node_schema())
    out += s.name + ", ";
  return out + "peers, broadcast.*, storage.*, read_policy.*";
}

const ParamSpec* find_spec(const std::string& key) {
  for (const auto& s : node_schema()) {
    if (s.name == key) return &s;
  }
  return nullptr;
}

std::optional<ParamValue> from_toml(const toml::node& n) {
  if (auto v = n.as_integer()) return ParamValue{std::int64_t{v->get()}};
  if (auto v = n.as_floating_point()) return ParamValue{v->get()};
  if (auto v = n.as_boolean()) return ParamValue{v->get()};
  if (auto v = n.as_string()) return ParamValue{v->get()};
  return std::nullopt;
}

std::string where(const toml::node& n, const std::string& file) {
  const auto& src = n.source();
  std::ostringstream os;
  os << file << ":" << src.begin.line;
  return os.str();
}

void set_scalar(NodeConfig& c, const std::string& key, const ParamValue& v, const std::string& at) {
  const ParamSpec* s = find_spec(key);
  if (!s) throw ConfigError(at + ": unknown key '" + key + "'; known keys: " + known_keys());
  std::map<std::string, ParamValue> one{{key, v}};
  try {
    auto r = resolve_params("config", {*s}, one);
    c.settings.set(key, r.values().at(key));
  } catch (const ConfigError& e) {
    throw ConfigError(at + ": " + e.what());
  }
}

}  // namespace

const std::vector<ParamSpec>& node_schema() {
  static const std::vector<ParamSpec> schema = {
      spec("id", ParamType::integer, std::int64_t{1}, "this node's server id (1-254)", 1, 254),
      spec("host", ParamType::string, std::string("127.0.0.1"), "address to listen on"),
      spec("client_port", ParamType::integer, std::int64_t{7001},
           "port of the native client protocol (0 picks a free port)", 0, 65535),
      spec("zk_port", ParamType::integer, std::int64_t{-1},
           "port of the ZooKeeper wire protocol (-1 off, 0 picks a free port)", -1, 65535),
      spec("peer_port", ParamType::integer, std::int64_t{0},
           "port for peer traffic (0: taken from this node's entry in peers)", 0, 65535),
      spec("data_dir", ParamType::string, std::string("./qlab-data"),
           "directory for the storage plugin's files"),
      spec("tick_ms", ParamType::integer, std::int64_t{10},
           "length of one broadcast tick in milliseconds", 1, 10000),
      spec("clock_drift_ppm", ParamType::integer, std::int64_t{1000},
           "bound on this node's clock drift against real time, in parts per million, "
           "given to the plugins (a lease shrinks by it)",
           0, 100000),
      spec("min_session_timeout_ms", ParamType::integer, std::int64_t{4000},
           "lower bound of negotiated session timeouts (ZooKeeper's minSessionTimeout: "
           "2 x tickTime 2000)",
           1, 86400000),
      spec("max_session_timeout_ms", ParamType::integer, std::int64_t{40000},
           "upper bound of negotiated session timeouts (ZooKeeper's maxSessionTimeout: "
           "20 x tickTime 2000)",
           1, 86400000),
      spec("max_data_bytes", ParamType::integer, std::int64_t{1048576},
           "largest znode data and largest request frame (jute.maxbuffer)", 1, 1 << 30),
      spec("read_only_mode", ParamType::boolean, false,
           "ZooKeeper's readonlymode.enabled: while this server is outside a quorum it serves "
           "read-only sessions to clients that allow them (canBeReadOnly); writes get "
           "NOTREADONLY. Off: it serves no client until it rejoins a quorum"),
      spec("snapshot_every_txns", ParamType::integer, std::int64_t{100000},
           "take a snapshot after this many applied txns (ZooKeeper's snapCount)", 100, 1e9),
      spec("log_level", ParamType::string, std::string("info"),
           "log levels: a default and per-component overrides, e.g. warn,zab=debug"),
      spec("trace_file", ParamType::string, std::string(""),
           "write trace events (became leader, proposal, ack, commit, apply, ...) as JSON lines "
           "to this file; empty: tracing off"),
      spec("super_digest", ParamType::string, std::string(""),
           "digest ACL id of the super user, user:base64(sha1(user:password)); empty: none"),
  };
  return schema;
}

std::string PeerSpec::to_string() const {
  return std::to_string(id) + "@" + host + ":" + std::to_string(port) +
         (observer ? ":observer" : "") +
         (zk_port ? ";" + zk_host + ":" + std::to_string(zk_port) : std::string());
}

std::string PeerSpec::zk_server_line() const {
  const std::string p = std::to_string(port);
  return host + ":" + p + ":" + p + ":" + (observer ? "observer" : "participant") +
         (zk_port ? ";" + zk_host + ":" + std::to_string(zk_port) : std::string());
}

std::string NodeConfig::ensemble_config() const {
  if (peers.empty()) return {};
  std::vector<const PeerSpec*> sorted;
  for (const auto& p : peers)
    sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(),
            [](const PeerSpec* a, const PeerSpec* b) { return a->id < b->id; });
  std::string out;
  for (const PeerSpec* p : sorted)
    out += "server." + std::to_string(p->id) + "=" + p->zk_server_line() + "\n";
  return out + "version=0";
}

PeerSpec PeerSpec::parse(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return ConfigError("peers: '" + text + "' " + why +
                       "; expected id@host:port[:observer][;[zk_host:]zk_port]");
  };
  auto port_of = [&](const std::string& digits, const std::string& what) {
    std::int64_t port = 0;
    try {
      port = std::get<std::int64_t>(parse_param_text("peers", ParamType::integer, digits));
    } catch (const ConfigError&) {
      throw bad("has a " + what + " that is not a number");
    }
    if (port < 1 || port > 65535) throw bad("has a " + what + " outside 1-65535");
    return static_cast<std::uint16_t>(port);
  };
  auto at = text.find('@');
  if (at == std::string::npos || at == 0) throw bad("has no id");
  PeerSpec p;
  auto id = parse_param_text("peers", ParamType::integer, text.substr(0, at));
  auto idv = std::get<std::int64_t>(id);
  if (idv < 1 || idv > 254) throw bad("has an id outside 1-254");
  p.id = static_cast<NodeId>(idv);
  std::string rest = text.substr(at + 1);
  std::string client;  // after ';': the ZooKeeper client address
  if (auto semi = rest.find(';'); semi != std::string::npos) {
    client = rest.substr(semi + 1);
    rest.resize(semi);
    if (client.empty()) throw bad("has nothing after ';'");
  }
  const std::string obs = ":observer";
  if (rest.size() > obs.size() && rest.compare(rest.size() - obs.size(), obs.size(), obs) == 0) {
    p.observer = true;
    rest.resize(rest.size() - obs.size());
  }
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad("has no host:port");
  p.host = rest.substr(0, colon);
  p.port = port_of(rest.substr(colon + 1), "port");
  if (!client.empty()) {
    auto c = client.rfind(':');
    if (c == 0) throw bad("has no ZooKeeper client host before ':'");
    p.zk_host = c == std::string::npos ? p.host : client.substr(0, c);
    p.zk_port = port_of(c == std::string::npos ? client : client.substr(c + 1), "ZooKeeper port");
  }
  return p;
}

Params PluginChoice::resolve(const std::string& what, const std::vector<ParamSpec>& schema) const {
  std::map<std::string, ParamValue> all = values;
  for (const auto& [key, text] : texts) {
    const ParamSpec* s = nullptr;
    for (const auto& x : schema) {
      if (x.name == key) s = &x;
    }
    if (!s) {
      all[key] = text;  // resolve_params reports the unknown key with the known ones
      continue;
    }
    try {
      all[key] = parse_param_text(key, s->type, text);
    } catch (const ConfigError& e) {
      throw ConfigError(what + ": " + e.what());
    }
  }
  return resolve_params(what, schema, all);
}

Membership NodeConfig::membership() const {
  Membership m;
  for (const auto& p : peers)
    (p.observer ? m.observers : m.voters).push_back(p.id);
  if (peers.empty()) m.voters.push_back(id());
  std::sort(m.voters.begin(), m.voters.end());
  std::sort(m.observers.begin(), m.observers.end());
  return m;
}

std::string NodeConfig::to_toml() const {
  std::ostringstream os;
  for (const auto& [k, v] : settings.values())
    os << toml_key(k) << " = " << toml_value(v) << "\n";
  os << "peers = [";
  for (std::size_t i = 0; i < peers.size(); ++i) {
    os << (i ? ", " : "") << toml_string(peers[i].to_string());
  }
  os << "]\n";
  for (const char* sec : kSections) {
    const PluginChoice& c = sec == std::string("broadcast") ? broadcast
                            : sec == std::string("storage") ? storage
                                                            : read_policy;
    os << "[" << sec << "]\nplugin = " << toml_string(c.name) << "\n";
    for (const auto& [k, v] : c.values)
      os << toml_key(k) << " = " << toml_value(v) << "\n";
    for (const auto& [k, t] : c.texts)
      os << toml_key(k) << " = " << toml_string(t) << "  # from the command line\n";
  }
  return os.str();
}

void apply_override(NodeConfig& config, const std::string& assignment) {
  // A configuration file is UTF-8 (TOML); so is an override, or it could not be printed as one.
  if (!valid_utf8(assignment)) throw ConfigError("override is not valid UTF-8");
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("override '" + assignment + "' is not of the form key=value");
  }
  std::string key = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  std::replace(key.begin(), key.end(), '-', '_');
  if (is_section(key)) {
    section(config, key).name = text;
    return;
  }
  auto dot = key.find('.');
  if (dot != std::string::npos) {
    std::string sec = key.substr(0, dot), param = key.substr(dot + 1);
    if (!is_section(sec)) {
      throw ConfigError("unknown section '" + sec + "' in '" + key +
                        "'; sections: broadcast, storage, read_policy");
    }
    if (param == "plugin") {
      section(config, sec).name = text;
    } else {
      section(config, sec).values.erase(param);
      section(config, sec).texts[param] = text;
    }
    return;
  }
  if (key == "peers") {
    config.peers.clear();
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (!item.empty()) config.peers.push_back(PeerSpec::parse(item));
    }
    return;
  }
  const ParamSpec* s = find_spec(key);
  if (!s) throw ConfigError("unknown key '" + key + "'; known keys: " + known_keys());
  set_scalar(config, key, parse_param_text(key, s->type, text), "command line");
}

NodeConfig load_config(const std::optional<std::filesystem::path>& file,
                       const std::vector<std::string>& overrides) {
  NodeConfig c;
  c.settings = resolve_params("config", node_schema(), {});
  c.broadcast.name = "solo";
  c.storage.name = "wal";
  c.read_policy.name = "local";
  if (file) {
    const std::string fname = file->string();
    toml::table tbl;
    try {
      tbl = toml::parse_file(fname);
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << fname << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
         << e.description();
      throw ConfigError(os.str());
    }
    for (const auto& [k, node] : tbl) {
      std::string key(k.str());
      if (is_section(key)) {
        const auto* t = node.as_table();
        if (!t) throw ConfigError(where(node, fname) + ": '" + key + "' must be a table");
        for (const auto& [pk, pn] : *t) {
          std::string param(pk.str());
          auto v = from_toml(pn);
          if (!v) {
            throw ConfigError(where(pn, fname) + ": " + key + "." + param +
                              " must be an integer, real, boolean or string");
          }
          if (param == "plugin") {
            auto* s = std::get_if<std::string>(&*v);
            if (!s) throw ConfigError(where(pn, fname) + ": " + key + ".plugin must be a string");
            section(c, key).name = *s;
          } else {
            section(c, key).values[param] = *v;
          }
        }
      } else if (key == "peers") {
        const auto* arr = node.as_array();
        if (!arr) throw ConfigError(where(node, fname) + ": peers must be an array of strings");
        for (const auto& item : *arr) {
          auto s = item.value<std::string>();
          if (!s) throw ConfigError(where(item, fname) + ": peers must be an array of strings");
          try {
            c.peers.push_back(PeerSpec::parse(*s));
          } catch (const ConfigError& e) {
            throw ConfigError(where(item, fname) + ": " + e.what());
          }
        }
      } else {
        auto v = from_toml(node);
        if (!v && find_spec(key)) {
          throw ConfigError(where(node, fname) + ": '" + key + "' must be a " +
                            to_string(find_spec(key)->type));
        }
        set_scalar(c, key, v ? *v : ParamValue{std::string()}, where(node, fname));
      }
    }
  }
  for (const auto& o : overrides)
    apply_override(c, o);
  std::set<NodeId> ids;
  for (const auto& p : c.peers) {
    if (!ids.insert(p.id).second) {
      throw ConfigError("peers: server id " + std::to_string(p.id) + " appears twice");
    }
  }
  if (!c.peers.empty() && !ids.count(c.id())) {
    throw ConfigError("peers: this node's id " + std::to_string(c.id()) +
                      " is not in the peer list");
  }
  if (c.settings.get_int("min_session_timeout_ms") > c.settings.get_int("max_session_timeout_ms")) {
    throw ConfigError("min_session_timeout_ms is larger than max_session_timeout_ms");
  }
  return c;
}

}  // namespace quorumlab
