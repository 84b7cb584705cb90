#pragma once
#include <string>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

/// The optional `power` block (power caps, DVFS state, activity per power state, network gear power).
PowerOptions parse_power(JsonReader r);
/// The optional `failures` block (failure rates, checkpoints, restarts, hot spares) over `defaults`
/// (the catalogue's platforms/failures.json): keys not given keep the default; `"enabled": false` turns
/// failures off.
Failures parse_failures(JsonReader r, const Failures& defaults);
/// The default failure model (platforms/failures.json): per-cause rates, detection, restart, spares, checkpoints.
Failures parse_failure_defaults(const nlohmann::json& file, const std::string& pointer);
/// The energy and carbon keys of `site` besides `pue` and `grid`: `cooling`, `green_share`,
/// `residual_co2_kg_per_kwh`, `intensity_profile`, `start_date`, `embodied`, `coal`. Relative profile
/// paths resolve against `base_dir` (the scenario file's folder).
void parse_site_energy(JsonReader& site, Site& out, const std::string& base_dir);
/// Resolves the coal attribution inputs of `site.carbon` (fossil factor, coal share) from the scenario,
/// the grid, or for Chinese grids (ids "cn-...") the national factors of the grid's year; see
/// docs/energy-carbon.md. Leaves them unset where nothing applies.
void resolve_coal(Site& site, const Catalog& cat);
/// Hourly carbon-intensity CSV: a header line, then one row per hour whose last column is kg CO2e/kWh.
std::vector<double> load_intensity_profile(const std::string& path, const std::string& pointer);
/// Hours since 1 January 00:00 of its year for "YYYY-MM-DD" or "YYYY-MM-DDTHH"; throws at `pointer`.
int hour_of_year(const std::string& date, const std::string& pointer);

} // namespace trainsim::scenario
