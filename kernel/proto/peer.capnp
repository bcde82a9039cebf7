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
  }
}

struct SessionTouch {
  sessionId @0 :Int64;
  timeoutMs @1 :Int32;
}
