// Finds plugins by kind and name in a plugin directory and instantiates them.
//
// Every failure throws PluginError with a message naming the file and the problem:
// no such plugin (listing the available ones), not a quorumlab plugin, wrong kind, ABI
// version mismatch, unknown or ill-typed parameter.
//
// An object made by a plugin has its code in the plugin library: the returned shared_ptr's
// deleter keeps the library loaded until the object is destroyed.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/config.hpp>

#include "quorumlab/plugin/descriptor.hpp"

namespace quorumlab {

class BOOST_SYMBOL_VISIBLE PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What `qlab plugins` shows for one installed plugin.
struct PluginInfo {
  std::filesystem::path file;
  PluginKind kind = PluginKind::broadcast;
  std::string name;
  std::string version;
  std::string summary;
  std::vector<ParamSpec> params;
  std::uint32_t barrier_kinds = 0;  ///< PluginDescriptor::barrier_kinds
  ReadGuarantee read_guarantee = ReadGuarantee::none;
  /// broadcast: the listed kinds the plugin cannot serve with its default parameters, and why
  /// (PluginDescriptor::barrier_unavailable), e.g. {"lease", "provides only with ..."}.
  std::map<std::string, std::string> unavailable_by_default;
};

/// The names of the barrier kinds in a mask, in kind order ("sync_op", "read_index").
std::vector<std::string> barrier_kind_names(std::uint32_t mask);
/// "sync_op, read_index" for a barrier-kind mask.
std::string barrier_kinds_text(std::uint32_t mask);

/// Empty when broadcast plugin `broadcast` implements every barrier kind that read policy
/// `read_policy` needs. Otherwise one line naming both plugins and the missing kinds: the
/// kernel refuses such a pair at start (qlab server, qlab cluster start, qlab sim).
std::string unsupported_pair(const PluginInfo& broadcast, const PluginInfo& read_policy);

struct PluginChoice;

class PluginLoader {
 public:
  /// `dir` must exist; otherwise PluginError.
  explicit PluginLoader(std::filesystem::path dir);

  /// $QL_PLUGIN_DIR if set, otherwise `plugins/` next to the running executable.
  static std::filesystem::path default_dir();

  const std::filesystem::path& dir() const { return dir_; }

  /// Every valid plugin in the directory, sorted by kind then name. Files that are not valid
  /// plugins are skipped and described in `problems()`.
  std::vector<PluginInfo> list() const;
  /// Messages about files that `list()` skipped.
  std::vector<std::string> problems() const;

  /// Describes the plugin of `kind` called `name` (or the plugin file at a path containing '/').
  PluginInfo describe(PluginKind kind, const std::string& name) const;

  /// Resolves `given` against the plugin's schema (throws PluginError naming the plugin and key).
  Params resolve(const PluginInfo& info, const std::map<std::string, ParamValue>& given) const;

  /// Why broadcast plugin `broadcast`, with resolved `params`, cannot serve barriers of `kind`
  /// (its descriptor's barrier_unavailable); empty when it can.
  std::string barrier_unavailable(const std::string& broadcast, const Params& params,
                                  BarrierKind kind) const;

  /// unsupported_pair, then for every kind the policy needs the plugin's own answer for these
  /// parameters: one line naming the policy, the kind, the plugin and what to change.
  std::string unsupported_pair(const PluginInfo& broadcast, const Params& broadcast_params,
                               const PluginInfo& read_policy) const;

  /// Instantiate. `ctx.params` must already be resolved (see `resolve`).
  std::shared_ptr<Broadcast> make_broadcast(const std::string& name, PluginContext& ctx) const;
  std::shared_ptr<Storage> make_storage(const std::string& name, PluginContext& ctx) const;
  std::shared_ptr<ReadPolicy> make_read_policy(const std::string& name, PluginContext& ctx) const;

 private:
  struct Loaded;
  std::shared_ptr<Loaded> open(const std::filesystem::path& file) const;
  std::shared_ptr<Loaded> find(PluginKind kind, const std::string& name) const;
  std::vector<std::filesystem::path> candidates() const;

  std::filesystem::path dir_;
};

/// Describes both plugins (PluginError if one is missing), resolves the broadcast plugin's
/// parameters (ConfigError naming a bad one) and throws ConfigError with unsupported_pair's
/// line if the pair is refused with these parameters.
void require_supported_pair(const PluginLoader& loader, const PluginChoice& broadcast,
                            const std::string& read_policy);

}  // namespace quorumlab
