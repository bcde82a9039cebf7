// The `wal` storage plugin: descriptor, parameter schema and factory.
#include <memory>

#include "quorumlab/log.hpp"
#include "quorumlab/plugin/descriptor.hpp"
#include "wal/wal_storage.hpp"

namespace {

using quorumlab::ParamSpec;
using quorumlab::ParamType;

std::vector<ParamSpec> schema() {
  const quorumlab::storage::WalOptions d;
  return {
      {"fsync",
       ParamType::boolean,
       d.fsync,
       "fdatasync the log before a flush ticket completes (group commit: one fdatasync covers "
       "every flush queued while the previous one ran). false completes tickets once the log is "
       "written to the file, without fdatasync: for experiments that exclude disk latency; "
       "acknowledged writes survive a process crash, a machine crash may lose them",
       {},
       {},
       {}},
      {"segment_bytes",
       ParamType::integer,
       static_cast<std::int64_t>(d.segment_bytes),
       "size at which the log rolls over to a new segment file; segments wholly covered by a "
       "durable snapshot are deleted",
       4096.0,
       1099511627776.0,
       {}},
      {"preallocate",
       ParamType::boolean,
       d.preallocate,
       "reserve segment_bytes on disk (posix_fallocate) when a segment is created, so appends "
       "do not grow the file",
       {},
       {},
       {}},
      {"snapshot_keep",
       ParamType::integer,
       static_cast<std::int64_t>(d.snapshot_keep),
       "older snapshot files kept besides the newest one",
       0.0,
       1000.0,
       {}},
      {"max_pending_bytes",
       ParamType::integer,
       static_cast<std::int64_t>(d.max_pending_bytes),
       "bound on bytes handed to the log writer and not yet taken by it; flush() blocks the "
       "reactor beyond it (backpressure)",
       1048576.0,
       68719476736.0,
       {}},
      {"fsync_delay_ms",
       ParamType::integer,
       static_cast<std::int64_t>(d.fsync_delay_ms),
       "a slow disk: each sync of the log (fdatasync, or with fsync=false the completion of the "
       "write) waits this long first, on the writer thread, so group commit batches more; also "
       "set on a running server as a fault (qlab cluster slow-disk, Storage::set_fsync_delay)",
       0.0,
       600000.0,
       {}},
  };
}

std::unique_ptr<quorumlab::Storage> make(quorumlab::PluginContext& ctx) {
  if (ctx.data_dir.empty()) {
    throw quorumlab::ConfigError("storage plugin 'wal' needs a data directory (data_dir)");
  }
  quorumlab::storage::WalOptions o;
  o.dir = ctx.data_dir / "wal";
  o.fsync = ctx.params.get_bool("fsync");
  o.segment_bytes = static_cast<std::uint64_t>(ctx.params.get_int("segment_bytes"));
  o.preallocate = ctx.params.get_bool("preallocate");
  o.snapshot_keep = static_cast<std::uint32_t>(ctx.params.get_int("snapshot_keep"));
  o.max_pending_bytes = static_cast<std::uint64_t>(ctx.params.get_int("max_pending_bytes"));
  o.fsync_delay_ms = static_cast<std::uint32_t>(ctx.params.get_int("fsync_delay_ms"));
  auto logger = ctx.logger ? ctx.logger : quorumlab::log::get("wal");
  return std::make_unique<quorumlab::storage::WalStorage>(std::move(o), std::move(logger));
}

}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const quorumlab::PluginDescriptor ql_storage_wal_descriptor = {
    quorumlab::kPluginMagic,
    quorumlab::kPluginAbiVersion,
    quorumlab::PluginKind::storage,
    "wal",
    "1.0",
    "segmented append-only log with checksummed records, snapshots, group-commit fsync",
    &schema,
    nullptr,
    &make,
    nullptr,
    0,
    quorumlab::ReadGuarantee::none,
    nullptr};
QL_EXPORT_PLUGIN(ql_storage_wal_descriptor)
