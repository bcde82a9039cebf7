// Logging: spdlog loggers per component ("kernel", "zab", "wal", ...), each with its own level.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace quorumlab::log {

/// The logger for `component`, created on first use with the level configured for it.
/// Lives in the shared core library, so host and plugins share one registry.
std::shared_ptr<spdlog::logger> get(const std::string& component);

/// Sets levels from a spec such as "info" or "warn,zab=debug,wal=trace". The first bare level
/// is the default for every component. Throws quorumlab::ConfigError on an unknown level name.
void configure(const std::string& spec);

/// Sends all log output to stderr (the default) or to the given file.
void set_file(const std::string& path);

}  // namespace quorumlab::log
