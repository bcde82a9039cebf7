// Configuration: TOML file + overrides against one schema; every error names the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "quorumlab/config.hpp"

using namespace quorumlab;
using ::testing::HasSubstr;

namespace {
const std::string kData = QL_TEST_DATA_DIR;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(Config, DefaultsWithoutFile) {
  auto c = load_config(std::nullopt, {});
  EXPECT_EQ(c.id(), 1u);
  EXPECT_EQ(c.settings.get_int("tick_ms"), 10);
  EXPECT_EQ(c.broadcast.name, "solo");
  EXPECT_EQ(c.storage.name, "wal");
  EXPECT_EQ(c.read_policy.name, "local");
  EXPECT_EQ(c.membership().voters, std::vector<NodeId>{1});
}

TEST(Config, FileWithSectionsAndPeers) {
  auto c = load_config(kData + "/node_ok.toml", {});
  EXPECT_EQ(c.id(), 2u);
  EXPECT_EQ(c.settings.get_int("client_port"), 7002);
  ASSERT_EQ(c.peers.size(), 4u);
  EXPECT_TRUE(c.peers[3].observer);
  EXPECT_EQ(c.membership().voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(c.membership().observers, std::vector<NodeId>{4});
  EXPECT_EQ(c.broadcast.name, "zab");
  EXPECT_EQ(std::get<std::int64_t>(c.broadcast.values.at("ping_interval_ticks")), 2);
  EXPECT_EQ(std::get<bool>(c.storage.values.at("fsync")), false);
}

TEST(Config, EnsembleConfigIsZooKeepersServerList) {
  auto c = load_config(kData + "/node_ok.toml", {});
  const std::string text = c.ensemble_config();
  EXPECT_THAT(
      text, HasSubstr("server.1=" + c.peers[0].host + ":" + std::to_string(c.peers[0].port) + ":" +
                      std::to_string(c.peers[0].port) + ":participant\n"));
  EXPECT_THAT(text, HasSubstr(":observer\n"));
  EXPECT_EQ(text.substr(text.size() - 10), "\nversion=0");
  EXPECT_EQ(load_config(std::nullopt, {}).ensemble_config(), "") << "standalone, as ZooKeeper";
}

TEST(Config, EnsembleConfigNamesEachMembersZooKeeperClientAddress) {
  // ZooKeeper 3.5+ writes server.N=host:quorum:election:role;clientHost:clientPort.
  auto c = load_config(std::nullopt, {"id=2",
                                      "peers=2@127.0.0.1:7102;7202,"
                                      "1@127.0.0.1:7101;10.0.0.1:7201,"
                                      "3@127.0.0.1:7103:observer;7203,4@127.0.0.1:7104"});
  ASSERT_EQ(c.peers.size(), 4u);
  EXPECT_EQ(c.peers[0].zk_host, "127.0.0.1");
  EXPECT_EQ(c.peers[0].zk_port, 7202);
  EXPECT_EQ(c.peers[1].zk_host, "10.0.0.1");
  EXPECT_TRUE(c.peers[2].observer);
  EXPECT_EQ(c.peers[3].zk_port, 0) << "no client address given";
  EXPECT_EQ(c.ensemble_config(),
            "server.1=127.0.0.1:7101:7101:participant;10.0.0.1:7201\n"
            "server.2=127.0.0.1:7102:7102:participant;127.0.0.1:7202\n"
            "server.3=127.0.0.1:7103:7103:observer;127.0.0.1:7203\n"
            "server.4=127.0.0.1:7104:7104:participant\n"
            "version=0");
  // The peer list round-trips through to_string (to_toml, --print-config).
  for (const auto& p : c.peers) {
    PeerSpec q = PeerSpec::parse(p.to_string());
    EXPECT_EQ(q.to_string(), p.to_string());
    EXPECT_EQ(q.zk_server_line(), p.zk_server_line());
  }
}

TEST(Config, OverridesWinAndAreTyped) {
  auto c = load_config(kData + "/node_ok.toml", {"client-port=7010", "storage.fsync=true",
                                                 "broadcast=raft", "read_policy.plugin=lease"});
  EXPECT_EQ(c.settings.get_int("client_port"), 7010);
  EXPECT_EQ(c.storage.texts.at("fsync"), "true");
  EXPECT_EQ(c.storage.values.count("fsync"), 0u);
  EXPECT_EQ(c.broadcast.name, "raft");
  EXPECT_EQ(c.read_policy.name, "lease");
  // Plugin parameters given as text are typed by the plugin's schema.
  std::vector<ParamSpec> schema = {{"fsync", ParamType::boolean, true, "", {}, {}, {}}};
  EXPECT_TRUE(c.storage.resolve("storage plugin 'wal'", schema).get_bool("fsync"));
}

TEST(Config, UnknownKeyInFileNamesKeyLineAndKnownKeys) {
  auto msg = error_of([] { load_config(kData + "/node_unknown_key.toml", {}); });
  EXPECT_THAT(msg, HasSubstr("node_unknown_key.toml:2"));
  EXPECT_THAT(msg, HasSubstr("unknown key 'client_prot'"));
  EXPECT_THAT(msg, HasSubstr("client_port"));
}

TEST(Config, BadTypeInFile) {
  auto msg = error_of([] { load_config(kData + "/node_bad_type.toml", {}); });
  EXPECT_THAT(msg, HasSubstr("node_bad_type.toml:2"));
  EXPECT_THAT(msg, HasSubstr("'tick_ms' must be integer"));
}

TEST(Config, SyntaxErrorNamesLine) {
  auto msg = error_of([] { load_config(kData + "/node_syntax.toml", {}); });
  EXPECT_THAT(msg, HasSubstr("node_syntax.toml:2"));
}

TEST(Config, MissingFile) {
  auto msg = error_of([] { load_config(kData + "/nope.toml", {}); });
  EXPECT_THAT(msg, HasSubstr("nope.toml"));
}

TEST(Config, BadOverrides) {
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"tick_ms"}); }),
              HasSubstr("not of the form key=value"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"tick_ms=-5"}); }),
              HasSubstr("'tick_ms' = -5 is out of range"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"colour=red"}); }),
              HasSubstr("unknown key 'colour'"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"disk.fsync=false"}); }),
              HasSubstr("unknown section 'disk'"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"id=abc"}); }),
              HasSubstr("'id' must be an integer"));
}

TEST(Config, PeerListErrors) {
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"peers=1@h:1,1@h:2"}); }),
              HasSubstr("server id 1 appears twice"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"peers=2@h:1,3@h:2"}); }),
              HasSubstr("this node's id 1 is not in the peer list"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"peers=1@h"}); }),
              HasSubstr("expected id@host:port"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"peers=1@h:99999"}); }),
              HasSubstr("port outside 1-65535"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"peers=1@h:1;"}); }),
              HasSubstr("nothing after ';'"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"peers=1@h:1;h:0"}); }),
              HasSubstr("ZooKeeper port outside 1-65535"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"peers=1@h:1;x"}); }),
              HasSubstr("ZooKeeper port that is not a number"));
}

TEST(Config, PluginParameterErrorsNameThePlugin) {
  auto c = load_config(std::nullopt, {"storage.fsync=perhaps", "storage.segmnt_bytes=5"});
  std::vector<ParamSpec> schema = {
      {"fsync", ParamType::boolean, true, "", {}, {}, {}},
      {"segment_bytes", ParamType::integer, std::int64_t{1}, "", {}, {}, {}}};
  auto msg = error_of([&] { c.storage.resolve("storage plugin 'wal'", schema); });
  EXPECT_THAT(msg, HasSubstr("storage plugin 'wal'"));
}

TEST(Config, ResolvedConfigPrintsAsToml) {
  auto c = load_config(kData + "/node_ok.toml", {});
  auto text = c.to_toml();
  EXPECT_THAT(text, HasSubstr("client_port = 7002"));
  EXPECT_THAT(text, HasSubstr("[broadcast]\nplugin = \"zab\""));
  EXPECT_THAT(text, HasSubstr("\"4@127.0.0.1:7104:observer\""));
}

// Found by config_toml_fuzz (harness/fuzz/regressions/config_toml): to_toml wrote strings and
// keys unescaped, so a value with a control character, a quote or a backslash (here from
// overrides) printed as TOML that does not load, and a real lost its digits.
TEST(Config, PrintedConfigLoadsAgainWhateverTheStrings) {
  auto c =
      load_config(std::nullopt, {"data_dir=/tmp/a\"b\\c\x0e"
                                 "d\te",
                                 "broadcast=raft\x7f", "broadcast.note=x\ny", "storage.odd key=1"});
  const std::string printed = c.to_toml();
  const auto file = std::filesystem::temp_directory_path() /
                    ("ql_config_test_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream f(file);
    f << printed;
  }
  NodeConfig again;
  ASSERT_NO_THROW(again = load_config(file, {})) << printed;
  std::filesystem::remove(file);
  EXPECT_EQ(again.settings.get_string("data_dir"),
            "/tmp/a\"b\\c\x0e"
            "d\te");
  EXPECT_EQ(again.broadcast.name, "raft\x7f");
  EXPECT_EQ(std::get<std::string>(again.broadcast.values.at("note")), "x\ny");
  EXPECT_EQ(std::get<std::string>(again.storage.values.at("odd key")), "1");
}

// Found by config_toml_fuzz: an override with bytes that are not UTF-8 was taken, and the
// configuration then printed as TOML that does not load. It is refused like a bad value.
TEST(Config, OverrideThatIsNotUtf8IsRefused) {
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"data_dir=/tmp/\xff"}); }),
              HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"broadcast.x=\xc3"}); }),
              HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of([] { load_config(std::nullopt, {"data_dir=\xed\xa0\x80"}); }),
              HasSubstr("not valid UTF-8"));  // a surrogate
  EXPECT_NO_THROW(load_config(std::nullopt, {"data_dir=/tmp/d\xc3\xa9j\xc3\xa0"}));
}
