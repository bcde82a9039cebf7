#include "quorumlab/log.hpp"

#include <map>
#include <mutex>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "quorumlab/params.hpp"

namespace quorumlab::log {
namespace {

struct Registry {
  std::mutex mu;
  spdlog::level::level_enum default_level = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum> levels;
  std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
};

Registry& registry() {
  static Registry r;
  return r;
}

spdlog::level::level_enum parse_level(const std::string& s) {
  static const std::map<std::string, spdlog::level::level_enum> names = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off}};
  auto it = names.find(s);
  if (it == names.end()) {
    throw ConfigError("unknown log level '" + s +
                      "'; allowed values: trace, debug, info, warn, error, critical, off");
  }
  return it->second;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.loggers.find(component);
  if (it != r.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(component, r.sink);
  auto lv = r.levels.find(component);
  logger->set_level(lv != r.levels.end() ? lv->second : r.default_level);
  logger->set_pattern("%H:%M:%S.%e %^%l%$ [%n] %v");
  r.loggers.emplace(component, logger);
  return logger;
}

void configure(const std::string& spec) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    std::size_t comma = spec.find(',', pos);
    std::string part =
        spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string::npos) {
        r.default_level = parse_level(part);
      } else {
        r.levels[part.substr(0, eq)] = parse_level(part.substr(eq + 1));
      }
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  for (auto& [name, logger] : r.loggers) {
    auto lv = r.levels.find(name);
    logger->set_level(lv != r.levels.end() ? lv->second : r.default_level);
  }
}

void set_file(const std::string& path) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  for (auto& [name, logger] : r.loggers) {
    logger->sinks().clear();
    logger->sinks().push_back(r.sink);
  }
}

}  // namespace quorumlab::log
