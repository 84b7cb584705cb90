#include "trainsim/metrics/Metrics.hpp"

#include <cmath>

namespace trainsim::metrics {

double energy_joules(const std::vector<std::pair<double, double>>& segments)
{
  double e = 0;
  for (const auto& [w, t] : segments)
    e += w * t;
  return e;
}

RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r)
{
  constexpr double joules_per_mwh = 3.6e9;
  RunMetrics m;
  m.scenario = s.name;
  m.accelerators = s.cluster.total_accelerators();
  const double n = static_cast<double>(m.accelerators);
  const double peak = s.cluster.accelerator.peak(s.training.precision);
  m.step_time_s = r.step_time_s;
  m.tokens_per_step = s.tokens_per_step();
  m.tokens_per_s = m.tokens_per_step / m.step_time_s;
  m.tflops_per_accelerator = w.model_flops_per_step / m.step_time_s / n / 1e12;
  m.hw_tflops_per_accelerator = w.hardware_flops_per_step / m.step_time_s / n / 1e12;
  m.mfu = m.tflops_per_accelerator * 1e12 / peak;
  m.hfu = m.hw_tflops_per_accelerator * 1e12 / peak;
  m.steps_to_train = std::ceil(s.training.tokens / m.tokens_per_step);
  m.time_to_train_s = m.steps_to_train * m.step_time_s;

  // Energy of one step: accelerators integrated by the simulation (power states over simulated
  // activity), the nodes' host share at constant power, and the facility overhead through the PUE.
  const double acc_j = r.accelerator_energy_per_step_j;
  const double host_j = s.cluster.host_power_w * s.cluster.nodes * m.step_time_s;
  const double facility_j = (acc_j + host_j) * (s.site.pue - 1.0);
  m.energy_per_step_j = acc_j + host_j + facility_j;
  m.energy_accelerators_mwh = acc_j * m.steps_to_train / joules_per_mwh;
  m.energy_hosts_mwh = host_j * m.steps_to_train / joules_per_mwh;
  m.energy_facility_mwh = facility_j * m.steps_to_train / joules_per_mwh;
  m.energy_mwh = m.energy_per_step_j * m.steps_to_train / joules_per_mwh;
  m.average_accelerator_power_w = acc_j / (n * m.step_time_s);
  m.grid_kg_per_kwh = s.site.grid.co2_kg_per_kwh;
  m.carbon_tco2e = carbon_tonnes(m.energy_mwh, m.grid_kg_per_kwh);

  m.memory = w.memory;
  m.memory_gib_per_accelerator = w.memory.total() / 1073741824.0;
  m.stages = r.stages;
  const double stages = static_cast<double>(r.stages.size());
  for (const auto& st : r.stages) {
    m.breakdown.compute += st.compute / stages;
    m.breakdown.tp_comm += st.tp_comm / stages;
    m.breakdown.pp_comm += st.pp_comm / stages;
    m.breakdown.dp_comm += st.dp_comm / stages;
    m.breakdown.bubble += st.bubble / stages;
    m.breakdown.optimizer += st.optimizer / stages;
  }
  m.simulated_transfers = r.transfers;
  m.simulated_executions = r.executions;
  m.simulated_steps = static_cast<int>(r.step_times_s.size());
  m.fidelity = r.fidelity;
  m.simulated_replicas = r.simulated_replicas;
  m.simulated_rails = r.simulated_rails;
  m.rail_note = r.rail_note;
  if (s.reference) {
    m.reference_step_time_s = s.reference->step_time_s;
    m.reference_source = s.reference->source;
  }
  return m;
}

} // namespace trainsim::metrics
