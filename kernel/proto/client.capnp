# The native client protocol: Cap'n Proto messages over ZeroMQ (client DEALER -> server ROUTER).
#
# One ZeroMQ message = one ClientMessage or ServerMessage (single frame, Cap'n Proto unpacked
# encoding). Semantics follow ZooKeeper's client protocol (reference §2):
# - The first message of a connection is `connect`. The server answers `connectResponse`.
#   A client whose lastZxidSeen is ahead of the server is refused (err = -4 CONNECTIONLOSS,
#   "server behind"); a reconnect with an unknown/expired session or wrong password gets
#   err = -112 SESSIONEXPIRED, sessionId 0.
# - Then any number of `request`s, each with a client-chosen xid (> 0, increasing). Replies
#   come in request order per session. Pings use xid -2 and are answered at once.
# - Notifications may arrive at any time; a notification is always sent before the reply to
#   any later request that would observe the change it announces.
# - `zxid` in a response is the server's last applied zxid after serving the request.
# Error codes are ZooKeeper's (0 OK, -101 NONODE, ...).
@0xf2816f4d8862385d;

$import "/capnp/c++.capnp".namespace("quorumlab::proto");

struct Id {
  scheme @0 :Text;
  id @1 :Text;
}

struct Acl {
  perms @0 :Int32;
  id @1 :Id;
}

struct Stat {
  czxid @0 :Int64;
  mzxid @1 :Int64;
  ctime @2 :Int64;
  mtime @3 :Int64;
  version @4 :Int32;
  cversion @5 :Int32;
  aversion @6 :Int32;
  ephemeralOwner @7 :Int64;
  dataLength @8 :Int32;
  numChildren @9 :Int32;
  pzxid @10 :Int64;
}

struct ConnectRequest {
  protocolVersion @0 :Int32;     # 1
  lastZxidSeen @1 :Int64;
  timeoutMs @2 :Int32;           # requested; the server clamps it
  sessionId @3 :Int64;           # 0 = new session
  passwd @4 :Data;               # 16 bytes; zero for a new session
  readOnly @5 :Bool;
}

struct ConnectResponse {
  err @0 :Int32;                 # 0, -112 SESSIONEXPIRED, -4 server behind, ...
  timeoutMs @1 :Int32;           # negotiated
  sessionId @2 :Int64;
  passwd @3 :Data;
  serverId @4 :UInt32;
  lastZxid @5 :Int64;            # server's last applied zxid
  message @6 :Text;              # human-readable reason when err != 0
  readOnly @7 :Bool;             # a read-only session (the server is outside a quorum)
}

# Sub-operations of multi (write) and multiRead (read).
struct MultiOp {
  union {
    create @0 :CreateOp;
    delete @1 :PathVersion;
    setData @2 :SetDataOp;
    check @3 :PathVersion;
    getData @4 :Text;            # multiRead only (no watch)
    getChildren @5 :Text;        # multiRead only (no watch)
  }
}

struct CreateOp {
  path @0 :Text;
  data @1 :Data;
  acl @2 :List(Acl);
  mode @3 :Int32;                # CreateMode 0..6 (7: a sequential container)
  ttlMs @4 :Int64;               # modes 5 and 6
  dataNull @5 :Bool;             # null data (jute buffer length -1), data then empty
}

struct PathVersion {
  path @0 :Text;
  version @1 :Int32;             # -1 = any
}

struct PathWatch {
  path @0 :Text;
  watch @1 :Bool;
}

struct SetDataOp {
  path @0 :Text;
  data @1 :Data;
  version @2 :Int32;
  dataNull @3 :Bool;             # null data (jute buffer length -1), data then empty
}

struct SetAclOp {
  path @0 :Text;
  acl @1 :List(Acl);
  version @2 :Int32;             # expected aversion, -1 = any
}

struct WatchOp {
  path @0 :Text;
  type @1 :Int32;                # WatcherType: 1 children, 2 data, 3 any, 4 persistent, 5 recursive
}

struct SetWatches {
  relativeZxid @0 :Int64;
  data @1 :List(Text);
  exist @2 :List(Text);
  child @3 :List(Text);
  persistent @4 :List(Text);
  persistentRecursive @5 :List(Text);
}

struct Request {
  xid @0 :Int32;
  op :union {
    create @1 :CreateOp;
    delete @2 :PathVersion;
    exists @3 :PathWatch;
    getData @4 :PathWatch;
    setData @5 :SetDataOp;
    getAcl @6 :Text;
    setAcl @7 :SetAclOp;
    getChildren @8 :PathWatch;     # returns children and the parent's stat
    sync @9 :Text;
    check @10 :PathVersion;
    multi @11 :List(MultiOp);
    multiRead @12 :List(MultiOp);
    checkWatches @13 :WatchOp;
    removeWatches @14 :WatchOp;
    addWatch @15 :AddWatchOp;
    setWatches @16 :SetWatches;
    getEphemerals @17 :Text;       # prefix
    getAllChildrenNumber @18 :Text;
    addAuth @19 :AuthOp;
    whoAmI @20 :Void;
    closeSession @21 :Void;
    ping @22 :Void;
  }
}

struct AddWatchOp {
  path @0 :Text;
  mode @1 :Int32;                # 0 persistent, 1 persistent recursive
}

struct AuthOp {
  scheme @0 :Text;               # "digest"
  auth @1 :Data;                 # "user:password"
}

struct OpResult {
  err @0 :Int32;                 # 0 or the op's error (multi: -2 for ops after the failing one)
  body :union {
    none @1 :Void;
    created @2 :Created;
    stat @3 :Stat;
    data @4 :DataResult;
    children @5 :ChildrenResult;
  }
}

struct Created {
  path @0 :Text;
  stat @1 :Stat;
}

struct DataResult {
  data @0 :Data;
  stat @1 :Stat;
  dataNull @2 :Bool;             # the node holds null data (ZooKeeper answers length -1)
}

struct ChildrenResult {
  children @0 :List(Text);
  stat @1 :Stat;
}

struct Response {
  xid @0 :Int32;
  zxid @1 :Int64;
  err @2 :Int32;
  body :union {
    none @3 :Void;
    created @4 :Created;          # create
    stat @5 :Stat;                # exists, setData, setAcl, check
    data @6 :DataResult;          # getData
    acl @7 :AclResult;            # getAcl
    children @8 :ChildrenResult;  # getChildren
    path @9 :Text;                # sync
    multi @10 :List(OpResult);    # multi, multiRead
    ephemerals @11 :List(Text);   # getEphemerals
    count @12 :Int64;             # getAllChildrenNumber
    whoAmI @13 :List(Id);
  }
}

struct AclResult {
  acl @0 :List(Acl);
  stat @1 :Stat;
}

struct Notification {
  type @0 :Int32;                # EventType: 1 created, 2 deleted, 3 data changed, 4 children changed
  state @1 :Int32;               # KeeperState, always 3 (SyncConnected) from the server
  path @2 :Text;
  zxid @3 :Int64;                # zxid of the txn that fired it, -1 if none
}

struct ClientMessage {
  union {
    connect @0 :ConnectRequest;
    request @1 :Request;
    status @2 :Void;             # monitoring: answered with `status`, no session needed
    transfer @3 :UInt32;         # admin: hand the leadership to this voter (Raft 3.10); answered
                                 # with `transfer` at once, no session needed
    netRules @4 :NetRules;       # admin: replace the fault rules on this server (its peer
                                 # links, disk, tick clock, client links); answered with
                                 # `netRules` (the rules in force), no session
  }
}

# A fault on the link from this server to one peer (network faults on real clusters, without
# root or firewall rules): what this server sends to `peer` is dropped with probability
# dropPct/100, otherwise held delayMs plus up to jitterMs, in order. A partition is dropPct 100
# in the rules of the servers on both sides (one side only: a one-way partition).
struct NetRule {
  peer @0 :UInt32;
  dropPct @1 :UInt32;
  delayMs @2 :UInt32;
  jitterMs @3 :UInt32;
}

# Every fault rule of one server. A request replaces all of them (a field left out: no such
# fault); an answer carries the rules in force.
struct NetRules {
  rules @0 :List(NetRule);
  error @1 :Text;                # in an answer: why the rules were not taken ("" when they were)
  diskDelayMs @2 :UInt32;        # slow disk: each fsync of the storage plugin takes this much
                                 # longer (Storage::set_fsync_delay)
  clockSkewPpm @3 :Int32;        # clock skew: the tick clock runs at rate 1 + ppm / 1e6
  clientsCut @4 :Bool;           # the client links are cut: client messages are neither taken
                                 # nor answered (status and admin requests still are)
}

# Answer to a `transfer` request: whether the broadcast plugin started the transfer. The
# outcome shows in later `status` answers (the target leads, or this server leads again with
# its plain sub-state when the plugin gave the transfer up).
struct TransferReply {
  serverId @0 :UInt32;
  status @1 :Text;               # started, unsupported, not leader, not a voter, already leader
  leader @2 :UInt32;             # who leads as far as this server knows, 0 when unknown
  message @3 :Text;              # one line for the operator
}

# What a server reports about itself (for `qlab cluster status`, monitoring and tests).
struct ServerStatus {
  serverId @0 :UInt32;
  role @1 :Text;                 # leader, follower, learner, looking, candidate
  leader @2 :UInt32;             # 0 when unknown
  epoch @3 :UInt64;              # epoch or term
  appliedZxid @4 :Int64;
  committedZxid @5 :Int64;
  digest @6 :UInt64;             # digest of the znode tree
  znodeCount @7 :UInt64;
  sessionCount @8 :UInt64;
  connectionCount @9 :UInt64;
  requests @10 :UInt64;
  txnsApplied @11 :UInt64;
  fsyncs @12 :UInt64;
  broadcast @13 :Text;           # plugin names
  storage @14 :Text;
  readPolicy @15 :Text;
  canPropose @16 :Bool;
  subState @17 :Text;            # the broadcast plugin's own state ("LEADING/broadcast")
  ticks @18 :UInt64;             # ticks delivered since the process started (stalls included)
  counters @19 :List(Counter);   # the read path's counters (node::read_counters), in order
  netRules @20 :List(NetRule);   # the fault rules in force on this server's peer links
  diskDelayMs @21 :UInt32;       # the other fault rules in force (NetRules)
  clockSkewPpm @22 :Int32;
  clientsCut @23 :Bool;
}

struct Counter {
  name @0 :Text;
  value @1 :UInt64;
}

struct ServerMessage {
  union {
    connectResponse @0 :ConnectResponse;
    response @1 :Response;
    notification @2 :Notification;
    closing @3 :Text;            # the server closes this session's connection (reason)
    status @4 :ServerStatus;
    transfer @5 :TransferReply;
    netRules @6 :NetRules;
  }
}
