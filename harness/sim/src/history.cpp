#include "quorumlab/sim/history.hpp"

#include <cinttypes>
#include <cstdio>

namespace quorumlab::sim {

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::create:
      return "create";
    case OpKind::set:
      return "set";
    case OpKind::get:
      return "get";
    case OpKind::exists:
      return "exists";
    case OpKind::remove:
      return "delete";
    case OpKind::sync:
      return "sync";
  }
  return "?";
}

std::string ZnodeState::to_string() const {
  if (!exists) return "(none)";
  char buf[96];
  std::snprintf(buf, sizeof buf, " v%d mzxid=%#" PRIx64 " czxid=%#" PRIx64, version, mzxid, czxid);
  return "'" + data + "'" + buf;
}

std::string HistoryOp::to_string() const {
  char head[160];
  std::snprintf(head, sizeof head, "#%" PRIu64 " c%d s=%#" PRIx64 " [%.6f, ", id, client,
                static_cast<std::uint64_t>(session), static_cast<double>(invoke_us) / 1e6);
  std::string out = head;
  if (completed()) {
    char t[32];
    std::snprintf(t, sizeof t, "%.6f]", static_cast<double>(complete_us) / 1e6);
    out += t;
  } else {
    out += "no reply]";
  }
  out += std::string(" ") + sim::to_string(kind) + " " + key;
  if (kind == OpKind::create || kind == OpKind::set) out += " '" + data + "'";
  if (kind == OpKind::set || kind == OpKind::remove) out += " v=" + std::to_string(version);
  if (watch) out += " watch";
  if (completed()) {
    char r[64];
    std::snprintf(r, sizeof r, " -> err=%d zxid=%#" PRIx64, err, zxid);
    out += r;
    if (err == 0 && kind != OpKind::sync) out += " " + observed.to_string();
  }
  return out;
}

}  // namespace quorumlab::sim
