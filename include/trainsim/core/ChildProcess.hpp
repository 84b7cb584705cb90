#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace trainsim::core {

/// Runs `body` in a forked child process and returns the JSON it produced. SimGrid's engine is a
/// process-wide singleton, so every simulation (and every platform load) gets its own process. An exception
/// in the child comes back as {"error": message}: the caller decides what it means. The child leaves with
/// _exit right after writing its result (no destructors: tearing down a large platform costs seconds).
/// Throws core::Error naming `what` ("the simulation process") when the child dies or returns nothing.
nlohmann::json run_in_child(const std::function<nlohmann::json()>& body, const std::string& what);

} // namespace trainsim::core
