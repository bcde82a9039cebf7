# Quorum packets of the `zab` broadcast plugin (ZooKeeper's ZAB), carried opaquely in the
# kernel's peer envelope. Names follow ZooKeeper (Leader.java packet types, FastLeaderElection).
#
# Leader -> learner packets form one ordered stream per connection (ZooKeeper runs them over a
# TCP connection): they carry the learner's connection nonce and a sequence number from 1. A
# learner that sees a gap treats the connection as broken and goes back to LOOKING.
@0xb5462f936d453c6e;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("quorumlab::zab::proto");

enum ServerState {
  looking @0;
  following @1;
  leading @2;
  observing @3;
}

enum SyncMode {
  diff @0;       # learner is a prefix of the leader: send the missing proposals
  trunc @1;      # learner has an extra tail: cut it
  truncDiff @2;  # learner diverged: cut to the common prefix, then send the rest
  snap @3;       # learner is behind the leader's compaction point: send a snapshot
}

enum BarrierKind {
  syncOp @0;
  readIndex @1;
  leaderCommit @2;
  lease @3;
}

enum BarrierFailure {
  none @0;
  notLeader @1;
  noLeader @2;
  leaseExpired @3;
  unsupported @4;
}

struct Entry {
  index @0 :UInt64;
  epoch @1 :UInt64;
  zxid @2 :UInt64;
  data @3 :Data;
}

struct Snapshot {
  lastIndex @0 :UInt64;
  lastEpoch @1 :UInt64;
  lastZxid @2 :UInt64;
  data @3 :Data;
}

# A run of log entries of one epoch in a learner's log, by index.
struct EpochSegment {
  epoch @0 :UInt64;
  firstIndex @1 :UInt64;
  lastIndex @2 :UInt64;
}

# Fast Leader Election vote (FastLeaderElection.Notification).
struct Notification {
  state @0 :ServerState;
  leader @1 :UInt32;          # proposed leader (0: none, an observer's initial vote)
  zxid @2 :UInt64;            # proposed leader's last logged zxid
  electionEpoch @3 :UInt64;   # logical clock of the sender
  peerEpoch @4 :UInt64;       # proposed leader's current epoch
}

# FOLLOWERINFO / OBSERVERINFO (LearnerInfo; ZooKeeper puts acceptedEpoch in the zxid).
struct LearnerInfo {
  acceptedEpoch @0 :UInt64;
  observer @1 :Bool;
  protocolVersion @2 :UInt32;
}

# LEADERINFO: the new epoch (zxid = newEpoch << 32 in ZooKeeper).
struct LeaderInfo {
  newEpoch @0 :UInt64;
  protocolVersion @1 :UInt32;
}

# ACKEPOCH: the learner's currentEpoch and history summary. `counts` is false when the learner
# had already accepted this epoch (ZooKeeper sends currentEpoch -1): it is synced, but its reply
# does not count towards the epoch quorum. The epoch segments (newest first) let the leader find
# the exact common prefix for TRUNC/DIFF.
struct AckEpoch {
  currentEpoch @0 :UInt64;
  counts @1 :Bool;
  lastIndex @2 :UInt64;
  lastZxid @3 :UInt64;
  baseIndex @4 :UInt64;
  baseZxid @5 :UInt64;
  segments @6 :List(EpochSegment);
  segmentsComplete @7 :Bool;
}

# DIFF / TRUNC / TRUNC+DIFF / SNAP followed by NEWLEADER. A DIFF too large for one message
# is cut into several packets: the first carries the mode, the rest continue it (mode DIFF,
# commonIndex = the learner's last index so far); NEWLEADER takes effect with the final one.
struct Sync {
  mode @0 :SyncMode;
  commonIndex @1 :UInt64;     # keep entries up to here (TRUNC point / DIFF start - 1)
  commonZxid @2 :UInt64;
  hasSnapshot @3 :Bool;
  snapshot @4 :Snapshot;
  entries @5 :List(Entry);    # proposals after the common prefix (or the snapshot)
  newLeaderIndex @6 :UInt64;  # NEWLEADER: the learner's log ends here once synced
  newLeaderZxid @7 :UInt64;
  final @8 :Bool = true;      # false: more SYNC packets follow before NEWLEADER
  # A snapshot too large for one message comes in parts: snapshot.data holds the bytes from
  # snapshotOffset of snapshotTotal (0: the whole snapshot is in this packet).
  snapshotOffset @9 :UInt64;
  snapshotTotal @10 :UInt64;
}

struct Proposal {
  entries @0 :List(Entry);
}

# ACK: everything up to index is durable and identical to the leader's log (cumulative).
struct Ack {
  index @0 :UInt64;
  zxid @1 :UInt64;
}

# COMMIT: everything up to index is committed (cumulative).
struct Commit {
  index @0 :UInt64;
  zxid @1 :UInt64;
}

# INFORM: committed proposals, for observers.
struct Inform {
  entries @0 :List(Entry);
}

struct UpToDate {
  commitIndex @0 :UInt64;
  commitZxid @1 :UInt64;
}

# PING: `round` numbers the leader's read-index quorum rounds.
struct Ping {
  round @0 :UInt64;
}

# PING reply: the learner's durable acknowledged point and the newest round it saw.
struct PingReply {
  ackIndex @0 :UInt64;
  ackZxid @1 :UInt64;
  round @2 :UInt64;
}

# REQUEST: a learner forwards a barrier (sync_op or read_index) to the leader.
struct Request {
  barrierId @0 :UInt64;
  kind @1 :BarrierKind;
}

# SYNC: the leader's answer to a forwarded barrier.
struct SyncReply {
  barrierId @0 :UInt64;
  ok @1 :Bool;
  zxid @2 :UInt64;
  index @3 :UInt64;
  failure @4 :BarrierFailure;
}

struct QuorumPacket {
  epoch @0 :UInt64;  # the leader's epoch (0 for election notifications and LearnerInfo)
  nonce @1 :UInt64;  # the learner's connection nonce (0 for election notifications)
  seq @2 :UInt64;    # position in the leader -> learner stream (0 otherwise)
  union {
    notification @3 :Notification;
    learnerInfo @4 :LearnerInfo;
    leaderInfo @5 :LeaderInfo;
    ackEpoch @6 :AckEpoch;
    sync @7 :Sync;
    proposal @8 :Proposal;
    ack @9 :Ack;
    commit @10 :Commit;
    inform @11 :Inform;
    upToDate @12 :UpToDate;
    ping @13 :Ping;
    pingReply @14 :PingReply;
    request @15 :Request;
    syncReply @16 :SyncReply;
    close @17 :Void;  # the leader dropped the connection (a closed TCP connection in ZooKeeper)
  }
}
