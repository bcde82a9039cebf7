// The wire format of the `raft` plugin: one flat message (raft.capnp), as etcd-raft's Message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quorumlab/plugin/broadcast.hpp"

namespace quorumlab::raft::wire {

enum class Type : std::uint8_t {
  request_vote = 0,
  request_vote_response = 1,
  append_entries = 2,
  append_entries_response = 3,
  heartbeat = 4,
  heartbeat_response = 5,
  install_snapshot = 6,
  install_snapshot_response = 7,
  barrier_request = 8,
  barrier_response = 9,
  timeout_now = 10,
};
constexpr unsigned kTypeCount = 11;
const char* to_string(Type t);

/// One message. See raft.capnp for what each field means for each type.
struct Message {
  Type type = Type::heartbeat;
  std::uint64_t term = 0;
  bool pre_vote = false;
  LogIndex index = 0;
  std::uint64_t log_term = 0;
  std::vector<LogEntry> entries;
  LogIndex commit = 0;
  bool granted = false;
  std::uint64_t conflict_term = 0;
  LogIndex conflict_index = 0;
  std::uint64_t context = 0;
  LogIndex snapshot_index = 0;
  std::uint64_t snapshot_term = 0;
  Zxid snapshot_zxid = 0;
  std::uint64_t offset = 0;
  Bytes data;
  bool done = false;
  std::uint8_t barrier_kind = 0;
  std::uint8_t barrier_failure = 0;
  Zxid zxid = 0;
  bool transfer = false;
};

Bytes encode(const Message& m);
/// nullopt (and a reason in `error`) for anything that is not a well-formed message.
std::optional<Message> decode(const Bytes& payload, std::string* error = nullptr);

}  // namespace quorumlab::raft::wire
