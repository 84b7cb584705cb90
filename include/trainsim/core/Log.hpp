#pragma once
#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace trainsim::core {

/// The named logger of a module ("scenario", "topology", "workload", "sim", ...), writing to stderr.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

/// Sets the level of every trainsim logger: trace, debug, info, warn, error, off.
/// Throws UsageError for any other name.
void set_log_level(const std::string& level);

} // namespace trainsim::core
