#include "quorumlab/plugin/loader.hpp"

#include "quorumlab/config.hpp"

#include <algorithm>
#include <cstdlib>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

namespace quorumlab {

namespace fs = std::filesystem;

struct PluginLoader::Loaded {
  boost::dll::shared_library library;
  const PluginDescriptor* descriptor = nullptr;
  fs::path file;
};

namespace {

std::string kinds_list(const std::vector<PluginInfo>& all, PluginKind kind) {
  std::string out;
  for (const auto& p : all) {
    if (p.kind != kind) continue;
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

PluginLoader::PluginLoader(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    throw PluginError("plugin directory '" + dir_.string() + "' does not exist");
  }
  dir_ = fs::absolute(dir_);
}

fs::path PluginLoader::default_dir() {
  if (const char* env = std::getenv("QL_PLUGIN_DIR"); env && *env) return fs::path(env);
  fs::path exe(boost::dll::program_location().string());
  return exe.parent_path() / "plugins";
}

std::vector<fs::path> PluginLoader::candidates() const {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.is_regular_file() && entry.path().extension() == ".so") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

PluginInfo info_of(const fs::path& file, const PluginDescriptor& d) {
  PluginInfo info;
  info.file = file;
  info.kind = d.kind;
  info.name = d.name;
  info.version = d.version ? d.version : "";
  info.summary = d.summary ? d.summary : "";
  info.params = d.params();
  info.barrier_kinds = d.barrier_kinds;
  info.read_guarantee = d.read_guarantee;
  if (d.barrier_unavailable) {
    const Params defaults = resolve_params(info.name, info.params, {});
    for (std::size_t k = 0; k < kBarrierKindCount; ++k) {
      const auto kind = static_cast<BarrierKind>(k);
      if ((d.barrier_kinds & barrier_bit(kind)) == 0) continue;
      if (std::string why = d.barrier_unavailable(defaults, kind); !why.empty()) {
        info.unavailable_by_default[to_string(kind)] = why;
      }
    }
  }
  return info;
}

}  // namespace

std::vector<std::string> barrier_kind_names(std::uint32_t mask) {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < kBarrierKindCount; ++k) {
    if (mask & barrier_bit(static_cast<BarrierKind>(k))) {
      out.emplace_back(to_string(static_cast<BarrierKind>(k)));
    }
  }
  return out;
}

std::string barrier_kinds_text(std::uint32_t mask) {
  std::string out;
  for (const auto& name : barrier_kind_names(mask))
    out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string unsupported_pair(const PluginInfo& broadcast, const PluginInfo& read_policy) {
  const std::uint32_t missing = read_policy.barrier_kinds & ~broadcast.barrier_kinds;
  if (missing == 0) return {};
  return "read policy '" + read_policy.name + "' needs the " + barrier_kinds_text(missing) +
         " barrier, which broadcast plugin '" + broadcast.name + "' does not support (it has: " +
         (broadcast.barrier_kinds ? barrier_kinds_text(broadcast.barrier_kinds)
                                  : std::string("none")) +
         ")";
}

std::string PluginLoader::barrier_unavailable(const std::string& broadcast, const Params& params,
                                              BarrierKind kind) const {
  auto l = find(PluginKind::broadcast, broadcast);
  if (!l->descriptor->barrier_unavailable) return {};
  return l->descriptor->barrier_unavailable(params, kind);
}

std::string PluginLoader::unsupported_pair(const PluginInfo& broadcast,
                                           const Params& broadcast_params,
                                           const PluginInfo& read_policy) const {
  if (std::string why = quorumlab::unsupported_pair(broadcast, read_policy); !why.empty()) {
    return why;
  }
  for (std::size_t k = 0; k < kBarrierKindCount; ++k) {
    const auto kind = static_cast<BarrierKind>(k);
    if ((read_policy.barrier_kinds & barrier_bit(kind)) == 0) continue;
    if (std::string why = barrier_unavailable(broadcast.name, broadcast_params, kind);
        !why.empty()) {
      return "read policy '" + read_policy.name + "' needs the " + to_string(kind) +
             " barrier, which broadcast plugin '" + broadcast.name + "' " + why;
    }
  }
  return {};
}

void require_supported_pair(const PluginLoader& loader, const PluginChoice& broadcast,
                            const std::string& read_policy) {
  const PluginInfo b = loader.describe(PluginKind::broadcast, broadcast.name);
  const PluginInfo p = loader.describe(PluginKind::read_policy, read_policy);
  const Params params = broadcast.resolve("broadcast plugin '" + b.name + "'", b.params);
  const std::string why = loader.unsupported_pair(b, params, p);
  if (!why.empty()) throw ConfigError(why);
}

std::shared_ptr<PluginLoader::Loaded> PluginLoader::open(const fs::path& file) const {
  auto loaded = std::make_shared<Loaded>();
  loaded->file = file;
  boost::system::error_code ec;
  // Absolute path: a bare name would be resolved against the working directory.
  loaded->library.load(boost::dll::fs::path(fs::absolute(file).string()),
                       boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    throw PluginError(file.string() + ": cannot be loaded as a shared library: " + ec.message());
  }
  if (!loaded->library.has("quorumlab_plugin")) {
    throw PluginError(file.string() +
                      ": not a quorumlab plugin (it exports no 'quorumlab_plugin' descriptor)");
  }
  const auto& d = loaded->library.get_alias<const PluginDescriptor>("quorumlab_plugin");
  if (d.magic != kPluginMagic) {
    throw PluginError(file.string() + ": not a quorumlab plugin (bad descriptor magic)");
  }
  if (d.abi_version != kPluginAbiVersion) {
    throw PluginError(file.string() + ": plugin ABI version " + std::to_string(d.abi_version) +
                      " does not match this kernel's ABI version " +
                      std::to_string(kPluginAbiVersion) + "; rebuild the plugin");
  }
  const bool factory_ok = (d.kind == PluginKind::broadcast && d.make_broadcast) ||
                          (d.kind == PluginKind::storage && d.make_storage) ||
                          (d.kind == PluginKind::read_policy && d.make_read_policy);
  if (!factory_ok || !d.name || !d.params) {
    throw PluginError(file.string() +
                      ": malformed plugin descriptor (missing name, schema or "
                      "the factory for its kind)");
  }
  loaded->descriptor = &d;
  return loaded;
}

std::vector<PluginInfo> PluginLoader::list() const {
  std::vector<PluginInfo> out;
  for (const auto& file : candidates()) {
    try {
      auto l = open(file);
      const auto& d = *l->descriptor;
      out.push_back(info_of(file, d));
    } catch (const PluginError&) {
      // reported by problems()
    }
  }
  std::sort(out.begin(), out.end(), [](const PluginInfo& a, const PluginInfo& b) {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  });
  return out;
}

std::vector<std::string> PluginLoader::problems() const {
  std::vector<std::string> out;
  for (const auto& file : candidates()) {
    try {
      open(file);
    } catch (const PluginError& e) {
      out.emplace_back(e.what());
    }
  }
  return out;
}

std::shared_ptr<PluginLoader::Loaded> PluginLoader::find(PluginKind kind,
                                                         const std::string& name) const {
  if (name.find('/') != std::string::npos) {
    fs::path file(name);
    if (!fs::exists(file)) throw PluginError(name + ": no such plugin file");
    auto l = open(file);
    if (l->descriptor->kind != kind) {
      throw PluginError(name + ": plugin '" + l->descriptor->name + "' is a " +
                        to_string(l->descriptor->kind) + " plugin, not a " + to_string(kind) +
                        " plugin");
    }
    return l;
  }
  std::shared_ptr<Loaded> wrong_kind;
  for (const auto& file : candidates()) {
    std::shared_ptr<Loaded> l;
    try {
      l = open(file);
    } catch (const PluginError&) {
      continue;
    }
    if (name != l->descriptor->name) continue;
    if (l->descriptor->kind == kind) return l;
    wrong_kind = l;
  }
  if (wrong_kind) {
    throw PluginError(wrong_kind->file.string() + ": plugin '" + name + "' is a " +
                      to_string(wrong_kind->descriptor->kind) + " plugin, not a " +
                      to_string(kind) + " plugin; " + to_string(kind) +
                      " plugins available: " + kinds_list(list(), kind));
  }
  throw PluginError("no " + std::string(to_string(kind)) + " plugin named '" + name + "' in " +
                    dir_.string() + "; available: " + kinds_list(list(), kind));
}

PluginInfo PluginLoader::describe(PluginKind kind, const std::string& name) const {
  auto l = find(kind, name);
  const auto& d = *l->descriptor;
  return info_of(l->file, d);
}

Params PluginLoader::resolve(const PluginInfo& info,
                             const std::map<std::string, ParamValue>& given) const {
  try {
    return resolve_params(std::string(to_string(info.kind)) + " plugin '" + info.name + "' (" +
                              info.file.string() + ")",
                          info.params, given);
  } catch (const ConfigError& e) {
    throw PluginError(e.what());
  }
}

namespace {
template <typename T>
std::shared_ptr<T> keep_loaded(std::unique_ptr<T> obj, boost::dll::shared_library lib,
                               const std::string& what) {
  if (!obj) throw PluginError(what + ": factory returned nothing");
  return std::shared_ptr<T>(obj.release(), [lib](T* p) { delete p; });
}
}  // namespace

std::shared_ptr<Broadcast> PluginLoader::make_broadcast(const std::string& name,
                                                        PluginContext& ctx) const {
  auto l = find(PluginKind::broadcast, name);
  return keep_loaded(l->descriptor->make_broadcast(ctx), l->library, l->file.string());
}

std::shared_ptr<Storage> PluginLoader::make_storage(const std::string& name,
                                                    PluginContext& ctx) const {
  auto l = find(PluginKind::storage, name);
  return keep_loaded(l->descriptor->make_storage(ctx), l->library, l->file.string());
}

std::shared_ptr<ReadPolicy> PluginLoader::make_read_policy(const std::string& name,
                                                           PluginContext& ctx) const {
  auto l = find(PluginKind::read_policy, name);
  return keep_loaded(l->descriptor->make_read_policy(ctx), l->library, l->file.string());
}

}  // namespace quorumlab
