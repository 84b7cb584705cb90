#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trainsim/result/Breakdown.hpp"
#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"

namespace trainsim::metrics {

/// Step-time breakdown in seconds (mean over pipeline stages; sums to the step time): the result table.
using Breakdown = result::Breakdown;

/// Everything a run reports; the JSON report is this structure.
struct RunMetrics {
  std::string scenario;
  long accelerators = 0;
  double step_time_s = 0;
  double tokens_per_step = 0;
  double tokens_per_s = 0;
  double mfu = 0;
  double mfu_causal = 0; ///< MFU with the attention core counted causally (docs/validation.md)
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
  double acc_compute_mwh = 0, acc_memory_bound_mwh = 0, acc_communication_mwh = 0, acc_bubble_mwh = 0, acc_idle_mwh = 0;
  double energy_useful_mwh = 0, energy_lost_work_mwh = 0, energy_checkpoint_mwh = 0, energy_restart_mwh = 0;
  double pue = 1.0;   ///< effective (time-averaged) PUE
  double clock = 1.0; ///< DVFS state of compute
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
  /// Cost in RMB: accelerator-hours (spares included) at /site/accelerator_rmb_per_hour plus the facility's
  /// energy at /site/electricity_rmb_per_kwh; known only when the site gives at least one price.
  bool cost_known = false;
  double cost_rmb = 0;
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
  workload::PipelineSummary pipeline; ///< schedule, layer split, closed-form bubble (docs/pipeline.md)
  workload::GemmSummary gemm;         ///< 16-bit GEMM efficiency and shape cost (docs/calibration.md)
  Breakdown breakdown;
  std::vector<sim::StageBreakdown> stages;
  long simulated_transfers = 0, simulated_executions = 0;
  int simulated_steps = 0;
  std::string fidelity;                ///< "full" or "reduced"
  std::string fidelity_reason;         ///< why (sim::choose_fidelity)
  long replayed_activities = 0;        ///< activities replayed from an identical one (sim reuse)
  std::vector<long> extrapolated_from; ///< micro-batch counts simulated (steady-state extrapolation), or empty
  std::string extrapolation;           ///< whether the step was extrapolated, and why
  int simulated_replicas = 0, simulated_rails = 0;
  std::string rail_note;         ///< empty when one rail stood for all
  double ecmp_trunk_share = 1.0; ///< slowest hashed ring flow's rate vs spraying (1: none lost)
  double ecmp_p2p_share = 1.0;   ///< slowest hashed pipeline transfer's rate vs its NIC rate (1: none lost)
  std::optional<double> reference_step_time_s;
  std::string reference_source;
  // Failures on by default, by cause; accelerator-hours; training phases (issue 15, docs/energy-carbon.md).
  double accelerator_hours = 0;             ///< accelerators x time_to_train_s / 3600 (the job's, spares excluded)
  std::string failures_source = "disabled"; ///< scenario::Failures::source
  double hot_spare_nodes = 0;               ///< spares held (given, or the fraction of the job's nodes)
  double time_requeue_s = 0;                ///< the part of time_restart_s spent waiting for a replacement
  double checkpoint_storage_write_s = 0;    ///< size / write bandwidth (overlaps training when async)
  struct CauseOutcome {
    std::string id, component;
    double rate_per_h = 0, interruptions = 0, downtime_s = 0, requeue_s = 0, lost_work_s = 0;
  };
  std::vector<CauseOutcome> causes;
  /// One stage of training.phases; empty for a single-phase scenario.
  struct Phase {
    std::string name;
    double tokens = 0, steps = 0, step_time_s = 0, time_to_train_s = 0, accelerator_hours = 0;
    double energy_mwh = 0, carbon_tco2e = 0, interruptions = 0, goodput = 1;
    long accelerators = 0, global_batch_size = 0;
    int seq_length = 0;
    bool simulated = true; ///< false: the step of an earlier phase with the same step config was reused
  };
  std::vector<Phase> phases;
};

/// Derives the report figures from the scenario, the workload and the simulated step (builds the fabric
/// to count network ports).
RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r);
/// The same with the fabric already built.
RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r,
                   const topology::Fabric& fabric);

/// The same for a run (or phase) starting `start_offset_s` after the scenario's start date (carbon profile
/// and cooling follow the calendar).
RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r,
                   const topology::Fabric& fabric, double start_offset_s);
/// training.phases (Phases.cpp): the run's figures from each phase's, in order. Times, energy, carbon,
/// interruptions and accelerator-hours add up; the step-level figures are those of the phase with the most
/// tokens; `phases` lists each.
RunMetrics combine_phases(const std::vector<RunMetrics>& per_phase, const std::vector<RunMetrics::Phase>& info);

/// Carbon in tonnes CO2e for an energy in MWh at a grid intensity in kg/kWh (= t/MWh).
inline double carbon_tonnes(double mwh, double kg_per_kwh)
{
  return mwh * kg_per_kwh;
}
/// Integrated energy of a power trace made of (watts, seconds) segments, in joules.
double energy_joules(const std::vector<std::pair<double, double>>& segments);

} // namespace trainsim::metrics
