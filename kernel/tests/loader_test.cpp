// Plugin loading: the descriptor ABI and every failure case of the loader.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quorumlab/plugin/loader.hpp"

using namespace quorumlab;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = QL_TEST_PLUGIN_DIR;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(no error)";
}

PluginContext context(Params params) {
  static Rng rng(1);
  static NullTracer tracer;
  PluginContext ctx;
  ctx.self = 1;
  ctx.membership.voters = {1};
  ctx.params = std::move(params);
  ctx.rng = &rng;
  ctx.tracer = &tracer;
  return ctx;
}

}  // namespace

TEST(PluginLoader, ListsOnlyValidPluginsAndExplainsTheRest) {
  PluginLoader loader(kDir);
  auto all = loader.list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "test-counting");
  EXPECT_EQ(all[0].kind, PluginKind::broadcast);
  EXPECT_EQ(all[0].version, "0.1");
  ASSERT_EQ(all[0].params.size(), 3u);
  EXPECT_EQ(all[0].params[0].name, "limit");
  auto problems = loader.problems();
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_THAT(problems[0], HasSubstr("test_abi2.so"));
  EXPECT_THAT(problems[1], HasSubstr("test_future_abi.so"));
  EXPECT_THAT(problems[1], HasSubstr("ABI version 999"));
  EXPECT_THAT(problems[2], HasSubstr("test_not_a_plugin.so"));
  EXPECT_THAT(problems[2], HasSubstr("not a quorumlab plugin"));
}

TEST(PluginLoader, InstantiatesWithResolvedParameters) {
  PluginLoader loader(kDir);
  auto info = loader.describe(PluginKind::broadcast, "test-counting");
  auto ctx = context(loader.resolve(info, {{"limit", std::int64_t{1}}}));
  auto b = loader.make_broadcast("test-counting", ctx);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->propose({}).accepted);
  b->tick();
  EXPECT_FALSE(b->propose({}).accepted);
  EXPECT_EQ(ctx.params.get_string("mode"), "fast");  // default filled in
}

TEST(PluginLoader, ObjectKeepsItsLibraryLoadedAfterTheLoaderIsGone) {
  std::shared_ptr<Broadcast> b;
  {
    PluginLoader loader(kDir);
    auto ctx = context(loader.resolve(loader.describe(PluginKind::broadcast, "test-counting"), {}));
    b = loader.make_broadcast("test-counting", ctx);
  }
  b->tick();  // code lives in the plugin; would crash if it had been unloaded
  EXPECT_TRUE(b->propose({}).accepted);
}

TEST(PluginLoader, NoSuchPluginListsTheAvailableOnes) {
  PluginLoader loader(kDir);
  auto msg = error_of([&] { loader.describe(PluginKind::broadcast, "paxos"); });
  EXPECT_THAT(msg, HasSubstr("no broadcast plugin named 'paxos'"));
  EXPECT_THAT(msg, HasSubstr("available: test-counting"));
  msg = error_of([&] { loader.describe(PluginKind::read_policy, "lease"); });
  EXPECT_THAT(msg, HasSubstr("available: (none)"));
}

TEST(PluginLoader, WrongKindIsNamed) {
  PluginLoader loader(kDir);
  auto ctx = context({});
  auto msg = error_of([&] { loader.make_storage("test-counting", ctx); });
  EXPECT_THAT(msg, HasSubstr("test_counting.so"));
  EXPECT_THAT(msg, HasSubstr("is a broadcast plugin, not a storage plugin"));
}

TEST(PluginLoader, AbiMismatchNamesFileAndVersions) {
  PluginLoader loader(kDir);
  auto msg = error_of(
      [&] { loader.describe(PluginKind::broadcast, (kDir / "test_future_abi.so").string()); });
  EXPECT_THAT(msg, HasSubstr("test_future_abi.so"));
  EXPECT_THAT(msg, HasSubstr("ABI version 999"));
  EXPECT_THAT(msg, HasSubstr(std::to_string(kPluginAbiVersion)));
}

TEST(PluginLoader, PluginBuiltAgainstAbi2IsRefusedNamingBothVersions) {
  ASSERT_EQ(kPluginAbiVersion, 5u);
  PluginLoader loader(kDir);
  auto msg =
      error_of([&] { loader.describe(PluginKind::broadcast, (kDir / "test_abi2.so").string()); });
  EXPECT_THAT(msg, HasSubstr("test_abi2.so: plugin ABI version 2 does not match this kernel's "
                             "ABI version 5; rebuild the plugin"));
  // By name too: the refused file is not a candidate, and the problem is listed.
  msg = error_of([&] { loader.describe(PluginKind::broadcast, "test-abi2"); });
  EXPECT_THAT(msg, HasSubstr("no broadcast plugin named 'test-abi2'"));
}

TEST(PluginLoader, CapabilitiesComeFromTheDescriptor) {
  PluginLoader loader(kDir);
  auto info = loader.describe(PluginKind::broadcast, "test-counting");
  EXPECT_EQ(info.barrier_kinds, barrier_bit(BarrierKind::sync_op));
  EXPECT_EQ(barrier_kinds_text(info.barrier_kinds), "sync_op");
  PluginInfo policy;
  policy.name = "needs-lease";
  policy.kind = PluginKind::read_policy;
  policy.barrier_kinds = barrier_bit(BarrierKind::lease) | barrier_bit(BarrierKind::sync_op);
  EXPECT_EQ(unsupported_pair(info, policy),
            "read policy 'needs-lease' needs the lease barrier, which broadcast plugin "
            "'test-counting' does not support (it has: sync_op)");
  policy.barrier_kinds = barrier_bit(BarrierKind::sync_op);
  EXPECT_EQ(unsupported_pair(info, policy), "");
}

TEST(PluginLoader, SharedLibraryWithoutDescriptorIsNotAPlugin) {
  PluginLoader loader(kDir);
  auto msg = error_of(
      [&] { loader.describe(PluginKind::broadcast, (kDir / "test_not_a_plugin.so").string()); });
  EXPECT_THAT(msg, HasSubstr("test_not_a_plugin.so: not a quorumlab plugin"));
}

TEST(PluginLoader, FileThatIsNoSharedLibrary) {
  auto dir = fs::temp_directory_path() / ("ql_loader_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "garbage.so") << "this is not an ELF file";
  PluginLoader loader(dir);
  EXPECT_TRUE(loader.list().empty());
  ASSERT_EQ(loader.problems().size(), 1u);
  EXPECT_THAT(loader.problems()[0], HasSubstr("garbage.so: cannot be loaded as a shared library"));
  auto msg =
      error_of([&] { loader.describe(PluginKind::broadcast, (dir / "missing.so").string()); });
  EXPECT_THAT(msg, HasSubstr("missing.so: no such plugin file"));
  fs::remove_all(dir);
}

TEST(PluginLoader, MissingDirectory) {
  auto msg = error_of([] { PluginLoader loader("/nonexistent/plugins"); });
  EXPECT_THAT(msg, HasSubstr("plugin directory '/nonexistent/plugins' does not exist"));
}

TEST(PluginLoader, UnknownParameterListsKnownOnes) {
  PluginLoader loader(kDir);
  auto info = loader.describe(PluginKind::broadcast, "test-counting");
  auto msg = error_of([&] { loader.resolve(info, {{"limt", std::int64_t{1}}}); });
  EXPECT_THAT(msg, HasSubstr("broadcast plugin 'test-counting'"));
  EXPECT_THAT(msg, HasSubstr("unknown parameter 'limt'"));
  EXPECT_THAT(msg, HasSubstr("known parameters: limit, mode, ratio"));
}

TEST(PluginLoader, IllTypedAndOutOfRangeParameters) {
  PluginLoader loader(kDir);
  auto info = loader.describe(PluginKind::broadcast, "test-counting");
  EXPECT_THAT(error_of([&] {
                loader.resolve(info, {{"limit", std::string("many")}});
              }),
              HasSubstr("parameter 'limit' must be integer, got string \"many\""));
  EXPECT_THAT(error_of([&] {
                loader.resolve(info, {{"limit", std::int64_t{1000}}});
              }),
              HasSubstr("'limit' = 1000 is out of range"));
  EXPECT_THAT(error_of([&] {
                loader.resolve(info, {{"mode", std::string("medium")}});
              }),
              HasSubstr("allowed values: fast, slow"));
  // An integer is accepted where a real is expected.
  auto p = loader.resolve(info, {{"ratio", std::int64_t{1}}});
  EXPECT_DOUBLE_EQ(p.get_real("ratio"), 1.0);
}
