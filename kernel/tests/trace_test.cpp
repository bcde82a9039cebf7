// The trace stream: off costs nothing (events are not even built); on, one JSON line per event.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "quorumlab/trace.hpp"

using namespace quorumlab;

namespace {
int built = 0;
TraceEvent make_event() {
  ++built;
  return TraceEvent{TraceKind::commit, 2, 3, 5, (Zxid{5} << 32) | 7, "quote \" and backslash \\"};
}
}  // namespace

TEST(Trace, DisabledTracerDoesNotBuildEvents) {
  NullTracer off;
  built = 0;
  QL_TRACE(off, make_event());
  EXPECT_EQ(built, 0);
}

TEST(Trace, FileTracerWritesOneJsonLinePerEvent) {
  auto path = std::filesystem::temp_directory_path() / ("ql_trace_" + std::to_string(::getpid()));
  {
    FileTracer t(path.string());
    built = 0;
    QL_TRACE(t, make_event());
    QL_TRACE(t, (TraceEvent{TraceKind::became_leader, 1, 0, 6, 0, ""}));
    EXPECT_EQ(built, 1);
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line))
    lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["kind"], "commit");
  EXPECT_EQ(lines[0]["node"], 2);
  EXPECT_EQ(lines[0]["zxid"], "0x500000007");
  EXPECT_EQ(lines[0]["detail"], "quote \" and backslash \\");
  EXPECT_EQ(lines[1]["kind"], "became_leader");
  std::filesystem::remove(path);
  EXPECT_THROW(FileTracer("/nonexistent/dir/trace"), std::runtime_error);
}
