// Histories from real clients: the file format (round trip, every malformed input refused with
// its line) and check_recorded_history, the checks `qlab check` runs, on planted histories:
// each bad one names the property it breaks, so a checker that stopped looking would fail here.
#include <gtest/gtest.h>

#include <sstream>

#include "quorumlab/sim/checkers.hpp"
#include "quorumlab/sim/history_io.hpp"

using namespace quorumlab;
using namespace quorumlab::sim;

namespace {

constexpr Zxid kZ1 = 0x100000001, kZ2 = 0x100000002, kZ3 = 0x100000003, kZ4 = 0x200000001;

/// Builds a history of one key, /k, as a bench records it.
struct Recorder {
  History h;
  HistoryOp& op(OpKind kind, SessionId session, std::int64_t invoke, std::int64_t complete,
                Zxid zxid) {
    HistoryOp o;
    o.id = h.ops.size();
    o.client = static_cast<int>(session);
    o.session = session;
    o.kind = kind;
    o.key = "/k";
    o.invoke_us = invoke;
    o.complete_us = complete;
    o.zxid = zxid;
    h.ops.push_back(o);
    return h.ops.back();
  }
  void create(SessionId s, std::int64_t t0, std::int64_t t1, Zxid z, const std::string& data) {
    auto& o = op(OpKind::create, s, t0, t1, z);
    o.data = data;
    o.observed = ZnodeState{true, data, 0, z, z};
  }
  void set(SessionId s, std::int64_t t0, std::int64_t t1, Zxid z, const std::string& data,
           std::int32_t version) {
    auto& o = op(OpKind::set, s, t0, t1, z);
    o.data = data;
    o.observed = ZnodeState{true, data, version, z, kZ1};
  }
  void get(SessionId s, std::int64_t t0, std::int64_t t1, Zxid at, const std::string& data,
           std::int32_t version, Zxid mzxid) {
    auto& o = op(OpKind::get, s, t0, t1, at);
    o.observed = ZnodeState{true, data, version, mzxid, kZ1};
  }
};

/// A clean run: create, two sets, reads that saw each in turn, a final read.
Recorder clean() {
  Recorder r;
  r.create(1, 0, 10, kZ1, "a");
  r.set(1, 20, 30, kZ2, "b", 1);
  r.get(2, 25, 35, kZ1, "a", 0, kZ1);  // concurrent with the set: may miss it
  r.set(2, 40, 50, kZ3, "c", 2);
  r.get(1, 60, 70, kZ3, "c", 2, kZ3);
  return r;
}

HistoryCheckOptions zookeeper_model() {
  return {};
}
HistoryCheckOptions linearizable_model() {
  HistoryCheckOptions o;
  o.linearizable_reads = true;
  return o;
}

}  // namespace

TEST(HistoryFile, RoundTripKeepsEveryField) {
  Recorder r = clean();
  r.op(OpKind::set, 3, 80, HistoryOp::kNoReply, 0).data = "lost?";
  auto& d = r.op(OpKind::remove, 3, 90, 95, kZ4);
  d.version = 2;
  std::stringstream file;
  write_history_header(file, {{"source", "test"}});
  for (const auto& op : r.h.ops)
    write_history_op(file, op);
  auto loaded = read_history(file, "mem");
  EXPECT_EQ(loaded.meta["source"], "test");
  EXPECT_EQ(loaded.meta["quorumlab_history"], kHistoryFormatVersion);
  ASSERT_EQ(loaded.history.ops.size(), r.h.ops.size());
  for (std::size_t i = 0; i < r.h.ops.size(); ++i) {
    const auto& a = r.h.ops[i];
    const auto& b = loaded.history.ops[i];
    EXPECT_EQ(a.to_string(), b.to_string()) << i;
    EXPECT_EQ(a.observed, b.observed) << i;
    EXPECT_EQ(a.completed(), b.completed()) << i;
  }
}

TEST(HistoryFile, MalformedInputIsRefusedWithItsLine) {
  const std::string header = "{\"quorumlab_history\": 1}\n";
  const std::string good =
      "{\"id\":0,\"client\":1,\"session\":5,\"op\":\"get\",\"key\":\"/k\",\"invoke_us\":1,"
      "\"complete_us\":2,\"err\":-101,\"zxid\":3}\n";
  auto error_of = [](const std::string& text) {
    std::stringstream in(text);
    try {
      read_history(in, "h.jsonl");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(error_of(header + good), "(accepted)");
  EXPECT_NE(error_of("").find("no history header"), std::string::npos);
  EXPECT_NE(error_of(good).find("h.jsonl:1: not a quorumlab history"), std::string::npos);
  EXPECT_NE(error_of("{\"quorumlab_history\": 9}\n").find("format 9 is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(header + "{oops\n").find("h.jsonl:2: not JSON"), std::string::npos);
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string line = good;
    line.replace(line.find(from), from.size(), to);
    return header + line;
  };
  EXPECT_NE(error_of(replaced("\"get\"", "\"put\"")).find("unknown op 'put'"), std::string::npos);
  EXPECT_NE(error_of(replaced("\"id\":0", "\"id\":4")).find("operation id 4"), std::string::npos);
  EXPECT_NE(error_of(replaced("\"key\":\"/k\",", "")).find("missing field 'key'"),
            std::string::npos);
  EXPECT_NE(error_of(replaced("\"zxid\":3", "\"zxid\":\"x\"")).find("'zxid' has the wrong type"),
            std::string::npos);
  EXPECT_NE(error_of(replaced("\"complete_us\":2", "\"complete_us\":0"))
                .find("completed (0 us) before it was invoked"),
            std::string::npos);
  std::string second = good;
  second.replace(second.find("\"id\":0"), 6, "\"id\":1");
  second.replace(second.find("\"invoke_us\":1"), 13, "\"invoke_us\":0");
  second.replace(second.find("\"complete_us\":2"), 15, "\"complete_us\":1");
  EXPECT_NE(error_of(header + good + second).find("h.jsonl:3: invoked at 0 us, before"),
            std::string::npos);
}

TEST(RecordedHistory, ACleanRunPassesBothModels) {
  Recorder r = clean();
  for (const auto& model : {zookeeper_model(), linearizable_model()}) {
    auto res = check_recorded_history(r.h, model);
    EXPECT_FALSE(res.violation) << res.violation->property << ": " << res.violation->message;
    EXPECT_EQ(res.acknowledged_writes, 3u);
    EXPECT_EQ(res.lost_writes, 0u);
    EXPECT_EQ(res.keys_with_final_read, 1u);
  }
}

TEST(RecordedHistory, ALostAcknowledgedWriteIsCaught) {
  Recorder r = clean();
  // The final read, long after every write, shows the state before the acknowledged set "c".
  r.h.ops.back().observed = ZnodeState{true, "b", 1, kZ2, kZ1};
  r.h.ops.back().zxid = kZ4;
  auto res = check_recorded_history(r.h, zookeeper_model());
  ASSERT_TRUE(res.violation);
  EXPECT_EQ(res.violation->property, "acknowledged_write_lost");
  EXPECT_EQ(res.lost_writes, 1u);
  EXPECT_NE(res.violation->message.find("'c'"), std::string::npos) << res.violation->message;
  // With that property switched off, the read still contradicts the write's zxid.
  HistoryCheckOptions o;
  o.disabled = {"acknowledged_write_lost"};
  res = check_recorded_history(r.h, o);
  ASSERT_TRUE(res.violation);
  EXPECT_EQ(res.violation->property, "read_matches_zxid");
}

TEST(RecordedHistory, AStaleReadIsAllowedByZooKeeperButNotByLinearizability) {
  Recorder r = clean();
  // Session 3 reads, after "c" was acknowledged, the state at kZ2 from a lagging server.
  r.get(3, 55, 65, kZ2, "b", 1, kZ2);
  std::swap(r.h.ops[4], r.h.ops[5]);  // keep invocation order: this read began at 55
  r.h.ops[4].id = 4;
  r.h.ops[5].id = 5;
  auto zk = check_recorded_history(r.h, zookeeper_model());
  EXPECT_FALSE(zk.violation) << zk.violation->message;
  EXPECT_EQ(zk.stale.stale, 1u);
  auto lin = check_recorded_history(r.h, linearizable_model());
  ASSERT_TRUE(lin.violation);
  EXPECT_EQ(lin.violation->property, "linearizable");
}

TEST(RecordedHistory, AReadThatMissesAChangeAtOrBeforeItsZxid) {
  Recorder r = clean();
  // A read served at kZ3 that shows the state before kZ3's set.
  r.get(3, 55, 65, kZ3, "b", 1, kZ2);
  std::swap(r.h.ops[4], r.h.ops[5]);
  r.h.ops[4].id = 4;
  r.h.ops[5].id = 5;
  auto res = check_recorded_history(r.h, zookeeper_model());
  ASSERT_TRUE(res.violation);
  EXPECT_EQ(res.violation->property, "read_matches_zxid");
}

TEST(RecordedHistory, TwoWritesWithOneZxid) {
  Recorder r = clean();
  r.set(3, 80, 90, kZ3, "d", 3);  // acknowledged with the zxid of "c"
  auto res = check_recorded_history(r.h, zookeeper_model());
  ASSERT_TRUE(res.violation);
  EXPECT_EQ(res.violation->property, "one_txn_per_zxid");
}

TEST(RecordedHistory, TwoStatesAtOneZxid) {
  Recorder r = clean();
  r.get(3, 80, 90, kZ3, "x", 2, kZ3);  // kZ3 left "c"
  auto res = check_recorded_history(r.h, zookeeper_model());
  ASSERT_TRUE(res.violation);
  EXPECT_EQ(res.violation->property, "one_state_per_zxid");
}

TEST(RecordedHistory, ASessionThatGoesBackInTime) {
  Recorder r = clean();
  // Session 1 saw kZ3; after a reconnection a server behind it answers at kZ2 (an old view).
  r.get(1, 80, 90, kZ2, "b", 1, kZ2);
  HistoryCheckOptions o;
  o.disabled = {"acknowledged_write_lost"};  // that read is also a final read missing "c"
  auto res = check_recorded_history(r.h, o);
  ASSERT_TRUE(res.violation);
  EXPECT_EQ(res.violation->property, "session_zxid_monotonic");
}

TEST(RecordedHistory, AWriteWithoutAReplyMayHaveHappenedOrNot) {
  for (bool seen : {false, true}) {
    Recorder r = clean();
    auto& w = r.op(OpKind::set, 3, 80, HistoryOp::kNoReply, 0);
    w.data = "d";
    if (seen) {
      r.get(1, 200, 210, kZ4, "d", 3, kZ4);  // it took effect
    } else {
      r.get(1, 200, 210, kZ4, "c", 2, kZ3);  // it did not
    }
    auto res = check_recorded_history(r.h, linearizable_model());
    EXPECT_FALSE(res.violation) << seen << " " << res.violation->message;
    EXPECT_EQ(res.lost_writes, 0u);
  }
}
