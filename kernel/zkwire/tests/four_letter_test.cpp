// Four-letter words (reference/zookeeper.md §1.15): detection and the text of each reply.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quorumlab/zkwire/four_letter.hpp"

using namespace quorumlab::zkwire;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

const std::uint8_t* bytes(const char* s) {
  return reinterpret_cast<const std::uint8_t*>(s);
}

ServerInfo leader() {
  ServerInfo s;
  s.server_id = 2;
  s.role = "leader";
  s.leader = 2;
  s.applied_zxid = 0x100000003;
  s.znode_count = 6;
  s.ephemerals_count = 1;
  s.voters = 3;
  s.broadcast = "zab";
  s.counters = {{"reads_local", 7}, {"lease_hits", 3}};
  s.config = {{"clientPort", "2181"}, {"server.1", "127.0.0.1:7101:participant"}};
  return s;
}

FrontendInfo two_clients() {
  FrontendInfo f;
  ConnectionInfo a;
  a.address = "127.0.0.1:5000";
  a.session_id = 0x1000000000001;
  a.received = 4;
  a.sent = 3;
  a.last_op = "getData";
  ConnectionInfo b;
  b.address = "127.0.0.1:5001";
  f.connections = {a, b};
  f.packets_received = 10;
  f.packets_sent = 9;
  f.avg_latency_us = 1500;
  f.max_latency_us = 4000;
  return f;
}

}  // namespace

TEST(FourLetterWords, Detection) {
  for (const char* w : {"ruok", "srvr", "stat", "mntr", "cons", "wchs", "conf", "envi", "isro",
                        "dump", "wchc", "wchp", "crst", "srst", "dirs", "hash", "gtmk", "stmk"}) {
    EXPECT_TRUE(is_four_letter_word(bytes(w))) << w;
  }
  // A ConnectRequest frame starts with its length (44 or 45): never a command.
  const std::uint8_t connect[4] = {0, 0, 0, 45};
  EXPECT_FALSE(is_four_letter_word(connect));
  EXPECT_FALSE(is_four_letter_word(bytes("RUOK")));
  const std::uint8_t telnet[4] = {0xff, 0xf4, 0xff, 0xfd};
  EXPECT_TRUE(is_telnet_close(telnet));
  EXPECT_FALSE(is_telnet_close(connect));
}

TEST(FourLetterWords, RuokAndIsro) {
  EXPECT_EQ(four_letter_reply("ruok", {}, {}), "imok");
  EXPECT_EQ(four_letter_reply("isro", {}, {}), "rw");
  ServerInfo read_only;
  read_only.read_only = true;  // outside a quorum, with the read_only_mode setting
  EXPECT_EQ(four_letter_reply("isro", read_only, {}), "ro");
}

TEST(FourLetterWords, SrvrAndStat) {
  std::string srvr = four_letter_reply("srvr", leader(), two_clients());
  EXPECT_THAT(srvr, StartsWith("Zookeeper version: 3.8.0-quorumlab"));
  EXPECT_THAT(srvr, HasSubstr("Latency min/avg/max: 0/1.5/4\n"));
  EXPECT_THAT(srvr, HasSubstr("Received: 10\nSent: 9\nConnections: 2\n"));
  EXPECT_THAT(srvr, HasSubstr("Zxid: 0x100000003\nMode: leader\nNode count: 6\n"));
  std::string stat = four_letter_reply("stat", leader(), two_clients());
  EXPECT_THAT(stat, HasSubstr("Clients:\n /127.0.0.1:5000[1](queued=0,recved=4,sent=3)\n"));
  EXPECT_THAT(stat, HasSubstr("Mode: leader\n"));
}

TEST(FourLetterWords, MntrIsKeyTabValue) {
  std::string m = four_letter_reply("mntr", leader(), two_clients());
  EXPECT_THAT(m, HasSubstr("zk_server_state\tleader\n"));
  EXPECT_THAT(m, HasSubstr("zk_znode_count\t6\n"));
  EXPECT_THAT(m, HasSubstr("zk_ephemerals_count\t1\n"));
  EXPECT_THAT(m, HasSubstr("zk_num_alive_connections\t2\n"));
  EXPECT_THAT(m, HasSubstr("zk_followers\t2\n"));
  EXPECT_THAT(m, HasSubstr("ql_broadcast\tzab\n"));
  EXPECT_THAT(m, HasSubstr("ql_reads_local\t7\nql_lease_hits\t3\n"));
  for (std::size_t pos = 0, next; pos < m.size(); pos = next + 1) {
    next = m.find('\n', pos);
    ASSERT_NE(next, std::string::npos);
    std::string line = m.substr(pos, next - pos);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), 1) << line;
  }
}

TEST(FourLetterWords, ConsListsSessions) {
  std::string c = four_letter_reply("cons", leader(), two_clients());
  EXPECT_THAT(c, HasSubstr(" /127.0.0.1:5000[1](queued=0,recved=4,sent=3,sid=0x1000000000001,"
                           "lop=getData"));
  EXPECT_THAT(c, HasSubstr(" /127.0.0.1:5001[1](queued=0,recved=0,sent=0)\n"));
}

TEST(FourLetterWords, WchsConfEnvi) {
  ServerInfo s = leader();
  EXPECT_THAT(four_letter_reply("wchs", s, two_clients()), HasSubstr("not available"));
  s.watch_count = 5;
  s.watched_paths = 3;
  EXPECT_EQ(four_letter_reply("wchs", s, two_clients()),
            "2 connections watching 3 paths\nTotal watches:5\n");
  EXPECT_EQ(four_letter_reply("conf", s, {}),
            "clientPort=2181\nserver.1=127.0.0.1:7101:participant\n");
  std::string e = four_letter_reply("envi", s, {});
  EXPECT_THAT(e, StartsWith("Environment:\nzookeeper.version=3.8.0-quorumlab"));
}

TEST(FourLetterWords, NotServingAndNotWhitelisted) {
  ServerInfo s = leader();
  s.serving = false;
  EXPECT_EQ(four_letter_reply("srvr", s, {}),
            "This ZooKeeper instance is not currently serving requests\n");
  EXPECT_EQ(four_letter_reply("ruok", s, {}), "imok");
  EXPECT_EQ(four_letter_reply("dump", leader(), {}),
            "dump is not executed because it is not in the whitelist.\n");
}
