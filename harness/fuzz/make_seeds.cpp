// ql_fuzz_seeds: writes the seed corpora of the fuzz targets from traffic the project's own
// code produces (every file is an encoder's or a protocol run's output, framed as the target
// reads its input; see each *_fuzz.cpp). Usage: ql_fuzz_seeds CORPUS_DIR (harness/fuzz/corpus).
// The output is deterministic; regenerate and commit when an encoding changes.
#include <capnp/message.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "quorumlab/capnp_bytes.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/consensus/testing/scripted_network.hpp"
#include "quorumlab/log.hpp"
#include "quorumlab/params.hpp"
#include "quorumlab/proto/client.capnp.h"
#include "quorumlab/proto/peer.capnp.h"
#include "quorumlab/raft/raft.hpp"
#include "quorumlab/sm/data_tree.hpp"
#include "quorumlab/sm/txn.hpp"
#include "quorumlab/zab/zab.hpp"
#include "quorumlab/zkwire/records.hpp"
#include "quorumlab/zkwire/translator.hpp"
#include "wal/format.hpp"

using namespace quorumlab;
namespace fs = std::filesystem;
using fuzz::put_chunk;

namespace {

fs::path g_root;
std::size_t g_files = 0, g_bytes = 0;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ++g_files;
  g_bytes += bytes.size();
}

Bytes b(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// ------------------------------------------------------------------ ZooKeeper wire requests

std::vector<zkwire::Request> zk_requests() {
  using namespace zkwire;
  std::vector<Request> out;
  auto req = [&](std::int32_t type, const std::string& path) {
    Request r;
    r.xid = static_cast<std::int32_t>(out.size() + 1);
    r.type = type;
    r.path = path;
    out.push_back(r);
    return &out.back();
  };
  for (std::int32_t t : {op::kCreate, op::kCreate2, op::kCreateContainer, op::kCreateTtl}) {
    auto* r = req(t, "/app/node-");
    r->data = b("payload");
    r->acl = sm::open_acl_unsafe();
    r->flags = t == op::kCreateContainer ? 4 : t == op::kCreateTtl ? 5 : 2;
    r->ttl = t == op::kCreateTtl ? 60000 : 0;
  }
  req(op::kDelete, "/app/a")->version = 3;
  req(op::kCheck, "/app/a")->version = 0;
  req(op::kExists, "/app")->watch = true;
  req(op::kGetData, "/app")->watch = true;
  req(op::kGetChildren, "/")->watch = false;
  req(op::kGetChildren2, "/app")->watch = true;
  {
    auto* r = req(op::kSetData, "/app");
    r->data = b("v2");
    r->version = 1;
  }
  req(op::kGetAcl, "/app");
  {
    auto* r = req(op::kSetAcl, "/app");
    r->acl = {sm::Acl{31, {"digest", "user:hash"}}, sm::Acl{1, {"world", "anyone"}}};
    r->version = 0;
  }
  req(op::kSync, "/app");
  req(op::kGetAllChildrenNumber, "/app");
  req(op::kGetEphemerals, "/app");
  req(op::kCheckWatches, "/app")->mode = 1;
  req(op::kRemoveWatches, "/app")->mode = 3;
  req(op::kAddWatch, "/app")->mode = 1;
  {
    auto* r = req(op::kSetWatches, "");
    r->set_watches.relative_zxid = 0x100000005;
    r->set_watches.data = {"/a", "/b"};
    r->set_watches.exist = {"/c"};
    r->set_watches.child = {"/"};
  }
  {
    auto* r = req(op::kSetWatches2, "");
    r->set_watches.relative_zxid = 7;
    r->set_watches.data = {"/a"};
    r->set_watches.persistent = {"/p"};
    r->set_watches.persistent_recursive = {"/r"};
  }
  {
    auto* r = req(op::kAuth, "");
    r->scheme = "digest";
    r->data = b("user:password");
  }
  for (std::int32_t t : {op::kMulti, op::kMultiRead}) {
    auto* r = req(t, "");
    Request sub;
    if (t == op::kMulti) {
      sub.type = op::kCreate;
      sub.path = "/m/x";
      sub.data = b("d");
      sub.acl = sm::open_acl_unsafe();
      r->ops.push_back(sub);
      sub = Request{};
      sub.type = op::kSetData;
      sub.path = "/m";
      sub.data = b("e");
      r->ops.push_back(sub);
      sub = Request{};
      sub.type = op::kCheck;
      sub.path = "/m";
      sub.version = 1;
      r->ops.push_back(sub);
      sub = Request{};
      sub.type = op::kDelete;
      sub.path = "/m/y";
      r->ops.push_back(sub);
    } else {
      sub.type = op::kGetData;
      sub.path = "/m";
      r->ops.push_back(sub);
      sub.type = op::kGetChildren;
      r->ops.push_back(sub);
    }
  }
  {
    auto* r = req(op::kReconfig, "");
    r->joining = "server.4=127.0.0.1:2891:3891;2184";
    r->leaving = "2";
    r->version = -1;
    r->ttl = -1;
  }
  req(op::kSasl, "")->data = b("token");
  req(op::kWhoAmI, "");
  req(op::kPing, "")->xid = xid::kPing;
  req(op::kCloseSession, "");
  return out;
}

Bytes zk_connect(std::int64_t session, bool read_only) {
  zkwire::ConnectRequest c;
  c.timeout_ms = 30000;
  c.session_id = session;
  c.last_zxid_seen = session ? 0x100000003 : 0;
  if (read_only) c.read_only = true;
  Bytes out;
  zkwire::encode_connect_request(c, &out);
  return out;
}

/// Native messages the Translator makes of a ZooKeeper stream (real native traffic).
std::vector<Bytes> translate(const Bytes& stream) {
  zkwire::FrameBuffer frames(1u << 20);
  frames.append(stream.data(), stream.size());
  zkwire::Translator t;
  zkwire::Effects fx;
  std::vector<Bytes> native;
  bool first = true;
  const std::uint8_t* p = nullptr;
  std::size_t n = 0;
  while (frames.next(&p, &n) == zkwire::FrameBuffer::Status::kFrame && t.accepts_frames()) {
    t.on_client_frame(p, n, 0, &fx);
    for (auto& m : fx.to_node)
      native.push_back(std::move(m));
    fx.to_node.clear();
    if (first) {
      capnp::MallocMessageBuilder msg;
      auto c = msg.initRoot<proto::ServerMessage>().initConnectResponse();
      c.setTimeoutMs(30000);
      c.setSessionId(0x1234);
      Bytes pw(16, 7);
      c.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
      Bytes m = to_bytes(msg);
      t.on_server_message(m.data(), m.size(), 0, &fx);
      fx = {};
      first = false;
    }
  }
  return native;
}

void zk_and_native_seeds() {
  auto reqs = zk_requests();
  Bytes all = zk_connect(0, false);
  Bytes native_all;
  for (const auto& r : reqs) {
    Bytes one = zk_connect(0, false);
    zkwire::encode_request(r, &one);
    zkwire::encode_request(r, &all);
    write("zk_request", std::string("op_") + zkwire::op_name(r.type) + "_" + std::to_string(r.xid),
          one);
    // native_frame: connection 1 connects, then sends the request (control byte 1 = conn 2
    // of the harness's numbering is unused here: all on connection 1).
    Bytes seed;
    for (const auto& m : translate(one)) {
      seed.push_back(0);
      put_chunk(seed, m);
    }
    write("native_frame",
          std::string("op_") + zkwire::op_name(r.type) + "_" + std::to_string(r.xid), seed);
  }
  write("zk_request", "all_ops", all);
  write("zk_request", "reconnect_read_only", zk_connect(0x1234, true));
  for (const auto& m : translate(all)) {
    native_all.push_back(0);
    put_chunk(native_all, m);
  }
  // A second connection reattaching to connection 1's session, then connection 1 closing.
  {
    capnp::MallocMessageBuilder msg;
    auto c = msg.initRoot<proto::ClientMessage>().initConnect();
    c.setProtocolVersion(1);
    c.setTimeoutMs(1000);
    c.setSessionId(0x100);
    Bytes pw(16);
    c.setPasswd(kj::arrayPtr(pw.data(), pw.size()));
    native_all.push_back(1);
    put_chunk(native_all, to_bytes(msg));
    native_all.push_back(4 | 8);
    put_chunk(native_all, {});
  }
  write("native_frame", "all_ops", native_all);
  {  // admin and monitoring messages, no session
    Bytes seed;
    capnp::MallocMessageBuilder s;
    s.initRoot<proto::ClientMessage>().setStatus();
    seed.push_back(2);
    put_chunk(seed, to_bytes(s));
    capnp::MallocMessageBuilder t;
    t.initRoot<proto::ClientMessage>().setTransfer(2);
    seed.push_back(3);
    put_chunk(seed, to_bytes(t));
    capnp::MallocMessageBuilder nr;
    auto rules = nr.initRoot<proto::ClientMessage>().initNetRules().initRules(1);
    rules[0].setPeer(2);
    rules[0].setDropPct(10);
    rules[0].setDelayMs(5);
    seed.push_back(16);
    put_chunk(seed, to_bytes(nr));
    write("native_frame", "admin", seed);
  }
}

// ------------------------------------------------------------------ peer envelopes

Bytes envelope(const std::function<void(proto::PeerEnvelope::Builder)>& fill) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<proto::PeerEnvelope>();
  e.setFrom(2);
  fill(e);
  return to_bytes(msg);
}

Bytes txn_bytes(SessionId session, sm::TxnOp op) {
  sm::Txn t;
  t.header.session_id = session;
  t.header.cxid = 1;
  t.header.time_ms = 1700000000000;
  t.op = std::move(op);
  return sm::encode(t);
}

void peer_seeds() {
  std::vector<std::pair<std::string, Bytes>> env;
  env.emplace_back("hello", envelope([](auto e) { e.setHello(); }));
  std::vector<Bytes> txns = {
      txn_bytes(0x100, sm::CreateSessionOp{0x100, 5000}),
      txn_bytes(0x100, sm::CreateOp{"/f", b("data"), sm::open_acl_unsafe(), 0, -1, false}),
      txn_bytes(0x100, sm::CreateOp{"/f/e", b(""), sm::open_acl_unsafe(), 1, -1, false}),
      txn_bytes(0x100, sm::SetDataOp{"/f", b("v"), 0, false}),
      txn_bytes(0x100, sm::SetAclOp{"/f", sm::open_acl_unsafe(), -1}),
      txn_bytes(0x100, sm::MultiOp{{sm::CreateOp{"/g", {}, sm::open_acl_unsafe(), 2, -1, true},
                                    sm::CheckOp{"/f", -1}, sm::DeleteOp{"/f/e", -1}}}),
      txn_bytes(0x100, sm::DeleteExpiredOp{"/f"}),
      txn_bytes(0x100, sm::DeleteOp{"/f", -1}),
      txn_bytes(0x100, sm::CloseSessionOp{0x100}),
  };
  env.emplace_back("forward", envelope([&](auto e) {
                     auto l = e.initForward(static_cast<unsigned>(txns.size()));
                     for (unsigned i = 0; i < txns.size(); ++i)
                       l.set(i, kj::arrayPtr(txns[i].data(), txns[i].size()));
                   }));
  env.emplace_back("touch", envelope([](auto e) {
                     auto l = e.initTouch(2);
                     l[0].setSessionId(1);
                     l[0].setTimeoutMs(5000);
                     l[1].setSessionId(0x100);
                     l[1].setTimeoutMs(100);
                   }));
  env.emplace_back("revalidate", envelope([](auto e) {
                     auto l = e.initRevalidate(1);
                     l[0].setSessionId(1);
                     l[0].setTimeoutMs(5000);
                   }));
  env.emplace_back("revalidated", envelope([](auto e) {
                     auto l = e.initRevalidated(1);
                     l[0].setSessionId(1);
                     l[0].setValid(true);
                   }));
  env.emplace_back("broadcast", envelope([](auto e) {
                     Bytes p = b("solo ignores peers");
                     e.setBroadcast(kj::arrayPtr(p.data(), p.size()));
                   }));
  Bytes all;
  for (const auto& [name, bytes] : env) {
    Bytes one;
    one.push_back(1 | 2);  // open a session first, ticks after
    put_chunk(one, bytes);
    write("peer_envelope", name, one);
    all.push_back(0);
    put_chunk(all, bytes);
  }
  write("peer_envelope", "all", all);
}

// ------------------------------------------------------------------ broadcast plugins

std::unique_ptr<consensus::testing::ScriptedNetwork> network(int plugin) {
  using consensus::testing::ScriptedNetwork;
  ScriptedNetwork::Options o;
  o.membership.voters = {1, 2, 3};
  o.trace = false;
  o.seed = 7;
  if (plugin == 0) {
    o.params = resolve_params("zab", zab::param_schema(), {});
    return std::make_unique<ScriptedNetwork>([](PluginContext& ctx) { return zab::make_zab(ctx); },
                                             o);
  }
  raft::RaftConfig d;
  d.prevote = ((plugin - 1) & 1) != 0;
  d.check_quorum = ((plugin - 1) & 2) != 0;
  o.params = resolve_params("raft", raft::param_schema(d), {});
  return std::make_unique<ScriptedNetwork>(
      [d](PluginContext& ctx) { return raft::make_raft(ctx, d); }, o);
}

void broadcast_seeds() {
  const char* names[] = {"zab", "raft", "raft_prevote", "raft_cq", "raft_prevote_cq"};
  for (int plugin = 0; plugin < 5; ++plugin) {
    // Every message of an election, three proposals and a follower's restart, recorded as
    // it is delivered; one seed per distinct (first 16 bytes, size class) to keep it small.
    auto net = network(plugin);
    net->start();
    std::vector<consensus::testing::Envelope> seen;
    auto pump = [&](int rounds) {
      for (int r = 0; r < rounds; ++r) {
        for (const auto& e : net->in_flight())
          seen.push_back(e);
        net->round();
      }
    };
    pump(200);
    if (auto leader = net->leader()) {
      for (int i = 0; i < 3; ++i) {
        net->propose(*leader, {b("txn" + std::to_string(i))});
        pump(2);
      }
      const NodeId follower = *leader == 1 ? 2 : 1;
      net->crash(follower);
      net->propose(*leader, {b("while down")});
      pump(3);
      net->restart(follower);
      pump(20);
    }
    std::set<std::string> kinds;
    std::size_t n = 0;
    for (const auto& e : seen) {
      std::string key(e.payload.begin(),
                      e.payload.begin() +
                          static_cast<std::ptrdiff_t>(std::min<std::size_t>(16, e.payload.size())));
      key += std::to_string(e.payload.size() / 16) + (e.to == 3 ? "f" : "");
      if (!kinds.insert(key).second) continue;
      Bytes seed{static_cast<std::uint8_t>(plugin), 0};
      // control: sender e.from (bits 0-2 = from - 1), receiver e.to (bits 3-5 = to - 1)
      seed.push_back(static_cast<std::uint8_t>(((e.from - 1) & 7) | (((e.to - 1) & 7) << 3)));
      put_chunk(seed, e.payload);
      write("broadcast_step", std::string(names[plugin]) + "_" + std::to_string(n++), seed);
      if (n >= 40) break;
    }
    // The same first messages to an ensemble that has not elected yet.
    Bytes fresh{static_cast<std::uint8_t>(plugin), 2};
    for (std::size_t i = 0; i < seen.size() && i < 6; ++i) {
      fresh.push_back(static_cast<std::uint8_t>(((seen[i].from - 1) & 7) |
                                                (((seen[i].to - 1) & 7) << 3) | 0x40));
      put_chunk(fresh, seen[i].payload);
    }
    write("broadcast_step", std::string(names[plugin]) + "_fresh", fresh);
  }
}

// ------------------------------------------------------------------ wal and snapshots

Bytes segment(std::uint64_t seq, LogIndex first, const std::function<void(Bytes&)>& records) {
  Bytes out;
  storage::wal::append_segment_header(out, {seq, first, 0});
  records(out);
  return out;
}

LogEntry entry(LogIndex i, std::uint64_t epoch, const std::string& data) {
  return LogEntry{i, epoch, (Zxid{epoch} << 32) | i, b(data)};
}

Bytes tree_snapshot() {
  sm::DataTree tree;
  Zxid z = 0;
  std::vector<sm::WatchTrigger> triggers;
  auto apply = [&](SessionId s, sm::TxnOp op) {
    sm::Txn t;
    t.header.session_id = s;
    t.header.time_ms = 1700000000000;
    t.op = std::move(op);
    tree.apply(t, ++z, &triggers);
  };
  apply(0x100, sm::CreateSessionOp{0x100, 5000});
  apply(0x100, sm::CreateOp{"/app", b("cfg"), sm::open_acl_unsafe(), 0, -1, false});
  apply(0x100, sm::CreateOp{"/app/lock-", b(""), sm::open_acl_unsafe(), 3, -1, false});
  apply(0x100, sm::CreateOp{"/app/c", {}, {sm::Acl{31, {"digest", "u:h"}}}, 4, -1, true});
  apply(0x100, sm::CreateOp{"/ttl", b("t"), sm::open_acl_unsafe(), 5, 60000, false});
  apply(0x100, sm::SetDataOp{"/app", b("cfg2"), 0, false});
  return tree.serialize();
}

void wal_and_snapshot_seeds() {
  namespace w = storage::wal;
  auto hs = HardState{2, 1, b("zab-accepted")};
  auto with_entries = [&](Bytes& out) {
    w::append_hard_state_record(out, hs);
    for (LogIndex i = 1; i <= 4; ++i)
      w::append_entry_record(out, entry(i, 1, "e" + std::to_string(i)));
  };
  auto put = [&](const std::string& name, std::uint8_t mode, const std::vector<Bytes>& parts) {
    Bytes seed{mode};
    for (const auto& p : parts)
      put_chunk(seed, p);
    write("wal_recovery", name, seed);
  };
  put("entries", 0, {segment(1, 1, with_entries)});
  put("truncate", 0, {segment(1, 1, [&](Bytes& out) {
        with_entries(out);
        w::append_truncate_record(out, 2);
        w::append_entry_record(out, entry(3, 2, "new3"));
      })});
  put("torn_tail", 0, {[&] {
        Bytes s = segment(1, 1, with_entries);
        s.resize(s.size() - 5);
        return s;
      }()});
  put("two_segments", 2, {segment(1, 1, with_entries), segment(2, 5, [&](Bytes& out) {
                            w::append_entry_record(out, entry(5, 2, "e5"));
                          })});
  const Bytes tree = tree_snapshot();
  Snapshot snap{4, 1, (Zxid{1} << 32) | 4, tree};
  Bytes snap_file;
  w::append_snapshot_header(snap_file, snap);
  snap_file.insert(snap_file.end(), tree.begin(), tree.end());
  put("snapshot_and_reset", 2 | 4,
      {segment(1, 1, with_entries),
       segment(2, 5,
               [&](Bytes& out) {
                 w::append_reset_record(out, 4, 1, (Zxid{1} << 32) | 4);
                 w::append_entry_record(out, entry(5, 2, "e5"));
               }),
       snap_file});
  put("snapshot_covers_log", 4, {segment(1, 1, with_entries), snap_file});

  Bytes t{0};
  t.insert(t.end(), tree.begin(), tree.end());
  write("snapshot", "tree", t);
  Bytes empty_tree{0};
  Bytes e = sm::DataTree().serialize();
  empty_tree.insert(empty_tree.end(), e.begin(), e.end());
  write("snapshot", "empty_tree", empty_tree);
  Bytes f{1};
  f.insert(f.end(), snap_file.begin(), snap_file.end());
  write("snapshot", "wal_file", f);
}

// ------------------------------------------------------------------ configuration

void config_seeds(const fs::path& source_root) {
  auto text = [](const std::string& s, std::uint8_t mode) {
    Bytes out(s.size() + 1);
    out[0] = mode;
    std::copy(s.begin(), s.end(), out.begin() + 1);
    return out;
  };
  for (const auto& e : fs::directory_iterator(source_root / "kernel/tests/data")) {
    std::ifstream in(e.path(), std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write("config_toml", e.path().stem().string(), text(s, 0));
  }
  write("config_toml", "readme_example",
        text(R"(id = 1
client_port = 7001
data_dir = "/var/lib/qlab/n1"
peers = ["1@127.0.0.1:7101", "2@127.0.0.1:7102", "3@127.0.0.1:7103"]
tick_ms = 10

[broadcast]
plugin = "zab"

[storage]
plugin = "wal"
fsync = true

[read_policy]
plugin = "local"
)",
             0));
  write("config_toml", "printed_defaults", text(load_config(std::nullopt, {}).to_toml(), 0));
  write("config_toml", "overrides",
        text("id=2\npeers=1@127.0.0.1:7101,2@127.0.0.1:7102\nbroadcast=raft\nbroadcast."
             "prevote=true\nstorage.fsync=false\ntick_ms=5",
             1));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR SOURCE_ROOT\n", argv[0]);
    return 2;
  }
  log::configure("off");
  g_root = argv[1];
  zk_and_native_seeds();
  peer_seeds();
  broadcast_seeds();
  wal_and_snapshot_seeds();
  config_seeds(argv[2]);
  std::printf("wrote %zu files, %zu bytes, under %s\n", g_files, g_bytes, g_root.c_str());
  return 0;
}
