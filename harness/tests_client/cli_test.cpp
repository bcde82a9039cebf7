// The command line's refusals and reports that need no server: an unsupported
// broadcast/read-policy pair is refused by every entry point with one line naming both plugins
// and exit status 2, before anything starts; `qlab plugins` shows capabilities and guarantees.
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process.hpp"

using namespace quorumlab::client::e2e;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

constexpr const char* kRefusal =
    "qlab: configuration error: read policy 'lease' needs the lease barrier, which broadcast "
    "plugin 'raft' provides only with check_quorum=true (thesis 6.4.1: the lease rests on "
    "followers refusing votes while they hear from a leader); set broadcast.check_quorum=true "
    "or use raft-cq or raft-prevote-cq\n";

fs::path temp_dir(const std::string& tag) {
  auto d = fs::temp_directory_path() / ("ql_cli_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

TEST(RefusedPair, QlabServerExitsWithStatus2AndOneLineNamingBothPlugins) {
  const fs::path dir = temp_dir("server");
  auto r = run_qlab({"server", "--id", "1", "--client-port", "0", "--data-dir", dir.string(),
                     "--broadcast", "raft", "--storage", "memory", "--read-policy", "lease"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, kRefusal);
  EXPECT_EQ(r.out, "");
  fs::remove_all(dir);
}

TEST(RefusedPair, QlabClusterStartExitsWithStatus2BeforeStartingAnything) {
  const fs::path dir = temp_dir("cluster");
  auto r = run_qlab({"cluster", "start", "--nodes", "3", "--broadcast", "raft", "--storage",
                     "memory", "--read-policy", "lease", "--dir", dir.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, kRefusal);
  EXPECT_FALSE(fs::exists(dir / "cluster.json")) << "no server may have been started";
  fs::remove_all(dir);
}

TEST(RefusedPair, QlabSimExitsWithStatus2BeforeAnySeedRuns) {
  auto r = run_qlab({"sim", "--broadcast", "raft", "--read-policy", "lease", "--seed", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, kRefusal);
  EXPECT_EQ(r.out, "");
}

TEST(RefusedPair, ASupportedPairIsNotRefused) {
  // solo implements every barrier kind; zab implements leader_commit.
  auto r = run_qlab({"sim", "--broadcast", "solo", "--read-policy", "lease", "--seed", "1",
                     "--faults", "none", "--duration-ms", "300"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  r = run_qlab({"sim", "--broadcast", "zab", "--read-policy", "leader", "--seed", "1", "--faults",
                "none", "--duration-ms", "300"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  // The lease barrier with the parameters that provide it.
  r = run_qlab({"sim", "--broadcast", "zab", "--broadcast-param", "lease=true", "--read-policy",
                "lease", "--seed", "1", "--faults", "none", "--duration-ms", "300"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  r = run_qlab({"sim", "--broadcast", "raft", "--broadcast-param", "check_quorum=true",
                "--read-policy", "lease", "--seed", "1", "--faults", "none", "--duration-ms",
                "300"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

TEST(Plugins, JsonShowsBarrierKindsAndReadGuarantees) {
  auto r = run_qlab({"plugins", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto all = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : all)
    by_name[p.at("kind").get<std::string>() + "/" + p.at("name").get<std::string>()] = p;
  EXPECT_EQ(by_name.at("broadcast/zab").at("barrier_kinds"),
            nlohmann::json({"sync_op", "read_index", "leader_commit", "lease"}));
  EXPECT_THAT(by_name.at("broadcast/zab")
                  .at("barrier_kinds_unavailable_by_default")
                  .at("lease")
                  .get<std::string>(),
              HasSubstr("provides only with lease=true"));
  EXPECT_EQ(by_name.at("broadcast/raft-cq").at("barrier_kinds_unavailable_by_default"),
            nlohmann::json::object());
  EXPECT_EQ(by_name.at("read_policy/bounded").at("guarantee"), "bounded-staleness");
  EXPECT_EQ(by_name.at("broadcast/solo").at("barrier_kinds"),
            nlohmann::json({"sync_op", "read_index", "leader_commit", "lease"}));
  EXPECT_EQ(by_name.at("read_policy/local").at("needs_barrier_kinds"), nlohmann::json::array());
  EXPECT_EQ(by_name.at("read_policy/local").at("guarantee"), "ordered-sequential");
  EXPECT_EQ(by_name.at("read_policy/read-index").at("needs_barrier_kinds"),
            nlohmann::json({"read_index"}));
  EXPECT_EQ(by_name.at("read_policy/read-index").at("guarantee"), "linearizable");
  EXPECT_EQ(by_name.at("read_policy/leader").at("needs_barrier_kinds"),
            nlohmann::json({"leader_commit"}));
  EXPECT_EQ(by_name.at("read_policy/lease").at("guarantee"), "linearizable-if-clocks-bounded");
  r = run_qlab({"plugins"});
  EXPECT_THAT(r.out, HasSubstr("barriers: sync_op, read_index, leader_commit, lease\n      lease "
                               "barrier: provides only with lease=true"));
  EXPECT_THAT(r.out, HasSubstr("needs: lease barrier; guarantee: linearizable-if-clocks-bounded"));
}

}  // namespace
