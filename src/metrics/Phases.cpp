// training.phases (issue 15): the run's figures from its phases' (docs/energy-carbon.md, "Training phases").
#include <algorithm>

#include "trainsim/metrics/Metrics.hpp"

namespace trainsim::metrics {

RunMetrics combine_phases(const std::vector<RunMetrics>& per_phase, const std::vector<RunMetrics::Phase>& info)
{
  size_t main = 0; // the phase with the most tokens gives the step-level figures
  for (size_t i = 1; i < info.size(); ++i)
    if (info[i].tokens > info[main].tokens)
      main = i;
  RunMetrics t = per_phase[main];
  // Everything that adds up over the run starts from zero.
  for (double* f : {&t.steps_to_train,
                    &t.time_to_train_s,
                    &t.useful_time_s,
                    &t.accelerator_hours,
                    &t.energy_mwh,
                    &t.energy_accelerators_mwh,
                    &t.energy_hosts_mwh,
                    &t.energy_facility_mwh,
                    &t.energy_nics_mwh,
                    &t.energy_switches_mwh,
                    &t.energy_storage_mwh,
                    &t.energy_spares_mwh,
                    &t.acc_compute_mwh,
                    &t.acc_memory_bound_mwh,
                    &t.acc_communication_mwh,
                    &t.acc_bubble_mwh,
                    &t.acc_idle_mwh,
                    &t.energy_useful_mwh,
                    &t.energy_lost_work_mwh,
                    &t.energy_checkpoint_mwh,
                    &t.energy_restart_mwh,
                    &t.carbon_tco2e,
                    &t.carbon_coal_tco2e,
                    &t.carbon_market_tco2e,
                    &t.carbon_embodied_tco2e,
                    &t.carbon_total_tco2e,
                    &t.interruptions,
                    &t.checkpoints,
                    &t.time_checkpoint_s,
                    &t.time_lost_s,
                    &t.time_restart_s,
                    &t.time_requeue_s,
                    &t.pue,
                    &t.carbon_intensity_kg_per_kwh})
    *f = 0;
  for (auto& c : t.causes)
    c.interruptions = c.downtime_s = c.requeue_s = c.lost_work_s = 0;
  double tokens = 0;
  for (size_t i = 0; i < per_phase.size(); ++i) {
    const auto& m = per_phase[i];
    for (auto [to, from] : std::initializer_list<std::pair<double*, double>>{
             {&t.steps_to_train, m.steps_to_train},
             {&t.time_to_train_s, m.time_to_train_s},
             {&t.useful_time_s, m.useful_time_s},
             {&t.accelerator_hours, m.accelerator_hours},
             {&t.energy_mwh, m.energy_mwh},
             {&t.energy_accelerators_mwh, m.energy_accelerators_mwh},
             {&t.energy_hosts_mwh, m.energy_hosts_mwh},
             {&t.energy_facility_mwh, m.energy_facility_mwh},
             {&t.energy_nics_mwh, m.energy_nics_mwh},
             {&t.energy_switches_mwh, m.energy_switches_mwh},
             {&t.energy_storage_mwh, m.energy_storage_mwh},
             {&t.energy_spares_mwh, m.energy_spares_mwh},
             {&t.acc_compute_mwh, m.acc_compute_mwh},
             {&t.acc_memory_bound_mwh, m.acc_memory_bound_mwh},
             {&t.acc_communication_mwh, m.acc_communication_mwh},
             {&t.acc_bubble_mwh, m.acc_bubble_mwh},
             {&t.acc_idle_mwh, m.acc_idle_mwh},
             {&t.energy_useful_mwh, m.energy_useful_mwh},
             {&t.energy_lost_work_mwh, m.energy_lost_work_mwh},
             {&t.energy_checkpoint_mwh, m.energy_checkpoint_mwh},
             {&t.energy_restart_mwh, m.energy_restart_mwh},
             {&t.carbon_tco2e, m.carbon_tco2e},
             {&t.carbon_coal_tco2e, m.carbon_coal_tco2e},
             {&t.carbon_market_tco2e, m.carbon_market_tco2e},
             {&t.carbon_embodied_tco2e, m.carbon_embodied_tco2e},
             {&t.carbon_total_tco2e, m.carbon_total_tco2e},
             {&t.interruptions, m.interruptions},
             {&t.checkpoints, m.checkpoints},
             {&t.time_checkpoint_s, m.time_checkpoint_s},
             {&t.time_lost_s, m.time_lost_s},
             {&t.time_restart_s, m.time_restart_s},
             {&t.time_requeue_s, m.time_requeue_s},
             {&t.pue, m.pue * m.time_to_train_s},
             {&t.carbon_intensity_kg_per_kwh, m.carbon_intensity_kg_per_kwh * m.energy_mwh}})
      *to += from;
    for (size_t c = 0; c < t.causes.size() && c < m.causes.size(); ++c) {
      t.causes[c].interruptions += m.causes[c].interruptions;
      t.causes[c].downtime_s += m.causes[c].downtime_s;
      t.causes[c].requeue_s += m.causes[c].requeue_s;
      t.causes[c].lost_work_s += m.causes[c].lost_work_s;
    }
    tokens += m.steps_to_train * m.tokens_per_step;
  }
  t.goodput = t.time_to_train_s > 0 ? t.useful_time_s / t.time_to_train_s : 1.0;
  t.pue = t.time_to_train_s > 0 ? t.pue / t.time_to_train_s : per_phase[main].pue;
  t.carbon_intensity_kg_per_kwh =
      t.energy_mwh > 0 ? t.carbon_intensity_kg_per_kwh / t.energy_mwh : per_phase[main].carbon_intensity_kg_per_kwh;
  t.carbon_per_billion_tokens = tokens > 0 ? t.carbon_tco2e / (tokens / 1e9) : 0.0;
  t.phases = info;
  return t;
}

} // namespace trainsim::metrics
