#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/sim/Trace.hpp"

namespace trainsim::report {

/// One self-contained HTML page (inline CSS and SVG; no scripts, no network) for one run, rendered from
/// its JSON report (report::to_json) so that fields added to the report appear without changes here:
/// key figures, the scenario, the step-time breakdown (whole step and per stage), a timeline of one step
/// (when `trace` has one), energy and carbon by component, memory per accelerator, and every field.
std::string to_html(const nlohmann::ordered_json& report, const sim::StepTrace* trace);

/// The timeline of one step as inline SVG: a row per stage (and its data-parallel stream), and the
/// utilisation of each fabric tier below; `from` and `to` (fractions of the step) choose a window.
std::string timeline_svg(const sim::StepTrace& trace, int width, double from = 0, double to = 1);

/// What a sweep report plots: two fields of the result rows (flattened names, "a.b" for nested objects,
/// or the last segment when it is unique) and which direction is better for each.
struct SweepPlot {
  std::string x, y;
  bool x_higher_better = false;
  bool y_higher_better = false;
  std::string title;
};

/// Whether larger values of a report field are better (throughput, MFU, ...); smaller otherwise.
bool higher_is_better(const std::string& field);

/// Indices of the Pareto-optimal points (no other point is at least as good on both axes and better on
/// one), sorted by x. Points with non-finite coordinates are never optimal.
std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& points, bool x_higher_better,
                                 bool y_higher_better);

/// A self-contained HTML page for sweep results (rows as read from the sweep's JSON Lines or CSV):
/// a scatter of plot.x against plot.y with the Pareto front, and the table of Pareto-optimal rows.
/// Throws core::UsageError naming the available numeric fields when x or y is not a field of the rows.
std::string sweep_to_html(const std::vector<nlohmann::ordered_json>& rows, const SweepPlot& plot);

/// Reads sweep results: JSON Lines (one object per line) or CSV with a header row (by extension,
/// `.csv`; anything else is JSON Lines). Throws core::IoError naming the file and line.
std::vector<nlohmann::ordered_json> read_result_rows(const std::string& path);

} // namespace trainsim::report
