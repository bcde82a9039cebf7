# Kernel envelope for traffic between replicas (node DEALER -> peer ROUTER).
# Broadcast plugins own the schema of `broadcast` payloads; the kernel never looks inside.
@0xd567eb95fb137605;

$import "/capnp/c++.capnp".namespace("quorumlab::proto");

struct PeerEnvelope {
  from @0 :UInt32;
  union {
    broadcast @1 :Data;          # a broadcast plugin message
    forward @2 :List(Data);      # encoded txns a follower forwards to the leader
    touch @3 :List(SessionTouch); # session liveness reports a follower sends the leader
    hello @4 :Void;              # first message on a new connection
    revalidate @5 :List(SessionTouch);     # a learner asks the leader: is this session alive?
    revalidated @6 :List(SessionValidity); # the leader's answer
  }
}

# A client reconnects with an existing session to a learner: as ZooKeeper's revalidateSession,
# the learner asks the leader, whose tracker alone knows whether the session is still alive
# (the learner's tree still has a session the leader has just expired).
struct SessionValidity {
  sessionId @0 :Int64;
  valid @1 :Bool;
}

struct SessionTouch {
  sessionId @0 :Int64;
  timeoutMs @1 :Int32;
}
