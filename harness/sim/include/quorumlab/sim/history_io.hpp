// Histories on disk: one JSON object per line, so real clients (`qlab bench --history`, the
// Python package's recipe workloads) and the simulator write what `qlab check` reads.
//
// The first line is the header {"quorumlab_history": 1, ...}: the format version and what
// recorded it (free-form fields: source, connect, read policy...). Every further line is one
// operation:
//   {"id": 0, "client": 3, "session": 72057594037927937, "op": "set", "key": "/k",
//    "data": "c3-17", "version": -1, "watch": false, "invoke_us": 120, "complete_us": 480,
//    "err": 0, "zxid": 4294967302,
//    "observed": {"exists": true, "data": "c3-17", "version": 4, "mzxid": 4294967302,
//                 "czxid": 4294967297}}
// op is create, set, delete, get, exists or sync; complete_us is null when no reply came
// (the outcome is unknown: the connection was lost); observed is what a read saw or the state
// a successful write left, omitted for a node that does not exist. Times are microseconds on
// one monotonic clock (a real clock for real clients: invoke before the request was sent,
// complete after the reply arrived, the bounds Porcupine uses for etcd).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "quorumlab/sim/history.hpp"

namespace quorumlab::sim {

constexpr int kHistoryFormatVersion = 1;

/// Writes the header line: {"quorumlab_history": 1} merged with `meta` (an object).
void write_history_header(std::ostream& out, const nlohmann::json& meta);
/// Writes one operation as one line.
void write_history_op(std::ostream& out, const HistoryOp& op);
/// Writes the header and every operation to `path`; throws std::runtime_error naming the
/// path when it cannot be written.
void write_history_file(const std::string& path, const History& history,
                        const nlohmann::json& meta);

struct LoadedHistory {
  History history;
  nlohmann::json meta;  ///< the header line
};

/// Reads a history file. Throws std::runtime_error naming the file, the line and the field for
/// anything malformed: not JSON, a missing or mistyped field, an unknown op, a newer format,
/// an operation completed before it was invoked, ids not dense from 0 in file order.
LoadedHistory read_history_file(const std::string& path);
/// The same from a stream; `name` is used in the messages.
LoadedHistory read_history(std::istream& in, const std::string& name);

/// The op's name in the file (create, set, delete, get, exists, sync) and back; false for an
/// unknown name.
bool parse_op_kind(const std::string& name, OpKind* out);

}  // namespace quorumlab::sim
