#include "quorumlab/zab/wire.hpp"

#include <cstring>
#include <stdexcept>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "quorumlab/capnp_bytes.hpp"
#include "quorumlab/zab/zab.capnp.h"

namespace quorumlab::zab {

const char* to_string(PeerState s) {
  switch (s) {
    case PeerState::looking:
      return "LOOKING";
    case PeerState::following:
      return "FOLLOWING";
    case PeerState::leading:
      return "LEADING";
    case PeerState::observing:
      return "OBSERVING";
  }
  return "?";
}

namespace wire {

const char* to_string(SyncMode m) {
  switch (m) {
    case SyncMode::diff:
      return "DIFF";
    case SyncMode::trunc:
      return "TRUNC";
    case SyncMode::trunc_diff:
      return "TRUNC+DIFF";
    case SyncMode::snap:
      return "SNAP";
  }
  return "?";
}

const char* to_string(Kind k) {
  switch (k) {
    case Kind::notification:
      return "NOTIFICATION";
    case Kind::learner_info:
      return "LEARNERINFO";
    case Kind::leader_info:
      return "LEADERINFO";
    case Kind::ack_epoch:
      return "ACKEPOCH";
    case Kind::sync:
      return "SYNC+NEWLEADER";
    case Kind::proposal:
      return "PROPOSAL";
    case Kind::ack:
      return "ACK";
    case Kind::commit:
      return "COMMIT";
    case Kind::inform:
      return "INFORM";
    case Kind::up_to_date:
      return "UPTODATE";
    case Kind::ping:
      return "PING";
    case Kind::ping_reply:
      return "PING_REPLY";
    case Kind::request:
      return "REQUEST";
    case Kind::sync_reply:
      return "SYNC_REPLY";
    case Kind::close:
      return "CLOSE";
  }
  return "?";
}

namespace {

// Readers of untrusted peers. A well-formed packet is traversed about once, so the traversal
// limit is a small multiple of its size: that admits any snapshot yet stops a crafted packet
// whose pointers overlap from making decoding arbitrarily expensive (amplification).
constexpr std::uint64_t kTraversalFactor = 4;
constexpr std::uint64_t kTraversalSlackWords = 1024;
constexpr int kNestingLimit = 16;

struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- enums -------------------------------------------------------------------------------

proto::ServerState to_proto(PeerState s) {
  switch (s) {
    case PeerState::looking:
      return proto::ServerState::LOOKING;
    case PeerState::following:
      return proto::ServerState::FOLLOWING;
    case PeerState::leading:
      return proto::ServerState::LEADING;
    case PeerState::observing:
      return proto::ServerState::OBSERVING;
  }
  return proto::ServerState::LOOKING;
}

PeerState from_proto(proto::ServerState s) {
  switch (s) {
    case proto::ServerState::LOOKING:
      return PeerState::looking;
    case proto::ServerState::FOLLOWING:
      return PeerState::following;
    case proto::ServerState::LEADING:
      return PeerState::leading;
    case proto::ServerState::OBSERVING:
      return PeerState::observing;
  }
  throw Malformed("unknown server state");
}

proto::SyncMode to_proto(SyncMode m) {
  switch (m) {
    case SyncMode::diff:
      return proto::SyncMode::DIFF;
    case SyncMode::trunc:
      return proto::SyncMode::TRUNC;
    case SyncMode::trunc_diff:
      return proto::SyncMode::TRUNC_DIFF;
    case SyncMode::snap:
      return proto::SyncMode::SNAP;
  }
  return proto::SyncMode::DIFF;
}

SyncMode from_proto(proto::SyncMode m) {
  switch (m) {
    case proto::SyncMode::DIFF:
      return SyncMode::diff;
    case proto::SyncMode::TRUNC:
      return SyncMode::trunc;
    case proto::SyncMode::TRUNC_DIFF:
      return SyncMode::trunc_diff;
    case proto::SyncMode::SNAP:
      return SyncMode::snap;
  }
  throw Malformed("unknown sync mode");
}

proto::BarrierKind to_proto(BarrierKind k) {
  switch (k) {
    case BarrierKind::sync_op:
      return proto::BarrierKind::SYNC_OP;
    case BarrierKind::read_index:
      return proto::BarrierKind::READ_INDEX;
    case BarrierKind::leader_commit:
      return proto::BarrierKind::LEADER_COMMIT;
    case BarrierKind::lease:
      return proto::BarrierKind::LEASE;
  }
  throw Malformed("unknown barrier kind");
}

BarrierKind from_proto(proto::BarrierKind k) {
  switch (k) {
    case proto::BarrierKind::SYNC_OP:
      return BarrierKind::sync_op;
    case proto::BarrierKind::READ_INDEX:
      return BarrierKind::read_index;
    case proto::BarrierKind::LEADER_COMMIT:
      return BarrierKind::leader_commit;
    case proto::BarrierKind::LEASE:
      return BarrierKind::lease;
  }
  throw Malformed("unknown barrier kind");
}

proto::BarrierFailure to_proto(BarrierFailure f) {
  switch (f) {
    case BarrierFailure::none:
      return proto::BarrierFailure::NONE;
    case BarrierFailure::not_leader:
      return proto::BarrierFailure::NOT_LEADER;
    case BarrierFailure::no_leader:
      return proto::BarrierFailure::NO_LEADER;
    case BarrierFailure::lease_expired:
      return proto::BarrierFailure::LEASE_EXPIRED;
    case BarrierFailure::unsupported:
      return proto::BarrierFailure::UNSUPPORTED;
  }
  throw Malformed("unknown barrier failure");
}

BarrierFailure from_proto(proto::BarrierFailure f) {
  switch (f) {
    case proto::BarrierFailure::NONE:
      return BarrierFailure::none;
    case proto::BarrierFailure::NOT_LEADER:
      return BarrierFailure::not_leader;
    case proto::BarrierFailure::NO_LEADER:
      return BarrierFailure::no_leader;
    case proto::BarrierFailure::LEASE_EXPIRED:
      return BarrierFailure::lease_expired;
    case proto::BarrierFailure::UNSUPPORTED:
      return BarrierFailure::unsupported;
  }
  throw Malformed("unknown barrier failure");
}

// ---- entries and snapshots ---------------------------------------------------------------

capnp::Data::Reader data_of(const Bytes& b) {
  return capnp::Data::Reader(b.data(), b.size());
}
Bytes bytes_of(capnp::Data::Reader d) {
  return Bytes(d.begin(), d.end());
}

void put_entries(capnp::List<proto::Entry>::Builder out, const std::vector<LogEntry>& entries) {
  for (unsigned i = 0; i < entries.size(); ++i) {
    auto e = out[i];
    e.setIndex(entries[i].index);
    e.setEpoch(entries[i].epoch);
    e.setZxid(entries[i].zxid);
    e.setData(data_of(entries[i].data));
  }
}

std::vector<LogEntry> get_entries(capnp::List<proto::Entry>::Reader in) {
  std::vector<LogEntry> out;
  out.reserve(in.size());
  for (auto e : in)
    out.push_back(LogEntry{e.getIndex(), e.getEpoch(), e.getZxid(), bytes_of(e.getData())});
  return out;
}

// ---- encode ------------------------------------------------------------------------------

struct Encoder {
  proto::QuorumPacket::Builder p;

  void operator()(const Notification& n) {
    auto b = p.initNotification();
    b.setState(to_proto(n.state));
    b.setLeader(n.leader);
    b.setZxid(n.zxid);
    b.setElectionEpoch(n.election_epoch);
    b.setPeerEpoch(n.peer_epoch);
  }
  void operator()(const LearnerInfo& m) {
    auto b = p.initLearnerInfo();
    b.setAcceptedEpoch(m.accepted_epoch);
    b.setObserver(m.observer);
    b.setProtocolVersion(m.protocol_version);
  }
  void operator()(const LeaderInfo& m) {
    auto b = p.initLeaderInfo();
    b.setNewEpoch(m.new_epoch);
    b.setProtocolVersion(m.protocol_version);
  }
  void operator()(const AckEpoch& m) {
    auto b = p.initAckEpoch();
    b.setCurrentEpoch(m.current_epoch);
    b.setCounts(m.counts);
    b.setLastIndex(m.last_index);
    b.setLastZxid(m.last_zxid);
    b.setBaseIndex(m.base_index);
    b.setBaseZxid(m.base_zxid);
    auto segs = b.initSegments(static_cast<unsigned>(m.segments.size()));
    for (unsigned i = 0; i < m.segments.size(); ++i) {
      segs[i].setEpoch(m.segments[i].epoch);
      segs[i].setFirstIndex(m.segments[i].first_index);
      segs[i].setLastIndex(m.segments[i].last_index);
    }
    b.setSegmentsComplete(m.segments_complete);
  }
  void operator()(const Sync& m) {
    auto b = p.initSync();
    b.setMode(to_proto(m.mode));
    b.setCommonIndex(m.common_index);
    b.setCommonZxid(m.common_zxid);
    b.setHasSnapshot(m.snapshot.has_value());
    if (m.snapshot) {
      auto s = b.initSnapshot();
      s.setLastIndex(m.snapshot->last_index);
      s.setLastEpoch(m.snapshot->last_epoch);
      s.setLastZxid(m.snapshot->last_zxid);
      s.setData(data_of(m.snapshot->data));
    }
    put_entries(b.initEntries(static_cast<unsigned>(m.entries.size())), m.entries);
    b.setNewLeaderIndex(m.newleader_index);
    b.setNewLeaderZxid(m.newleader_zxid);
    b.setFinal(m.final);
    b.setSnapshotOffset(m.snapshot_offset);
    b.setSnapshotTotal(m.snapshot_total);
  }
  void operator()(const Proposal& m) {
    put_entries(p.initProposal().initEntries(static_cast<unsigned>(m.entries.size())), m.entries);
  }
  void operator()(const Ack& m) {
    auto b = p.initAck();
    b.setIndex(m.index);
    b.setZxid(m.zxid);
  }
  void operator()(const Commit& m) {
    auto b = p.initCommit();
    b.setIndex(m.index);
    b.setZxid(m.zxid);
  }
  void operator()(const Inform& m) {
    put_entries(p.initInform().initEntries(static_cast<unsigned>(m.entries.size())), m.entries);
  }
  void operator()(const UpToDate& m) {
    auto b = p.initUpToDate();
    b.setCommitIndex(m.commit_index);
    b.setCommitZxid(m.commit_zxid);
  }
  void operator()(const Ping& m) { p.initPing().setRound(m.round); }
  void operator()(const PingReply& m) {
    auto b = p.initPingReply();
    b.setAckIndex(m.ack_index);
    b.setAckZxid(m.ack_zxid);
    b.setRound(m.round);
  }
  void operator()(const Request& m) {
    auto b = p.initRequest();
    b.setBarrierId(m.barrier_id);
    b.setKind(to_proto(m.kind));
  }
  void operator()(const SyncReply& m) {
    auto b = p.initSyncReply();
    b.setBarrierId(m.barrier_id);
    b.setOk(m.ok);
    b.setZxid(m.zxid);
    b.setIndex(m.index);
    b.setFailure(to_proto(m.failure));
  }
  void operator()(const Close&) { p.setClose(); }
};

// ---- decode ------------------------------------------------------------------------------

Body decode_body(proto::QuorumPacket::Reader p) {
  switch (p.which()) {
    case proto::QuorumPacket::NOTIFICATION: {
      auto r = p.getNotification();
      return Notification{from_proto(r.getState()), r.getLeader(), r.getZxid(),
                          r.getElectionEpoch(), r.getPeerEpoch()};
    }
    case proto::QuorumPacket::LEARNER_INFO: {
      auto r = p.getLearnerInfo();
      return LearnerInfo{r.getAcceptedEpoch(), r.getObserver(), r.getProtocolVersion()};
    }
    case proto::QuorumPacket::LEADER_INFO: {
      auto r = p.getLeaderInfo();
      return LeaderInfo{r.getNewEpoch(), r.getProtocolVersion()};
    }
    case proto::QuorumPacket::ACK_EPOCH: {
      auto r = p.getAckEpoch();
      AckEpoch m;
      m.current_epoch = r.getCurrentEpoch();
      m.counts = r.getCounts();
      m.last_index = r.getLastIndex();
      m.last_zxid = r.getLastZxid();
      m.base_index = r.getBaseIndex();
      m.base_zxid = r.getBaseZxid();
      for (auto s : r.getSegments()) {
        m.segments.push_back(EpochSegment{s.getEpoch(), s.getFirstIndex(), s.getLastIndex()});
      }
      m.segments_complete = r.getSegmentsComplete();
      return m;
    }
    case proto::QuorumPacket::SYNC: {
      auto r = p.getSync();
      Sync m;
      m.mode = from_proto(r.getMode());
      m.common_index = r.getCommonIndex();
      m.common_zxid = r.getCommonZxid();
      if (r.getHasSnapshot()) {
        auto s = r.getSnapshot();
        m.snapshot =
            Snapshot{s.getLastIndex(), s.getLastEpoch(), s.getLastZxid(), bytes_of(s.getData())};
      }
      m.entries = get_entries(r.getEntries());
      m.newleader_index = r.getNewLeaderIndex();
      m.newleader_zxid = r.getNewLeaderZxid();
      m.final = r.getFinal();
      m.snapshot_offset = r.getSnapshotOffset();
      m.snapshot_total = r.getSnapshotTotal();
      return m;
    }
    case proto::QuorumPacket::PROPOSAL:
      return Proposal{get_entries(p.getProposal().getEntries())};
    case proto::QuorumPacket::ACK:
      return Ack{p.getAck().getIndex(), p.getAck().getZxid()};
    case proto::QuorumPacket::COMMIT:
      return Commit{p.getCommit().getIndex(), p.getCommit().getZxid()};
    case proto::QuorumPacket::INFORM:
      return Inform{get_entries(p.getInform().getEntries())};
    case proto::QuorumPacket::UP_TO_DATE:
      return UpToDate{p.getUpToDate().getCommitIndex(), p.getUpToDate().getCommitZxid()};
    case proto::QuorumPacket::PING:
      return Ping{p.getPing().getRound()};
    case proto::QuorumPacket::PING_REPLY: {
      auto r = p.getPingReply();
      return PingReply{r.getAckIndex(), r.getAckZxid(), r.getRound()};
    }
    case proto::QuorumPacket::REQUEST:
      return Request{p.getRequest().getBarrierId(), from_proto(p.getRequest().getKind())};
    case proto::QuorumPacket::SYNC_REPLY: {
      auto r = p.getSyncReply();
      return SyncReply{r.getBarrierId(), r.getOk(), r.getZxid(), r.getIndex(),
                       from_proto(r.getFailure())};
    }
    case proto::QuorumPacket::CLOSE:
      return Close{};
  }
  throw Malformed("unknown packet type " + std::to_string(static_cast<unsigned>(p.which())));
}

}  // namespace

Bytes encode(const Packet& packet) {
  capnp::MallocMessageBuilder builder;
  auto p = builder.initRoot<proto::QuorumPacket>();
  p.setEpoch(packet.epoch);
  p.setNonce(packet.nonce);
  p.setSeq(packet.seq);
  std::visit(Encoder{p}, packet.body);
  return to_bytes(builder);
}

std::optional<Packet> decode(const Bytes& payload, std::string* error) {
  return decode(payload.data(), payload.size(), error);
}

std::optional<Packet> decode(const std::uint8_t* data, std::size_t size, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Packet> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (size == 0 || size % sizeof(capnp::word) != 0) {
    return fail("payload of " + std::to_string(size) + " bytes is not a whole number of words");
  }
  try {
    kj::Array<capnp::word> aligned;
    kj::ArrayPtr<const capnp::word> words;
    std::size_t count = size / sizeof(capnp::word);
    if (reinterpret_cast<std::uintptr_t>(data) % alignof(capnp::word) != 0) {
      aligned = kj::heapArray<capnp::word>(count);
      std::memcpy(aligned.begin(), data, size);
      words = kj::ArrayPtr<const capnp::word>(aligned.begin(), aligned.size());
    } else {
      words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(data), count);
    }
    capnp::ReaderOptions options;
    options.traversalLimitInWords = kTraversalFactor * count + kTraversalSlackWords;
    options.nestingLimit = kNestingLimit;
    capnp::FlatArrayMessageReader reader(words, options);
    auto p = reader.getRoot<proto::QuorumPacket>();
    Packet out;
    out.epoch = p.getEpoch();
    out.nonce = p.getNonce();
    out.seq = p.getSeq();
    out.body = decode_body(p);
    return out;
  } catch (const kj::Exception& e) {
    return fail(std::string("malformed packet: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {
    return fail(std::string("malformed packet: ") + e.what());
  } catch (...) {
    return fail("malformed packet");
  }
}

std::optional<Kind> peek_kind(const Bytes& payload) {
  auto p = decode(payload);
  if (!p) return std::nullopt;
  return p->kind();
}

}  // namespace wire
}  // namespace quorumlab::zab
