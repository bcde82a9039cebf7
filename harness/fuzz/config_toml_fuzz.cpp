// config_toml_fuzz: the TOML configuration of `qlab server` (load_config, kernel/src/config.cpp,
// on toml++) and its command-line overrides.
//
// Feeds: byte 0 is a mode. Bit 0 clear: the rest is written to a file and loaded as the
// configuration (`--config FILE`). Bit 0 set: the rest is split at newlines into "key=value"
// overrides (`--set`-style arguments, e.g. "storage.fsync=false") applied to the defaults.
//
// Asserts: nothing crashes (ASan/UBSan); load_config returns or throws ConfigError (a parse
// error or a bad key/value, with its reason), never another exception; a configuration that
// loads prints (to_toml, what --print-config shows) as TOML that loads again and prints the
// same (up to the comment that marks command-line text).
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "quorumlab/config.hpp"
#include "quorumlab/params.hpp"

using namespace quorumlab;
using quorumlab::fuzz::fuzz_fail;

namespace {

std::filesystem::path write(const std::string& name, const std::string& text) {
  static const auto dir = fuzz::scratch_dir("config");
  const auto file = dir / name;
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::optional<NodeConfig> config;
  try {
    if (mode & 1u) {
      std::vector<std::string> overrides;
      std::size_t start = 0;
      while (start <= text.size() && overrides.size() < 64) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        overrides.push_back(text.substr(start, nl - start));
        start = nl + 1;
      }
      config = load_config(std::nullopt, overrides);
    } else {
      config = load_config(write("node.toml", text), {});
    }
  } catch (const ConfigError&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz_fail(std::string("load_config threw a non-ConfigError: ") + e.what());
  }
  // A plugin parameter given on the command line stays text until the plugin's schema reads
  // it, and prints as a string marked with this comment; loaded back it is a string value.
  const auto plain = [](const std::string& s) {
    const std::string mark = "  # from the command line\n";
    std::string out;
    std::size_t start = 0;
    while (start < s.size()) {
      std::size_t end = s.find('\n', start);
      end = end == std::string::npos ? s.size() : end + 1;
      std::string line = s.substr(start, end - start);
      if (line.size() >= mark.size() &&
          line.compare(line.size() - mark.size(), mark.size(), mark) == 0)
        line = line.substr(0, line.size() - mark.size()) + "\n";
      out += line;
      start = end;
    }
    return out;
  };
  const std::string printed = config->to_toml();
  try {
    NodeConfig again = load_config(write("printed.toml", printed), {});
    if (again.to_toml() != plain(printed)) {
      fuzz_fail("the printed configuration loads to another configuration:\n" + printed +
                "\n---\n" + again.to_toml());
    }
  } catch (const std::exception& e) {
    fuzz_fail(std::string("the printed configuration does not load: ") + e.what() + "\n" + printed);
  }
  return 0;
}
