#include <cstdio>

#include "trainsim/report/Report.hpp"

namespace trainsim::report {

using nlohmann::ordered_json;

void append_energy_fields(ordered_json& j, const metrics::RunMetrics& m)
{
  j["carbon_coal_tco2e"] = m.coal_known ? ordered_json(m.carbon_coal_tco2e) : ordered_json(nullptr);
  j["carbon_market_tco2e"] = m.carbon_market_tco2e;
  j["carbon_tco2e_per_billion_tokens"] = m.carbon_per_billion_tokens;
  j["carbon_embodied_tco2e"] = m.carbon_embodied_tco2e;
  j["carbon_total_tco2e"] = m.carbon_total_tco2e;
  j["cost_rmb"] = m.cost_known ? ordered_json(m.cost_rmb) : ordered_json(nullptr);
  j["carbon_detail"] = {{"intensity_kg_per_kwh", m.carbon_intensity_kg_per_kwh},
                        {"coal_kg_per_kwh", m.coal_known ? ordered_json(m.coal_kg_per_kwh) : ordered_json(nullptr)},
                        {"coal_basis", m.coal_basis}};
  j["goodput"] = m.goodput;
  j["interruptions"] = m.interruptions;
  j["checkpoint_interval_s"] = m.checkpoint_interval_s;
  j["failures"] = {{"job_mtbf_s", m.job_mtbf_s},
                   {"rates_per_hour",
                    {{"accelerators", m.failure_rate_accelerators_per_h},
                     {"nodes", m.failure_rate_nodes_per_h},
                     {"nics", m.failure_rate_nics_per_h},
                     {"links", m.failure_rate_links_per_h},
                     {"switches", m.failure_rate_switches_per_h}}},
                   {"checkpoint_bytes", m.checkpoint_bytes},
                   {"checkpoint_write_s", m.checkpoint_write_s},
                   {"checkpoints", m.checkpoints},
                   {"restart_downtime_s", m.restart_downtime_s},
                   {"spare_unavailable_probability", m.spare_unavailable_probability},
                   {"time_s",
                    {{"useful", m.useful_time_s},
                     {"checkpoint", m.time_checkpoint_s},
                     {"lost_work", m.time_lost_s},
                     {"restart", m.time_restart_s},
                     {"requeue", m.time_requeue_s}}}};
  // Failures on by default (issue 15): where the model came from, spares, and interruptions by root cause.
  auto& fj = j["failures"];
  fj["source"] = m.failures_source;
  fj["hot_spare_nodes"] = m.hot_spare_nodes;
  fj["checkpoint_storage_write_s"] = m.checkpoint_storage_write_s;
  fj["by_cause"] = ordered_json::array();
  for (const auto& c : m.causes)
    fj["by_cause"].push_back({{"cause", c.id},
                              {"component", c.component},
                              {"rate_per_hour", c.rate_per_h},
                              {"interruptions", c.interruptions},
                              {"downtime_s", c.downtime_s},
                              {"requeue_s", c.requeue_s},
                              {"lost_work_s", c.lost_work_s}});
  if (!m.phases.empty()) {
    auto& ph = j["phases"] = ordered_json::array();
    for (const auto& p : m.phases)
      ph.push_back({{"name", p.name},
                    {"tokens", p.tokens},
                    {"seq_length", p.seq_length},
                    {"global_batch_size", p.global_batch_size},
                    {"accelerators", p.accelerators},
                    {"steps", p.steps},
                    {"step_time_s", p.step_time_s},
                    {"step_simulated", p.simulated},
                    {"time_to_train_s", p.time_to_train_s},
                    {"accelerator_hours", p.accelerator_hours},
                    {"energy_mwh", p.energy_mwh},
                    {"carbon_tco2e", p.carbon_tco2e},
                    {"interruptions", p.interruptions},
                    {"goodput", p.goodput}});
  }
  j["energy_by_phase_mwh"] = {{"useful", m.energy_useful_mwh},
                              {"lost_work", m.energy_lost_work_mwh},
                              {"checkpoint", m.energy_checkpoint_mwh},
                              {"restart", m.energy_restart_mwh}};
  j["accelerator_energy_by_state_mwh"] = {{"compute", m.acc_compute_mwh},
                                          {"memory_bound", m.acc_memory_bound_mwh},
                                          {"communication", m.acc_communication_mwh},
                                          {"bubble", m.acc_bubble_mwh},
                                          {"idle", m.acc_idle_mwh}};
  j["power"] = {{"clock", m.clock},
                {"compute_activity", m.compute_activity},
                {"accelerator_w",
                 {{"compute", m.power_compute_w},
                  {"memory_bound", m.power_memory_bound_w},
                  {"communication", m.power_communication_w},
                  {"bubble", m.power_bubble_w},
                  {"idle", m.power_idle_w}}},
                {"it_power_while_training_w", m.average_it_power_w},
                {"pue", m.pue},
                {"nic_ports", m.nic_ports},
                {"switch_ports", m.switch_ports},
                {"switches", m.switches}};
}

std::string energy_console(const scenario::Scenario& s, const metrics::RunMetrics& m)
{
  char buf[512];
  std::string out;
  auto row = [&](const char* label, const std::string& v) {
    std::snprintf(buf, sizeof buf, "  %-34s %s\n", label, v.c_str());
    out += buf;
  };
  auto fmt = [&](const char* f, double a, double b = 0, double c = 0, double d = 0) {
    char t[256];
    std::snprintf(t, sizeof t, f, a, b, c, d);
    return std::string(t);
  };
  row("power (compute/comm/bubble)",
      fmt("%.0f / %.0f / %.0f W at clock %.2f", m.power_compute_w, m.power_communication_w, m.power_bubble_w, m.clock));
  row("  network, storage, spares", fmt("NICs %.1f, switches %.1f, storage %.2f, spares %.1f MWh", m.energy_nics_mwh,
                                        m.energy_switches_mwh, m.energy_storage_mwh, m.energy_spares_mwh));
  row("  PUE (time-averaged)", s.site.pue_target ? fmt("%.3f (target %.2f: ", m.pue, *s.site.pue_target) +
                                                       (m.pue <= *s.site.pue_target ? "met)" : "missed)")
                                                 : fmt("%.3f", m.pue));
  if (s.failures.enabled) {
    row("failures", fmt("goodput %.1f%%, %.0f interruptions, job MTBF %.2f h, checkpoint every %.0f s", 100 * m.goodput,
                        m.interruptions, m.job_mtbf_s / 3600, m.checkpoint_interval_s) +
                        " (" + m.failures_source + ")");
    row("  time lost",
        fmt("restart %.1f h (re-queue %.1f h), lost work %.1f h, checkpoints %.1f h", m.time_restart_s / 3600,
            m.time_requeue_s / 3600, m.time_lost_s / 3600, m.time_checkpoint_s / 3600));
    std::string causes;
    for (const auto& c : m.causes)
      causes += (causes.empty() ? "" : ", ") + c.id + fmt(" %.1f", c.interruptions);
    if (!causes.empty())
      row("  interruptions by cause", causes);
  } else {
    row("failures", "off (failures.enabled false)");
  }
  for (const auto& p : m.phases)
    row(("  phase " + p.name).c_str(),
        fmt("%.4g tokens, step %.3f s, %.2f days, ", p.tokens, p.step_time_s, p.time_to_train_s / 86400) +
            fmt("%.4g accelerator-hours, %.1f MWh, %.1f tCO2e", p.accelerator_hours, p.energy_mwh, p.carbon_tco2e));
  row("carbon (coal / market)",
      (m.coal_known ? fmt("%.1f", m.carbon_coal_tco2e) : std::string("unknown")) +
          fmt(" / %.1f tCO2e; %.3f t per billion tokens", m.carbon_market_tco2e, m.carbon_per_billion_tokens));
  if (m.carbon_embodied_tco2e > 0)
    row("embodied carbon", fmt("%.1f tCO2e (total %.1f)", m.carbon_embodied_tco2e, m.carbon_total_tco2e));
  return out;
}

} // namespace trainsim::report
