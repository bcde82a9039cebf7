# Messages of the `raft` broadcast plugin (Ongaro & Ousterhout, "In Search of an Understandable
# Consensus Algorithm", Figure 2, and Ongaro's thesis), carried opaquely in the kernel's peer
# envelope. One flat message with a type, as etcd-raft's raftpb.Message: fields a type does not
# use stay at their defaults.
@0xd3a1c5e7f2b49a61;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("quorumlab::raft::proto");

enum MessageType {
  requestVote @0;           # 3.4 RequestVote RPC (preVote: 9.6 PreVote, term = candidate's + 1)
  requestVoteResponse @1;
  appendEntries @2;         # 3.5 AppendEntries RPC with entries
  appendEntriesResponse @3;
  heartbeat @4;             # 3.4 an empty AppendEntries: commit = min(match, leader commit)
  heartbeatResponse @5;
  installSnapshot @6;       # 5.3 InstallSnapshot RPC, one chunk
  installSnapshotResponse @7;
  barrierRequest @8;        # a follower forwards a read barrier to its leader (6.4)
  barrierResponse @9;
  timeoutNow @10;           # 3.10 leadership transfer: the leader tells its target to campaign now
}

struct Entry {
  index @0 :UInt64;
  term @1 :UInt64;
  zxid @2 :UInt64;
  data @3 :Data;
}

struct Message {
  type @0 :MessageType;
  term @1 :UInt64;
  preVote @2 :Bool;
  # RequestVote: lastLogIndex/lastLogTerm. AppendEntries: prevLogIndex/prevLogTerm.
  # AppendEntriesResponse: the matched index (success) or the rejected prevLogIndex.
  index @3 :UInt64;
  logTerm @4 :UInt64;
  entries @5 :List(Entry);
  commit @6 :UInt64;        # leaderCommit
  granted @7 :Bool;         # vote granted / append succeeded
  # AppendEntriesResponse on reject (fast backtracking): the conflicting term (0 when the
  # follower's log is shorter) and the first index the follower holds of that term.
  conflictTerm @8 :UInt64;
  conflictIndex @9 :UInt64;
  # Heartbeat/HeartbeatResponse: the read-index round (6.4). Barrier messages: the barrier id.
  context @10 :UInt64;
  # InstallSnapshot: the snapshot's last included index/term/zxid, the chunk's offset in the
  # snapshot data, the chunk, whether it is the last one.
  snapshotIndex @11 :UInt64;
  snapshotTerm @12 :UInt64;
  snapshotZxid @13 :UInt64;
  offset @14 :UInt64;
  data @15 :Data;
  done @16 :Bool;
  # Barrier messages.
  barrierKind @17 :UInt8;
  barrierFailure @18 :UInt8;
  zxid @19 :UInt64;
  # RequestVote of a candidate that a leader's TimeoutNow started (3.10): voters do not refuse
  # it for having heard from that leader recently (check_quorum), and it skips PreVote.
  transfer @20 :Bool;
}
