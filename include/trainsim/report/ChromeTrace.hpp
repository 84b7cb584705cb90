#pragma once
#include <nlohmann/json.hpp>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/sim/Trace.hpp"

namespace trainsim::report {

/// A Chrome trace-event / Perfetto JSON of one simulated step (docs/reports.md): one process per pipeline
/// stage with a track for its representative rank (compute, TP/PP/DP communication, bubbles, optimizer)
/// and one for its data-parallel stream, and a "fabric" process with a utilisation counter per tier.
/// Times are microseconds from the step's start. Deterministic.
nlohmann::ordered_json to_chrome_trace(const scenario::Scenario& s, const sim::StepTrace& t);

/// Trace-event colour name (Chrome's reserved palette) and CSS colour of an event kind.
const char* trace_colour_name(const std::string& kind);
const char* css_colour(const std::string& kind);

} // namespace trainsim::report
