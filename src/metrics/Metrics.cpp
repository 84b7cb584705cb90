#include "trainsim/metrics/Metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Units.hpp"
#include "trainsim/metrics/FailureModel.hpp"
#include "trainsim/metrics/Footprint.hpp"
#include "trainsim/scenario/EnergyOptions.hpp"
#include "trainsim/workload/Dvfs.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"

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
  return compute(s, w, r, topology::Fabric::build(s.cluster));
}

RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r,
                   const topology::Fabric& fabric)
{
  return compute(s, w, r, fabric, 0.0);
}

RunMetrics compute(const scenario::Scenario& s, const workload::Workload& w, const sim::SimResult& r,
                   const topology::Fabric& fabric, double start_offset_s)
{
  constexpr double joules_per_mwh = 3.6e9;
  RunMetrics m;
  m.scenario = s.name;
  m.accelerators = s.cluster.total_accelerators();
  const double n = static_cast<double>(m.accelerators);
  const double nodes = static_cast<double>(s.cluster.nodes);
  const double peak = s.cluster.mean_peak(s.training.precision); // mixed pools: over all accelerators
  m.step_time_s = r.step_time_s;
  m.tokens_per_step = s.tokens_per_step();
  m.tokens_per_s = m.tokens_per_step / m.step_time_s;
  m.tflops_per_accelerator = w.model_flops_per_step / m.step_time_s / n / 1e12;
  m.hw_tflops_per_accelerator = w.hardware_flops_per_step / m.step_time_s / n / 1e12;
  m.mfu = m.tflops_per_accelerator * 1e12 / peak;
  m.hfu = m.hw_tflops_per_accelerator * 1e12 / peak;
  m.mfu_causal = w.model_flops_per_step_causal / m.step_time_s / n / peak;
  m.steps_to_train = std::ceil(s.training.tokens / m.tokens_per_step);
  m.useful_time_s = m.steps_to_train * m.step_time_s;

  // ---- Power by state (docs/energy-carbon.md): each representative rank's seconds in each state times
  // the accelerator's power in that state, for all tp x dp ranks of the stage.
  const auto& acc = s.cluster.accelerator;
  const auto& pw = s.power;
  m.clock = w.clock;
  m.compute_activity = w.compute_activity;
  m.power_compute_w = workload::accelerator_power(acc, pw, w.compute_activity, w.clock);
  m.power_memory_bound_w = workload::accelerator_power(acc, pw, pw.memory_activity, w.clock);
  m.power_communication_w = workload::accelerator_power(acc, pw, pw.comm_activity, w.clock);
  m.power_bubble_w = workload::accelerator_power(acc, pw, pw.bubble_activity, w.clock);
  m.power_idle_w = acc.idle_power_w;
  if (pw.cap_w) // the firmware holds every state under the cap
    for (double* p : {&m.power_compute_w, &m.power_memory_bound_w, &m.power_communication_w, &m.power_bubble_w})
      *p = std::min(*p, std::max(*pw.cap_w, acc.idle_power_w));
  const double replicas = static_cast<double>(s.parallelism.tp) * s.grad_replicas();
  double compute_j = 0, memory_j = 0, comm_j = 0, bubble_j = 0;
  m.stages = r.stages;
  for (size_t i = 0; i < m.stages.size(); ++i) {
    auto& st = m.stages[i];
    // Mixed pools: each stage draws its own accelerator's power in each state (the cluster's without pools).
    const auto& sa = s.stage_accelerator(static_cast<int>(i));
    auto state_w = [&](double activity, double cluster_w) {
      if (!s.cluster.mixed())
        return cluster_w;
      const double watts = workload::accelerator_power(sa, pw, activity, w.clock);
      return pw.cap_w ? std::min(watts, std::max(*pw.cap_w, sa.idle_power_w)) : watts;
    };
    const double pc = state_w(w.compute_activity, m.power_compute_w);
    const double c = st.compute * pc, o = st.optimizer * state_w(pw.memory_activity, m.power_memory_bound_w);
    const double k = (st.tp_comm + st.pp_comm + st.dp_comm + st.ep_comm + st.cp_comm) *
                     state_w(pw.comm_activity, m.power_communication_w),
                 b = st.bubble * state_w(pw.bubble_activity, m.power_bubble_w);
    // At-scale: the slowed compute draws compute power, host overhead leaves the accelerator waiting.
    const double c_at = st.straggler * pc, b_at = st.host * state_w(pw.bubble_activity, m.power_bubble_w);
    st.energy_j = c + o + k + b + c_at + b_at;
    compute_j += c_at * replicas;
    bubble_j += b_at * replicas;
    compute_j += c * replicas;
    memory_j += o * replicas;
    comm_j += k * replicas;
    bubble_j += b * replicas;
  }
  const double acc_j = compute_j + memory_j + comm_j + bubble_j;

  // Hosts, NICs and switches: constant power (their draw barely depends on load). The NICs are part of the
  // node's host_power (catalogue derivation), so they are split out of it, not added.
  const auto ports = count_ports(fabric, s.cluster.fabric.nic_bandwidth, s.cluster.fabric.switch_radix);
  m.nic_ports = ports.nic_ports;
  m.switch_ports = ports.switch_ports;
  m.switches = ports.switches;
  const double nic_w = static_cast<double>(ports.nic_ports) * pw.nic_power_w;
  const double host_w = std::max(0.0, s.cluster.host_power_w * nodes - nic_w);
  const double switch_w = static_cast<double>(ports.switch_ports) * pw.switch_port_power_w;
  const double fixed_w = host_w + nic_w + switch_w;
  const double train_it_w = acc_j / m.step_time_s + fixed_w;
  m.average_it_power_w = train_it_w;

  // ---- Failures, checkpoints and restarts (Daly's model; FailureModel.cpp, docs/energy-carbon.md).
  const auto& f = s.failures;
  m.total_params = w.shape.total_params;
  m.active_params = w.shape.active_params;
  const auto fr = apply_failures(m, s, w, ports);
  const auto& tl = fr.timeline;
  const double write_s = fr.write_s, read_s = fr.read_s;

  // ---- Energy over the run. Lost work is re-run at training power; checkpoint writes and restarts hold
  // the job's accelerators idle; storage draws power while it writes or reads checkpoints; hot spares
  // idle for the whole run.
  const double work_s = m.useful_time_s + tl.lost_s;
  const double steps_run = work_s / m.step_time_s;
  const double storage_w_write = f.write_bandwidth * pw.storage_w_per_Bps;
  const double storage_w_read = f.read_bandwidth * pw.storage_w_per_Bps;
  const double storage_j = tl.checkpoints * write_s * storage_w_write + tl.restarts * read_s * storage_w_read;
  const double wait_s = tl.checkpoint_s + tl.restart_s;
  const double spare_w = fr.spare_nodes * (s.cluster.accelerators_per_node * acc.idle_power_w + s.cluster.host_power_w);
  const double spare_j = spare_w * tl.wall_s;
  double idle_all_w = n * acc.idle_power_w; // mixed pools: each pool's accelerators at their idle power
  if (s.cluster.mixed()) {
    idle_all_w = 0;
    for (const auto& pool : s.cluster.pools)
      idle_all_w += static_cast<double>(pool.nodes) * s.cluster.accelerators_per_node * pool.accelerator.idle_power_w;
  }
  const double acc_run_j = acc_j * steps_run + idle_all_w * wait_s;
  const double host_run_j = host_w * tl.wall_s, nic_run_j = nic_w * tl.wall_s, switch_run_j = switch_w * tl.wall_s;
  const double it_j = acc_run_j + host_run_j + nic_run_j + switch_run_j + storage_j + spare_j;
  double start_hour =
      s.site.carbon.start_date.empty() ? 0.0 : scenario::hour_of_year(s.site.carbon.start_date, "/site/start_date");
  start_hour += start_offset_s / 3600.0;
  const double hours = tl.wall_s / 3600.0;
  m.pue = average_pue(s.site, start_hour, hours);
  const double facility_j = it_j * (m.pue - 1.0);
  const double total_j = it_j + facility_j;
  m.energy_per_step_j = (acc_j + fixed_w * m.step_time_s) * m.pue;
  m.energy_accelerators_mwh = acc_run_j / joules_per_mwh;
  m.energy_hosts_mwh = host_run_j / joules_per_mwh;
  m.energy_nics_mwh = nic_run_j / joules_per_mwh;
  m.energy_switches_mwh = switch_run_j / joules_per_mwh;
  m.energy_storage_mwh = storage_j / joules_per_mwh;
  m.energy_spares_mwh = spare_j / joules_per_mwh;
  m.energy_facility_mwh = facility_j / joules_per_mwh;
  m.energy_mwh = total_j / joules_per_mwh;
  m.acc_compute_mwh = compute_j * steps_run / joules_per_mwh;
  m.acc_memory_bound_mwh = memory_j * steps_run / joules_per_mwh;
  m.acc_communication_mwh = comm_j * steps_run / joules_per_mwh;
  m.acc_bubble_mwh = bubble_j * steps_run / joules_per_mwh;
  m.acc_idle_mwh = n * acc.idle_power_w * wait_s / joules_per_mwh;
  const double fixed_all_w = fixed_w + spare_w;
  m.energy_useful_mwh = (acc_j * m.steps_to_train + fixed_all_w * m.useful_time_s) * m.pue / joules_per_mwh;
  m.energy_lost_work_mwh = (acc_j / m.step_time_s + fixed_all_w) * tl.lost_s * m.pue / joules_per_mwh;
  m.energy_checkpoint_mwh =
      ((n * acc.idle_power_w + fixed_all_w) * tl.checkpoint_s + tl.checkpoints * write_s * storage_w_write) * m.pue /
      joules_per_mwh;
  m.energy_restart_mwh = ((n * acc.idle_power_w + fixed_all_w) * tl.restart_s + tl.restarts * read_s * storage_w_read) *
                         m.pue / joules_per_mwh;
  m.average_accelerator_power_w = acc_j / (n * m.step_time_s);

  // ---- Carbon: location-based (time-averaged hourly profile over the calendar span), the part due to
  // coal, market-based (contracted green power), per billion tokens, embodied.
  const auto& cb = s.site.carbon;
  m.grid_kg_per_kwh = s.site.grid.co2_kg_per_kwh;
  m.carbon_intensity_kg_per_kwh = average_intensity(s.site, start_hour, hours);
  m.carbon_tco2e = carbon_tonnes(m.energy_mwh, m.carbon_intensity_kg_per_kwh);
  m.coal_basis = cb.coal_basis;
  m.coal_known = cb.coal_share && cb.fossil_kg_per_kwh;
  if (m.coal_known) {
    // Coal's share of the average factor; with a profile it follows the profile (coal is the marginal
    // plant that sets the hourly variation on a coal-heavy grid).
    const double base = std::min(*cb.coal_share * *cb.fossil_kg_per_kwh, m.grid_kg_per_kwh);
    const double scale = m.grid_kg_per_kwh > 0 ? m.carbon_intensity_kg_per_kwh / m.grid_kg_per_kwh : 0.0;
    m.coal_kg_per_kwh = std::min(base * scale, m.carbon_intensity_kg_per_kwh);
    m.carbon_coal_tco2e = carbon_tonnes(m.energy_mwh, m.coal_kg_per_kwh);
  }
  const double residual = cb.residual_kg_per_kwh ? *cb.residual_kg_per_kwh : m.carbon_intensity_kg_per_kwh;
  m.carbon_market_tco2e = carbon_tonnes(m.energy_mwh * (1.0 - cb.green_share), residual);
  const double tokens = m.steps_to_train * m.tokens_per_step;
  m.carbon_per_billion_tokens = tokens > 0 ? m.carbon_tco2e / (tokens / 1e9) : 0.0;
  const double spare_acc = fr.spare_nodes * s.cluster.accelerators_per_node;
  m.carbon_embodied_tco2e =
      (n + spare_acc) * cb.embodied_kg_per_accelerator / 1000.0 * tl.wall_s / cb.embodied_lifetime_s;
  m.carbon_total_tco2e = m.carbon_tco2e + m.carbon_embodied_tco2e;
  m.cost_known = s.site.electricity_rmb_per_kwh || s.site.accelerator_rmb_per_hour;
  m.cost_rmb = (n + spare_acc) * tl.wall_s / 3600.0 * s.site.accelerator_rmb_per_hour.value_or(0.0) +
               m.energy_mwh * 1000.0 * s.site.electricity_rmb_per_kwh.value_or(0.0);

  m.memory = w.memory;
  m.pipeline = w.pipeline;
  m.gemm = w.gemm;
  if (s.parallelism.pp > 1 && r.stages.size() > 1) {
    // The closed form of the split that ran (docs/pipeline.md): the busiest stage paces the steady state. Its
    // load is what the stage's passes keep it busy with, as simulated: compute and the blocking tensor-,
    // context- and expert-parallel communication (the same on every stage for TP, so it evens the stages out).
    double busiest = 0, total = 0;
    for (const auto& st : r.stages) {
      const double load = st.compute + st.tp_comm + st.cp_comm + st.ep_comm;
      busiest = std::max(busiest, load);
      total += load;
    }
    auto& pl = m.pipeline;
    pl.stage_imbalance = total > 0 ? busiest * static_cast<double>(r.stages.size()) / total : 1.0;
    pl.bubble_closed_form =
        workload::bubble_closed_form(pl.schedule, s.parallelism.pp, s.parallelism.vpp, w.microbatches, pl.forward_s,
                                     pl.backward_input_s, pl.backward_weight_s, pl.stage_imbalance);
  }
  m.memory_gib_per_accelerator = w.memory.total() / 1073741824.0;
  const double stages = static_cast<double>(r.stages.size());
  for (const auto& st : r.stages) {
    for (const auto& part : result::parts)
      m.breakdown.*part.field += st.*part.field / stages;
    for (const auto& [kind, t] : st.comm_total)
      m.breakdown.comm_total[kind] += t / stages;
    m.breakdown.collective_efficiency += st.collective_efficiency / stages;
  }
  m.simulated_transfers = r.transfers;
  m.simulated_executions = r.executions;
  m.simulated_steps = static_cast<int>(r.step_times_s.size());
  m.fidelity = r.fidelity;
  m.fidelity_reason = r.fidelity_reason;
  m.replayed_activities = r.replayed;
  m.extrapolated_from = r.extrapolated_from;
  m.extrapolation = r.extrapolation;
  m.simulated_replicas = r.simulated_replicas;
  m.simulated_rails = r.simulated_rails;
  m.rail_note = r.rail_note;
  m.ecmp_trunk_share = r.ecmp_trunk_share;
  m.ecmp_p2p_share = r.ecmp_p2p_share;
  if (s.reference) {
    m.reference_step_time_s = s.reference->step_time_s;
    m.reference_source = s.reference->source;
  }
  return m;
}

} // namespace trainsim::metrics
