#pragma once
#include <optional>
#include <string>
#include <vector>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/workload/Program.hpp"

namespace trainsim::metrics {

/// Step-time breakdown in seconds (mean over pipeline stages; sums to the step time).
struct Breakdown {
  double compute = 0, tp_comm = 0, pp_comm = 0, dp_comm = 0, bubble = 0, optimizer = 0;
};

/// Everything a run reports; the JSON report is this structure.
struct RunMetrics {
  std::string scenario;
  long accelerators = 0;
  double step_time_s = 0;
  double tokens_per_step = 0;
  double tokens_per_s = 0;
  double mfu = 0;
  double hfu = 0;
  double tflops_per_accelerator = 0;
  double hw_tflops_per_accelerator = 0;
  double steps_to_train = 0;
  double time_to_train_s = 0;
  double energy_per_step_j = 0;
  double energy_mwh = 0;
  double energy_accelerators_mwh = 0, energy_hosts_mwh = 0, energy_facility_mwh = 0;
  double average_accelerator_power_w = 0;
  double carbon_tco2e = 0;
  double grid_kg_per_kwh = 0;
  double memory_gib_per_accelerator = 0;
  workload::MemoryBreakdown memory;
  Breakdown breakdown;
  std::vector<sim::StageBreakdown> stages;
  long simulated_transfers = 0, simulated_executions = 0;
  int simulated_steps = 0;
  std::string fidelity;       ///< "full" or "reduced"
  int simulated_replicas = 0, simulated_rails = 0;
  std::string rail_note;      ///< empty when one rail stood for all
  std::optional<double> reference_step_time_s;
  std::string reference_source;
};

/// Derives the report figures from the scenario, the workload and the simulated step.
RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r);

/// Carbon in tonnes CO2e for an energy in MWh at a grid intensity in kg/kWh (= t/MWh).
inline double carbon_tonnes(double mwh, double kg_per_kwh) { return mwh * kg_per_kwh; }
/// Integrated energy of a power trace made of (watts, seconds) segments, in joules.
double energy_joules(const std::vector<std::pair<double, double>>& segments);

} // namespace trainsim::metrics
