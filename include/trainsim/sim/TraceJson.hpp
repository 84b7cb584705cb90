#pragma once
#include <nlohmann/json.hpp>

#include "trainsim/sim/Trace.hpp"

namespace trainsim::sim {

/// Lossless transport of a StepTrace (from the simulation's child process); not a user-facing format
/// (report::to_chrome_trace is).
nlohmann::json to_json(const StepTrace& t);
StepTrace step_trace_from_json(const nlohmann::json& j);

} // namespace trainsim::sim
