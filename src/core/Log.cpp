#include "trainsim/core/Log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "trainsim/core/Errors.hpp"

namespace trainsim::core {

std::shared_ptr<spdlog::logger> logger(const std::string& module)
{
  if (auto existing = spdlog::get(module))
    return existing;
  auto l = spdlog::stderr_logger_st(module);
  l->set_pattern("[%l] %n: %v");
  l->set_level(spdlog::get_level());
  return l;
}

void set_log_level(const std::string& level)
{
  for (const char* ok : {"trace", "debug", "info", "warn", "error", "off"})
    if (level == ok) {
      spdlog::set_level(spdlog::level::from_str(level));
      return;
    }
  throw UsageError("--log-level \"" + level + "\" is not a level; valid: trace, debug, info, warn, error, off");
}

} // namespace trainsim::core
