#include "quorumlab/raft/wire.hpp"

#include <cstring>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "quorumlab/capnp_bytes.hpp"
#include "quorumlab/raft/raft.capnp.h"

namespace quorumlab::raft::wire {

namespace {
// Reader limits: a message is read once, so its traversal is bounded by its own size.
constexpr std::uint64_t kTraversalFactor = 4;
constexpr std::uint64_t kTraversalSlackWords = 1024;
constexpr int kNestingLimit = 8;

Bytes bytes_of(capnp::Data::Reader d) {
  return Bytes(d.begin(), d.end());
}
}  // namespace

const char* to_string(Type t) {
  switch (t) {
    case Type::request_vote:
      return "RequestVote";
    case Type::request_vote_response:
      return "RequestVoteResponse";
    case Type::append_entries:
      return "AppendEntries";
    case Type::append_entries_response:
      return "AppendEntriesResponse";
    case Type::heartbeat:
      return "Heartbeat";
    case Type::heartbeat_response:
      return "HeartbeatResponse";
    case Type::install_snapshot:
      return "InstallSnapshot";
    case Type::install_snapshot_response:
      return "InstallSnapshotResponse";
    case Type::barrier_request:
      return "BarrierRequest";
    case Type::barrier_response:
      return "BarrierResponse";
    case Type::timeout_now:
      return "TimeoutNow";
  }
  return "?";
}

Bytes encode(const Message& m) {
  capnp::MallocMessageBuilder builder;
  auto p = builder.initRoot<proto::Message>();
  p.setType(static_cast<proto::MessageType>(m.type));
  p.setTerm(m.term);
  p.setPreVote(m.pre_vote);
  p.setIndex(m.index);
  p.setLogTerm(m.log_term);
  if (!m.entries.empty()) {
    auto list = p.initEntries(static_cast<unsigned>(m.entries.size()));
    for (unsigned i = 0; i < m.entries.size(); ++i) {
      const LogEntry& e = m.entries[i];
      list[i].setIndex(e.index);
      list[i].setTerm(e.epoch);
      list[i].setZxid(e.zxid);
      list[i].setData(kj::arrayPtr(e.data.data(), e.data.size()));
    }
  }
  p.setCommit(m.commit);
  p.setGranted(m.granted);
  p.setConflictTerm(m.conflict_term);
  p.setConflictIndex(m.conflict_index);
  p.setContext(m.context);
  p.setSnapshotIndex(m.snapshot_index);
  p.setSnapshotTerm(m.snapshot_term);
  p.setSnapshotZxid(m.snapshot_zxid);
  p.setOffset(m.offset);
  if (!m.data.empty()) p.setData(kj::arrayPtr(m.data.data(), m.data.size()));
  p.setDone(m.done);
  p.setBarrierKind(m.barrier_kind);
  p.setBarrierFailure(m.barrier_failure);
  p.setZxid(m.zxid);
  p.setTransfer(m.transfer);
  return to_bytes(builder);
}

std::optional<Message> decode(const Bytes& payload, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Message> {
    if (error) *error = why;
    return std::nullopt;
  };
  std::size_t size = payload.size();
  if (size == 0 || size % sizeof(capnp::word) != 0)
    return fail("payload of " + std::to_string(size) + " bytes is not a whole number of words");
  try {
    std::size_t count = size / sizeof(capnp::word);
    kj::Array<capnp::word> aligned = kj::heapArray<capnp::word>(count);
    std::memcpy(aligned.begin(), payload.data(), size);
    capnp::ReaderOptions options;
    options.traversalLimitInWords = kTraversalFactor * count + kTraversalSlackWords;
    options.nestingLimit = kNestingLimit;
    capnp::FlatArrayMessageReader reader(aligned.asPtr(), options);
    auto p = reader.getRoot<proto::Message>();
    auto type = static_cast<unsigned>(p.getType());
    if (type >= kTypeCount) return fail("unknown message type " + std::to_string(type));
    Message m;
    m.type = static_cast<Type>(type);
    m.term = p.getTerm();
    m.pre_vote = p.getPreVote();
    m.index = p.getIndex();
    m.log_term = p.getLogTerm();
    for (auto e : p.getEntries())
      m.entries.push_back(LogEntry{e.getIndex(), e.getTerm(), e.getZxid(), bytes_of(e.getData())});
    m.commit = p.getCommit();
    m.granted = p.getGranted();
    m.conflict_term = p.getConflictTerm();
    m.conflict_index = p.getConflictIndex();
    m.context = p.getContext();
    m.snapshot_index = p.getSnapshotIndex();
    m.snapshot_term = p.getSnapshotTerm();
    m.snapshot_zxid = p.getSnapshotZxid();
    m.offset = p.getOffset();
    m.data = bytes_of(p.getData());
    m.done = p.getDone();
    m.barrier_kind = p.getBarrierKind();
    m.barrier_failure = p.getBarrierFailure();
    m.zxid = p.getZxid();
    m.transfer = p.getTransfer();
    return m;
  } catch (const kj::Exception& e) {
    return fail(std::string("malformed message: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {
    return fail(std::string("malformed message: ") + e.what());
  }
}

}  // namespace quorumlab::raft::wire
