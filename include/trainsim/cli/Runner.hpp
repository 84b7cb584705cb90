#pragma once
#include <nlohmann/json.hpp>

#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/sim/Simulator.hpp"

namespace trainsim::cli {

struct RunOutput {
  workload::Workload workload;
  sim::SimResult sim;
  metrics::RunMetrics metrics;
};

/// The --fidelity option (and the Python module's fidelity argument): "" or "auto", "full", "reduced";
/// anything else is a core::UsageError.
sim::Fidelity parse_fidelity(const std::string& f);

/// The whole pipeline for one parsed scenario: topology, workload, simulation, metrics. With
/// training.phases, run_phases.
RunOutput run_scenario(const scenario::Scenario& s, const scenario::Catalog& catalog,
                       const sim::SimOptions& options = {});
/// training.phases (PhaseRunner.cpp): one simulation per distinct phase step (phases whose step configs are
/// identical share it), each phase's figures from its start in the calendar, the run's from the phases'
/// (metrics::combine_phases); workload and sim are those of the phase with the most tokens.
RunOutput run_phases(const scenario::Scenario& s, const scenario::Catalog& catalog, const sim::SimOptions& options);

/// Scenarios that differ only in their site (grid, start date, prices, PUE: nothing the simulation reads):
/// the first is simulated once, and every one gets its own metrics from that simulation, exactly as its own
/// run_scenario would give them.
std::vector<metrics::RunMetrics> run_site_group(const std::vector<scenario::Scenario>& group,
                                                const scenario::Catalog& catalog);
/// run_site_group's JSON reports, one per scenario (the site groups of `trainsim sweep` and `sweep()`).
std::vector<nlohmann::ordered_json> site_group_reports(const std::vector<scenario::Scenario>& group,
                                                       const scenario::Catalog& catalog);

} // namespace trainsim::cli
