// The built plugin module: descriptor, parameter schema, factory.
#include <dlfcn.h>

#include <gtest/gtest.h>

#include "quorumlab/plugin/descriptor.hpp"
#include "test_util.hpp"

namespace quorumlab::storage {
namespace {

const PluginDescriptor* load_descriptor(void*& handle) {
  handle = ::dlopen(QL_STORAGE_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return nullptr;
  // BOOST_DLL_ALIAS exports a pointer to the descriptor under the alias name.
  auto* alias = static_cast<const void* const*>(::dlsym(handle, "quorumlab_plugin"));
  return alias ? static_cast<const PluginDescriptor*>(*alias) : nullptr;
}

TEST(WalPlugin, DescriptorSchemaAndFactory) {
  void* handle = nullptr;
  const PluginDescriptor* d = load_descriptor(handle);
  ASSERT_NE(d, nullptr) << ::dlerror();
  EXPECT_EQ(d->magic, kPluginMagic);
  EXPECT_EQ(d->abi_version, kPluginAbiVersion);
  EXPECT_EQ(d->kind, PluginKind::storage);
  EXPECT_STREQ(d->name, "wal");
  ASSERT_NE(d->make_storage, nullptr);
  EXPECT_EQ(d->make_broadcast, nullptr);

  const std::vector<ParamSpec> schema = d->params();
  std::map<std::string, ParamValue> defaults;
  for (const ParamSpec& p : schema) {
    EXPECT_FALSE(p.help.empty()) << p.name;
    defaults[p.name] = p.default_value;
  }
  EXPECT_EQ(defaults.at("fsync"), ParamValue(true));
  EXPECT_EQ(defaults.at("segment_bytes"), ParamValue(std::int64_t{64} << 20));
  EXPECT_EQ(defaults.at("preallocate"), ParamValue(false));
  EXPECT_EQ(defaults.at("snapshot_keep"), ParamValue(std::int64_t{2}));
  EXPECT_TRUE(defaults.count("max_pending_bytes"));
  EXPECT_EQ(defaults.at("fsync_delay_ms"), ParamValue(std::int64_t{0}));

  test::TempDir dir;
  {
    PluginContext ctx;
    ctx.params =
        resolve_params("storage plugin 'wal'", schema, {{"segment_bytes", std::int64_t{8192}}});
    ctx.logger = test::quiet_logger();
    ctx.data_dir = dir.path();
    std::unique_ptr<Storage> s = d->make_storage(ctx);
    EXPECT_TRUE(s->recover().entries.empty());
    test::DurableWaiter waiter(*s);
    s->append(test::make_entries(1, 100, 1, 200));
    ASSERT_TRUE(waiter.wait(s->flush()));
    EXPECT_GT(test::segment_files(dir.wal()).size(), 1u);  // segment_bytes reached the object
  }
  {
    PluginContext ctx;
    ctx.params = resolve_params("storage plugin 'wal'", schema, {});
    ctx.logger = test::quiet_logger();
    EXPECT_THROW(d->make_storage(ctx), ConfigError);  // no data directory
  }
  ::dlclose(handle);
}

}  // namespace
}  // namespace quorumlab::storage
