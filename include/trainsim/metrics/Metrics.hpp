#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"

namespace trainsim::metrics {

/// Step-time breakdown in seconds (mean over pipeline stages; sums to the step time).
struct Breakdown {
  double compute = 0, tp_comm = 0, pp_comm = 0, dp_comm = 0, bubble = 0, optimizer = 0;
  double ep_comm = 0; ///< expert-parallel all-to-alls (MoE)
  /// Busy time per kind of communication ("tp", "pp", "dp", ...), hidden or not (sim::StageBreakdown).
  std::map<std::string, double> comm_total;
  double cp_comm = 0; ///< exposed context-parallel KV exchange (reported when cp > 1)
  double host = 0, straggler = 0; ///< at-scale mechanisms (sim::StageBreakdown, docs/at-scale.md)
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
  // Energy by component (MWh over the whole run, failures included) and accelerator energy by state.
  double energy_nics_mwh = 0, energy_switches_mwh = 0, energy_storage_mwh = 0, energy_spares_mwh = 0;
  double acc_compute_mwh = 0, acc_memory_bound_mwh = 0, acc_communication_mwh = 0, acc_bubble_mwh = 0,
         acc_idle_mwh = 0;
  double energy_useful_mwh = 0, energy_lost_work_mwh = 0, energy_checkpoint_mwh = 0, energy_restart_mwh = 0;
  double pue = 1.0;          ///< effective (time-averaged) PUE
  double clock = 1.0;        ///< DVFS state of compute
  double compute_activity = 1.0;
  double power_compute_w = 0, power_memory_bound_w = 0, power_communication_w = 0, power_bubble_w = 0, power_idle_w = 0;
  long nic_ports = 0, switch_ports = 0, switches = 0;
  double average_it_power_w = 0; ///< IT power of the whole job while training
  // Carbon.
  double carbon_intensity_kg_per_kwh = 0; ///< time-averaged location-based factor applied
  double carbon_coal_tco2e = 0;
  bool coal_known = false;
  std::string coal_basis;
  double coal_kg_per_kwh = 0;
  double carbon_market_tco2e = 0;
  double carbon_per_billion_tokens = 0;
  double carbon_embodied_tco2e = 0;
  double carbon_total_tco2e = 0;
  // Failures and checkpoints.
  double useful_time_s = 0;
  double goodput = 1.0;
  double interruptions = 0;
  double checkpoint_interval_s = 0;
  double checkpoint_write_s = 0, checkpoint_bytes = 0, restart_downtime_s = 0;
  double total_params = 0, active_params = 0; ///< model parameters, and those one token uses (MoE)
  double job_mtbf_s = 0;
  double checkpoints = 0;
  double time_checkpoint_s = 0, time_lost_s = 0, time_restart_s = 0;
  double failure_rate_accelerators_per_h = 0, failure_rate_nodes_per_h = 0, failure_rate_nics_per_h = 0,
         failure_rate_links_per_h = 0, failure_rate_switches_per_h = 0;
  double spare_unavailable_probability = 0;
  double memory_gib_per_accelerator = 0;
  workload::MemoryBreakdown memory;
  Breakdown breakdown;
  std::vector<sim::StageBreakdown> stages;
  long simulated_transfers = 0, simulated_executions = 0;
  int simulated_steps = 0;
  std::string fidelity;       ///< "full" or "reduced"
  std::string fidelity_reason;  ///< why (sim::choose_fidelity)
  long replayed_activities = 0; ///< activities replayed from an identical one (sim reuse)
  int simulated_replicas = 0, simulated_rails = 0;
  std::string rail_note;      ///< empty when one rail stood for all
  std::optional<double> reference_step_time_s;
  std::string reference_source;
};

/// Derives the report figures from the scenario, the workload and the simulated step (builds the fabric
/// to count network ports).
RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r);
/// The same with the fabric already built.
RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r,
                   const topology::Fabric& fabric);

/// Carbon in tonnes CO2e for an energy in MWh at a grid intensity in kg/kWh (= t/MWh).
inline double carbon_tonnes(double mwh, double kg_per_kwh) { return mwh * kg_per_kwh; }
/// Integrated energy of a power trace made of (watts, seconds) segments, in joules.
double energy_joules(const std::vector<std::pair<double, double>>& segments);

} // namespace trainsim::metrics
