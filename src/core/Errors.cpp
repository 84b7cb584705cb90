#include "trainsim/core/Errors.hpp"

namespace trainsim::core {

namespace {
std::string format(const std::string& pointer, const std::string& message)
{
  return (pointer.empty() ? std::string("/") : pointer) + ": " + message;
}
} // namespace

ConfigError::ConfigError(std::string pointer, const std::string& message)
    : Error(format(pointer, message)), pointer_(std::move(pointer))
{
}

} // namespace trainsim::core
