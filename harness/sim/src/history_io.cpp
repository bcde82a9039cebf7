#include "quorumlab/sim/history_io.hpp"

#include <fstream>
#include <istream>
#include <ostream>
#include <stdexcept>

namespace quorumlab::sim {

namespace {

using nlohmann::json;

json state_json(const ZnodeState& s) {
  return {{"exists", true},
          {"data", s.data},
          {"version", s.version},
          {"mzxid", s.mzxid},
          {"czxid", s.czxid}};
}

std::string dump(const json& j) {
  // Replace, never throw, on bytes that are not UTF-8: a history must always be written.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Reads field `name` of `j` as T; `where` prefixes the message.
template <class T>
T field(const json& j, const char* name, const std::string& where) {
  auto it = j.find(name);
  if (it == j.end()) throw std::runtime_error(where + ": missing field '" + name + "'");
  try {
    return it->template get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error(where + ": field '" + name + "' has the wrong type (" +
                             it->type_name() + ")");
  }
}

template <class T>
T optional_field(const json& j, const char* name, T fallback, const std::string& where) {
  if (!j.contains(name) || j[name].is_null()) return fallback;
  return field<T>(j, name, where);
}

}  // namespace

bool parse_op_kind(const std::string& name, OpKind* out) {
  for (OpKind k :
       {OpKind::create, OpKind::set, OpKind::get, OpKind::exists, OpKind::remove, OpKind::sync}) {
    if (name == to_string(k)) {
      *out = k;
      return true;
    }
  }
  return false;
}

void write_history_header(std::ostream& out, const json& meta) {
  json h = {{"quorumlab_history", kHistoryFormatVersion}};
  if (meta.is_object()) {
    for (auto it = meta.begin(); it != meta.end(); ++it)
      h[it.key()] = it.value();
  }
  out << dump(h) << '\n';
}

void write_history_op(std::ostream& out, const HistoryOp& op) {
  json j = {{"id", op.id},
            {"client", op.client},
            {"session", op.session},
            {"op", to_string(op.kind)},
            {"key", op.key}};
  if (op.kind == OpKind::create || op.kind == OpKind::set) j["data"] = op.data;
  if (op.kind == OpKind::set || op.kind == OpKind::remove) j["version"] = op.version;
  if (op.watch) j["watch"] = true;
  j["invoke_us"] = op.invoke_us;
  if (op.completed()) {
    j["complete_us"] = op.complete_us;
    j["err"] = op.err;
    j["zxid"] = op.zxid;
    if (op.observed.exists) j["observed"] = state_json(op.observed);
  } else {
    j["complete_us"] = nullptr;
  }
  out << dump(j) << '\n';
}

void write_history_file(const std::string& path, const History& history, const json& meta) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write the history file " + path);
  write_history_header(out, meta);
  for (const auto& op : history.ops)
    write_history_op(out, op);
  out.flush();
  if (!out) throw std::runtime_error("error writing the history file " + path);
}

LoadedHistory read_history(std::istream& in, const std::string& name) {
  LoadedHistory out;
  std::string line;
  std::size_t line_no = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(line_no);
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      throw std::runtime_error(where + ": not JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw std::runtime_error(where + ": expected a JSON object");
    if (!have_header) {
      if (!j.contains("quorumlab_history")) {
        throw std::runtime_error(where +
                                 ": not a quorumlab history (the first line must be the header "
                                 "{\"quorumlab_history\": 1, ...})");
      }
      const int version = field<int>(j, "quorumlab_history", where);
      if (version < 1 || version > kHistoryFormatVersion) {
        throw std::runtime_error(where + ": history format " + std::to_string(version) +
                                 " is not supported (this qlab reads format " +
                                 std::to_string(kHistoryFormatVersion) + ")");
      }
      out.meta = std::move(j);
      have_header = true;
      continue;
    }
    HistoryOp op;
    op.id = field<std::uint64_t>(j, "id", where);
    if (op.id != out.history.ops.size()) {
      throw std::runtime_error(where + ": operation id " + std::to_string(op.id) + " where " +
                               std::to_string(out.history.ops.size()) +
                               " was expected (ids are dense from 0 in file order)");
    }
    op.client = field<int>(j, "client", where);
    op.session = field<SessionId>(j, "session", where);
    const auto kind = field<std::string>(j, "op", where);
    if (!parse_op_kind(kind, &op.kind)) {
      throw std::runtime_error(where + ": unknown op '" + kind +
                               "' (expected create, set, delete, get, exists or sync)");
    }
    op.key = field<std::string>(j, "key", where);
    op.data = optional_field<std::string>(j, "data", "", where);
    op.version = optional_field<std::int32_t>(j, "version", -1, where);
    op.watch = optional_field<bool>(j, "watch", false, where);
    op.invoke_us = field<std::int64_t>(j, "invoke_us", where);
    if (!j.contains("complete_us"))
      throw std::runtime_error(where + ": missing field 'complete_us'");
    if (!j["complete_us"].is_null()) {
      op.complete_us = field<std::int64_t>(j, "complete_us", where);
      if (op.complete_us < op.invoke_us) {
        throw std::runtime_error(where + ": completed (" + std::to_string(op.complete_us) +
                                 " us) before it was invoked (" + std::to_string(op.invoke_us) +
                                 " us)");
      }
      op.err = field<std::int32_t>(j, "err", where);
      op.zxid = field<Zxid>(j, "zxid", where);
      if (j.contains("observed") && !j["observed"].is_null()) {
        const json& o = j["observed"];
        if (!o.is_object()) throw std::runtime_error(where + ": 'observed' must be an object");
        const std::string w = where + " observed";
        op.observed.exists = optional_field<bool>(o, "exists", true, w);
        op.observed.data = optional_field<std::string>(o, "data", "", w);
        op.observed.version = field<std::int32_t>(o, "version", w);
        op.observed.mzxid = field<Zxid>(o, "mzxid", w);
        op.observed.czxid = field<Zxid>(o, "czxid", w);
      }
    }
    if (!out.history.ops.empty() && op.invoke_us < out.history.ops.back().invoke_us) {
      throw std::runtime_error(where + ": invoked at " + std::to_string(op.invoke_us) +
                               " us, before the operation above it (operations are listed in "
                               "invocation order)");
    }
    out.history.ops.push_back(std::move(op));
  }
  if (!have_header) throw std::runtime_error(name + ": empty, no history header");
  return out;
}

LoadedHistory read_history_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the history file " + path);
  return read_history(in, path);
}

}  // namespace quorumlab::sim
