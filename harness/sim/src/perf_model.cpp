#include "quorumlab/sim/perf_model.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace quorumlab::sim {

namespace {

struct Field {
  const char* key;
  const char* help;
  double PerfProfile::*number;  ///< null for the two integer fields
  int PerfProfile::*integer;
  double min;
  double max;
};

const std::vector<Field>& fields() {
  static const std::vector<Field> all = {
      {"cores", "CPU cores per replica", nullptr, &PerfProfile::cores, 1, 1024},
      {"host_cores",
       "> 0: every replica and the load generator share this many cores (one machine)", nullptr,
       &PerfProfile::host_cores, 0, 1024},
      {"transport_message_ns", "CPU per message sent or received (ZeroMQ, syscalls, hand-offs)",
       &PerfProfile::transport_message_ns, nullptr, 0, 1e9},
      {"transport_byte_ns", "CPU per byte sent or received through the transport",
       &PerfProfile::transport_byte_ns, nullptr, 0, 1e6},
      {"client_message_ns", "CPU to decode a client request or encode a reply",
       &PerfProfile::client_message_ns, nullptr, 0, 1e9},
      {"client_byte_ns", "CPU per byte of a client message", &PerfProfile::client_byte_ns, nullptr,
       0, 1e6},
      {"peer_message_ns", "CPU to encode or decode a peer message", &PerfProfile::peer_message_ns,
       nullptr, 0, 1e9},
      {"peer_byte_ns", "CPU per byte of a peer message", &PerfProfile::peer_byte_ns, nullptr, 0,
       1e6},
      {"apply_txn_ns", "CPU to apply a committed txn to the tree", &PerfProfile::apply_txn_ns,
       nullptr, 0, 1e9},
      {"apply_byte_ns", "CPU per byte of an applied txn", &PerfProfile::apply_byte_ns, nullptr, 0,
       1e6},
      {"log_append_ns", "CPU to write an entry to the log (not the fsync)",
       &PerfProfile::log_append_ns, nullptr, 0, 1e9},
      {"log_byte_ns", "CPU per byte written to the log", &PerfProfile::log_byte_ns, nullptr, 0,
       1e6},
      {"read_ns", "CPU to serve a getData from the tree", &PerfProfile::read_ns, nullptr, 0, 1e9},
      {"tick_ns", "CPU per tick", &PerfProfile::tick_ns, nullptr, 0, 1e9},
      {"request_ns", "the node's own CPU per client request beyond the other costs",
       &PerfProfile::request_ns, nullptr, 0, 1e9},
      {"peer_handling_ns", "the node's own CPU per peer message beyond the other costs",
       &PerfProfile::peer_handling_ns, nullptr, 0, 1e9},
      {"turn_ns", "the node's own CPU per reactor turn (inputs, then one process())",
       &PerfProfile::turn_ns, nullptr, 0, 1e9},
      {"wakeup_ns", "CPU to wake a thread for a reactor turn (poll, hand-off, context switch)",
       &PerfProfile::wakeup_ns, nullptr, 0, 1e9},
      {"client_op_ns", "the load generator's CPU per operation (with host_cores only)",
       &PerfProfile::client_op_ns, nullptr, 0, 1e9},
      {"link_latency_us", "peer link latency", &PerfProfile::link_latency_us, nullptr, 0, 1e8},
      {"link_bandwidth_mbit_s", "peer link bandwidth", &PerfProfile::link_bandwidth_mbit_s, nullptr,
       1e-3, 1e9},
      {"client_link_latency_us", "client link latency", &PerfProfile::client_link_latency_us,
       nullptr, 0, 1e8},
      {"client_link_bandwidth_mbit_s", "client link bandwidth",
       &PerfProfile::client_link_bandwidth_mbit_s, nullptr, 1e-3, 1e9},
      {"fsync_us", "fsync latency", &PerfProfile::fsync_us, nullptr, 0, 1e8},
      {"disk_bandwidth_mb_s", "disk write bandwidth (MB/s)", &PerfProfile::disk_bandwidth_mb_s,
       nullptr, 1e-3, 1e9},
  };
  return all;
}

const Field& field(const std::string& key) {
  for (const auto& f : fields()) {
    if (key == f.key) return f;
  }
  std::string known;
  for (const auto& f : fields())
    known += std::string(known.empty() ? "" : ", ") + f.key;
  throw std::invalid_argument("unknown performance-model key '" + key + "' (known: " + known + ")");
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& perf_profile_keys() {
  static const std::vector<std::pair<std::string, std::string>> keys = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& f : fields())
      out.emplace_back(f.key, f.help);
    return out;
  }();
  return keys;
}

void PerfProfile::set(const std::string& key, double value) {
  const Field& f = field(key);
  if (!std::isfinite(value) || value < f.min || value > f.max) {
    std::ostringstream os;
    os << "performance-model key '" << key << "' must be in " << f.min << ".." << f.max << ", got "
       << value;
    throw std::invalid_argument(os.str());
  }
  if (f.integer != nullptr) {
    if (value != std::floor(value)) {
      throw std::invalid_argument("performance-model key '" + key + "' must be an integer");
    }
    this->*f.integer = static_cast<int>(value);
  } else {
    this->*f.number = value;
  }
}

void PerfProfile::set(const std::string& key, const std::string& value) {
  field(key);  // the key first: an unknown key is the better message
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size()) {
    throw std::invalid_argument("performance-model key '" + key + "' wants a number, got '" +
                                value + "'");
  }
  set(key, v);
}

std::vector<std::pair<std::string, double>> PerfProfile::items() const {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& f : fields()) {
    out.emplace_back(
        f.key, f.integer != nullptr ? static_cast<double>(this->*f.integer) : this->*f.number);
  }
  return out;
}

void PerfProfile::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read performance profile '" + path + "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("performance profile '" + path + "' is not JSON: " + e.what());
  }
  const nlohmann::json* costs = &j;
  if (j.is_object() && j.contains("costs")) costs = &j["costs"];
  if (!costs->is_object()) {
    throw std::invalid_argument("performance profile '" + path +
                                "': expected an object of KEY: number (or {\"costs\": {...}})");
  }
  for (const auto& [key, value] : costs->items()) {
    try {
      if (!value.is_number()) {
        throw std::invalid_argument("performance-model key '" + key + "' wants a number, got " +
                                    value.dump());
      }
      set(key, value.get<double>());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("performance profile '" + path + "': " + e.what());
    }
  }
}

}  // namespace quorumlab::sim
