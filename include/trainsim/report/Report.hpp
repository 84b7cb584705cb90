#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::report {

/// Version of the JSON report; field names are stable within a version (docs/report-format.md).
constexpr int report_version = 1;

/// The versioned JSON report. Deterministic: same scenario and seed, same bytes.
nlohmann::ordered_json to_json(const scenario::Scenario& s, const metrics::RunMetrics& m);
std::string to_json_text(const scenario::Scenario& s, const metrics::RunMetrics& m);
/// The last check before a report is written or printed: every figure is finite. Throws core::ConfigError
/// naming the report field and the scenario key it depends on (a NaN or infinity is never reported as a number).
void check_finite(const nlohmann::ordered_json& report);
/// The energy, carbon and failure fields of the report (ReportEnergy.cpp), appended after `grid`.
void append_energy_fields(nlohmann::ordered_json& j, const metrics::RunMetrics& m);
/// Console lines for the same (appended to the console table).
std::string energy_console(const scenario::Scenario& s, const metrics::RunMetrics& m);
/// CSV with a header row and one row per run.
std::string csv_header();
std::string csv_row(const metrics::RunMetrics& m);
/// Aligned console table with units; `colour` adds ANSI bold to the headline figures (terminals only).
std::string to_console(const scenario::Scenario& s, const metrics::RunMetrics& m, bool colour = false);
/// Aligned per-stage breakdown table, milliseconds (src/report/Console.cpp).
std::string stage_table(const scenario::Scenario& s, const metrics::RunMetrics& m);

/// Rows of `trainsim reproduce`: predicted against published step time.
struct ReproduceRow {
  std::string file;
  std::string name;
  double predicted_s = 0;
  double published_s = 0;
  double mfu = 0;
  std::string source;
  double error() const { return (predicted_s - published_s) / published_s; }
  long accelerators = 0; ///< the case's accelerators, for the MAPE by size class
};
std::string reproduce_table(const std::vector<ReproduceRow>& rows, bool markdown);
double mean_absolute_percentage_error(const std::vector<ReproduceRow>& rows);
/// MAPE by GPU-count class (issue 13): "<1k" (under 1,024), "1k-4k" (1,024 to 4,096), ">4k"; each with
/// its case count (classes without cases have count 0 and MAPE 0).
struct SizeClassError {
  std::string label;
  double mape_percent = 0;
  long cases = 0;
};
std::vector<SizeClassError> mape_by_size(const std::vector<ReproduceRow>& rows);

} // namespace trainsim::report
