#include "trainsim/report/Report.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Printable.hpp"
#include "trainsim/core/Units.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::report {

using nlohmann::ordered_json;

namespace {

/// The scenario keys a report field depends on most directly, for the message of check_finite.
std::string suspect_keys(const std::string& field)
{
  static const std::pair<const char*, const char*> by_word[] = {
      {"checkpoint", "/reliability/checkpoint (write_bandwidth, read_bandwidth, interval)"},
      {"restart", "/reliability (restart_time, checkpoint/read_bandwidth)"},
      {"goodput", "/reliability"},
      {"lost", "/reliability"},
      {"interruption", "/reliability"},
      {"mtbf", "/reliability"},
      {"failure", "/reliability"},
      {"carbon", "/site (grid, intensity_profile, green_share)"},
      {"intensity", "/site (grid, intensity_profile)"},
      {"power", "/cluster/accelerator/power"},
      {"energy", "/cluster/accelerator/power, /site/pue and /reliability"},
      {"time_to_train", "/training/tokens and /reliability"},
  };
  for (const auto& [word, keys] : by_word)
    if (field.find(word) != std::string::npos)
      return keys;
  return "/cluster, /model and /training";
}

void check_finite_at(const ordered_json& j, const std::string& pointer)
{
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      check_finite_at(v, pointer + "/" + k);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      check_finite_at(j[i], pointer + "/" + std::to_string(i));
  } else if (j.is_number_float() && !std::isfinite(j.get<double>())) {
    const double v = j.get<double>();
    throw core::ConfigError(suspect_keys(pointer), "the report figure " + pointer + " would be " +
                                                       (std::isnan(v) ? "NaN" : "infinite") +
                                                       "; a value there is out of range, correct it");
  }
}

} // namespace

void check_finite(const ordered_json& report)
{
  check_finite_at(report, "");
}

namespace {
/// The parts of a breakdown the scenario has, by their JSON keys (result::parts).
ordered_json parts_json(const result::Breakdown& b, bool moe, bool context_parallel)
{
  ordered_json j = ordered_json::object();
  for (const auto& part : result::parts)
    if (result::shown(part, moe, context_parallel))
      j[part.key] = b.*part.field;
  return j;
}
} // namespace

ordered_json to_json(const scenario::Scenario& s, const metrics::RunMetrics& m)
{
  ordered_json j;
  j["report_version"] = report_version;
  j["scenario"] = m.scenario;
  j["accelerators"] = m.accelerators;
  j["step_time_s"] = m.step_time_s;
  j["tokens_per_step"] = m.tokens_per_step;
  j["tokens_per_s"] = m.tokens_per_s;
  j["mfu"] = m.mfu;
  j["mfu_causal"] = m.mfu_causal; // attention counted causally (docs/validation.md)
  j["hfu"] = m.hfu;
  j["tflops_per_accelerator"] = m.tflops_per_accelerator;
  j["hw_tflops_per_accelerator"] = m.hw_tflops_per_accelerator;
  j["steps_to_train"] = m.steps_to_train;
  j["time_to_train_s"] = m.time_to_train_s;
  j["time_to_train_days"] = m.time_to_train_s / 86400.0;
  j["accelerator_hours"] = m.accelerator_hours; // issue 15: accelerators x time_to_train_s, failures included
  j["energy_mwh"] = m.energy_mwh;
  j["energy_breakdown_mwh"] = {{"accelerators", m.energy_accelerators_mwh},  {"hosts", m.energy_hosts_mwh},
                               {"facility_overhead", m.energy_facility_mwh}, {"network_nics", m.energy_nics_mwh},
                               {"network_switches", m.energy_switches_mwh},  {"storage", m.energy_storage_mwh},
                               {"hot_spares", m.energy_spares_mwh}};
  j["energy_per_step_j"] = m.energy_per_step_j;
  j["average_accelerator_power_w"] = m.average_accelerator_power_w;
  j["carbon_tco2e"] = m.carbon_tco2e;
  j["grid"] = {{"id", s.site.grid.id}, {"co2_kg_per_kwh", m.grid_kg_per_kwh}};
  if (!s.site.grid.basis.empty())
    j["grid"]["basis"] = s.site.grid.basis;
  if (!s.site.grid.regional_grid.empty())
    j["grid"]["regional_grid"] = s.site.grid.regional_grid;
  append_energy_fields(j, m); // ReportEnergy.cpp: carbon_coal_tco2e, carbon_market_tco2e, goodput, ...
  if (s.site.pue_target) {    // a site's PUE target (sites.json: the hub nodes' 1.25), beside the PUE reached
    j["power"]["pue_target"] = *s.site.pue_target;
    j["power"]["pue_meets_target"] = m.pue <= *s.site.pue_target;
  }
  j["memory_gib_per_accelerator"] = m.memory_gib_per_accelerator;
  const double g = 1073741824.0;
  j["memory_breakdown_gib"] = {{"stage", m.memory.stage},
                               {"weights", m.memory.weights / g},
                               {"gradients", m.memory.gradients / g},
                               {"optimizer", m.memory.optimizer / g},
                               {"activations", m.memory.activations / g},
                               {"workspace", m.memory.workspace / g},
                               {"usable_capacity", m.memory.capacity / g}};
  const bool moe = s.model.moe.enabled(), cp = s.parallelism.cp > 1;
  j["breakdown"] = parts_json(m.breakdown, moe, cp);
  if (moe) {
    j["all_to_all_share"] = m.step_time_s > 0 ? m.breakdown.ep_comm / m.step_time_s : 0.0;
    j["moe"] = {{"total_params", m.total_params}, {"active_params", m.active_params},
                {"experts", s.model.moe.experts}, {"top_k", s.model.moe.top_k},
                {"ep", s.parallelism.ep},         {"busiest_expert_load", s.model.moe.busiest_load()}};
    // How much of the all-to-all the schedule hides (DualPipe's overlapped pairs; none with blocking ones).
    const auto ep = m.breakdown.comm_total.find("ep");
    const double a2a = ep == m.breakdown.comm_total.end() ? 0.0 : ep->second;
    j["moe"]["all_to_all_total_s"] = a2a;
    j["moe"]["all_to_all_hidden_s"] = std::max(0.0, a2a - m.breakdown.ep_comm);
  }
  if (s.parallelism.pp > 1) { // the pipeline schedule, split and bubble (docs/pipeline.md)
    const auto& pl = m.pipeline;
    j["pipeline"] = {{"schedule", pl.schedule},
                     {"layers_per_stage", pl.layers_per_stage},
                     {"layers_per_virtual_stage", pl.layers_per_virtual_stage},
                     {"bubble_fraction", m.step_time_s > 0 ? m.breakdown.bubble / m.step_time_s : 0.0},
                     {"bubble_fraction_closed_form", pl.bubble_closed_form},
                     {"forward_s", pl.forward_s},
                     {"backward_input_s", pl.backward_input_s},
                     {"backward_weight_s", pl.backward_weight_s},
                     {"stage_imbalance", pl.stage_imbalance}};
  }
  // The 16-bit GEMMs under the shape-aware ceiling (docs/calibration.md#gemm-ceiling).
  j["gemm"] = {{"ceiling", m.gemm.ceiling},
               {"sm_count", m.gemm.sm_count},
               {"matmul_max_fraction", m.gemm.matmul_max_fraction},
               {"efficiency", m.gemm.efficiency},
               {"shape_cost_s", m.gemm.shape_cost_s}};
  j["communication_total_s"] = m.breakdown.comm_total; // busy time per kind, hidden or not
  // What NCCL's protocol model adds to that busy time over the alpha-beta bound (docs/at-scale.md).
  j["collective_efficiency_s"] = m.breakdown.collective_efficiency;
  ordered_json stages = ordered_json::array();
  for (size_t i = 0; i < m.stages.size(); ++i) {
    const auto& st = m.stages[i];
    ordered_json row = {{"stage", i}};
    row.update(parts_json(st, moe, cp));
    row["accelerator_energy_j"] = st.energy_j;
    row["communication_total_s"] = st.comm_total;
    row["collective_efficiency_s"] = st.collective_efficiency;
    if (const int k = s.pacing_pool(static_cast<int>(i)); k >= 0) { // mixed pools only: where the stage computes
      row["pool"] = s.cluster.pools[static_cast<size_t>(k)].name;
      row["accelerator"] = s.cluster.pools[static_cast<size_t>(k)].accelerator.id;
    }
    stages.push_back(std::move(row));
  }
  j["stages"] = stages;
  j["simulation"] = {{"steps", m.simulated_steps},
                     {"seed", s.simulation.seed},
                     {"fidelity", m.fidelity},
                     {"fidelity_reason", m.fidelity_reason},
                     {"simulated_replicas", m.simulated_replicas},
                     {"simulated_rails", m.simulated_rails},
                     {"rail_symmetry", m.rail_note.empty() ? "symmetric" : m.rail_note},
                     {"ecmp_trunk_share", m.ecmp_trunk_share},
                     {"ecmp_p2p_share", m.ecmp_p2p_share},
                     {"collective_efficiency", s.simulation.collective_efficiency},
                     {"transfers", m.simulated_transfers},
                     {"executions", m.simulated_executions},
                     {"replayed", m.replayed_activities},
                     {"extrapolated_from", m.extrapolated_from},
                     {"extrapolation", m.extrapolation}};
  if (m.reference_step_time_s) {
    j["reference"] = {{"step_time_s", *m.reference_step_time_s},
                      {"error", (m.step_time_s - *m.reference_step_time_s) / *m.reference_step_time_s},
                      {"source", m.reference_source}};
  }
  j["resolved_scenario"] = ordered_json::parse(scenario::to_json(s).dump());
  return j;
}

std::string to_json_text(const scenario::Scenario& s, const metrics::RunMetrics& m)
{
  return to_json(s, m).dump(2) + "\n";
}

std::string csv_header()
{
  std::string h = "scenario,accelerators,step_time_s,tokens_per_s,mfu,tflops_per_accelerator,hw_tflops_per_accelerator,"
                  "time_to_train_s,energy_mwh,carbon_tco2e,memory_gib_per_accelerator";
  for (size_t i = 0; i < result::csv_leading_parts; ++i)
    h += std::string(",") + result::parts[i].key;
  h += ",tp_comm_total_s,pp_comm_total_s,dp_comm_total_s,accelerator_hours";
  for (size_t i = result::csv_leading_parts; i < result::parts.size(); ++i)
    h += std::string(",") + result::parts[i].key;
  return h + "\n";
}

std::string csv_row(const metrics::RunMetrics& m)
{
  std::ostringstream ss;
  ss.precision(10);
  std::string name = m.scenario;
  if (name.find_first_of(",\"\n") != std::string::npos) {
    std::string q = "\"";
    for (char c : name)
      q += c == '"' ? std::string("\"\"") : std::string(1, c);
    name = q + "\"";
  }
  ss << name << ',' << m.accelerators << ',' << m.step_time_s << ',' << m.tokens_per_s << ',' << m.mfu << ','
     << m.tflops_per_accelerator << ',' << m.hw_tflops_per_accelerator << ',' << m.time_to_train_s << ','
     << m.energy_mwh << ',' << m.carbon_tco2e << ',' << m.memory_gib_per_accelerator;
  for (size_t i = 0; i < result::csv_leading_parts; ++i)
    ss << ',' << m.breakdown.*result::parts[i].field;
  for (const char* kind : {"tp", "pp", "dp"}) {
    const auto it = m.breakdown.comm_total.find(kind);
    ss << ',' << (it == m.breakdown.comm_total.end() ? 0.0 : it->second);
  }
  ss << ',' << m.accelerator_hours;
  for (size_t i = result::csv_leading_parts; i < result::parts.size(); ++i) // every part, 0 where not modelled
    ss << ',' << m.breakdown.*result::parts[i].field;
  ss << '\n';
  return ss.str();
}

namespace {
std::string row(const std::string& label, const std::string& value)
{
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-34s %s\n", label.c_str(), value.c_str());
  return buf;
}
std::string num(const char* fmt, double v)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}
} // namespace

std::string to_console(const scenario::Scenario& s, const metrics::RunMetrics& m, bool colour)
{
  std::string out;
  const auto& p = s.parallelism;
  const std::string b = colour ? "\033[1m" : "", e = colour ? "\033[0m" : "";
  // Names come from the user's file: control characters are escaped, never sent to the terminal raw.
  out += b + "trainsim: " + core::printable(m.scenario) + e + "\n";
  std::string accelerators = std::to_string(m.accelerators) + " x " + core::printable(s.cluster.accelerator.id);
  if (s.cluster.mixed()) { // mixed pools: each pool's count and accelerator
    accelerators.clear();
    for (const auto& pool : s.cluster.pools)
      accelerators += (accelerators.empty() ? "" : " + ") +
                      std::to_string(static_cast<long>(pool.nodes) * s.cluster.accelerators_per_node) + " x " +
                      core::printable(pool.accelerator.id);
  }
  out +=
      row("cluster", accelerators + " (" + std::to_string(s.cluster.nodes) + " nodes, " + s.cluster.fabric.type + ")");
  out += row("model", core::printable(s.model.name) + ", " + std::to_string(s.model.layers) + " layers, hidden " +
                          std::to_string(s.model.hidden_size));
  out += row("parallelism", "tp " + std::to_string(p.tp) + ", pp " + std::to_string(p.pp) + ", dp " +
                                std::to_string(p.dp) + (p.cp > 1 ? ", cp " + std::to_string(p.cp) : std::string()) +
                                ", vpp " + std::to_string(p.vpp) + ", micro-batches " +
                                std::to_string(s.micro_batches_per_replica()));
  out += "\n";
  out += row("step time", b + core::format_seconds(m.step_time_s) + e);
  auto share = [&](double x) { return core::format_seconds(x) + num("  (%.1f%%)", 100.0 * x / m.step_time_s); };
  for (const auto& part : result::parts) {
    if (!result::shown(part, s.model.moe.enabled(), p.cp > 1))
      continue;
    out += row(std::string("  ") + part.label, share(m.breakdown.*part.field));
    if (part.field == &result::Breakdown::bubble && p.pp > 1)
      out += row("  pipeline schedule", core::printable(m.pipeline.schedule) +
                                            num(", closed-form bubble %.1f%%", 100.0 * m.pipeline.bubble_closed_form));
  }
  if (!m.breakdown.comm_total.empty()) {
    std::string busy;
    for (const auto& [kind, t] : m.breakdown.comm_total)
      busy += (busy.empty() ? "" : ", ") + kind + " " + core::format_seconds(t);
    out += row("communication total (busy)", busy);
  }
  out += row("tokens/s", num("%.4g", m.tokens_per_s));
  out += row("MFU / HFU", num("%.1f%%", 100 * m.mfu) + " / " + num("%.1f%%", 100 * m.hfu));
  out += row("TFLOP/s per accelerator (model/hw)",
             num("%.1f", m.tflops_per_accelerator) + " / " + num("%.1f", m.hw_tflops_per_accelerator));
  out += row("memory per accelerator", num("%.1f GiB", m.memory_gib_per_accelerator) + " of " +
                                           num("%.1f GiB usable", m.memory.capacity / 1073741824.0));
  out += row("time to train", num("%.2f days", m.time_to_train_s / 86400) + " (" + num("%.4g", s.training.tokens) +
                                  " tokens, " + num("%.0f", m.steps_to_train) + " steps)");
  out += row("accelerator-hours", num("%.4g", m.accelerator_hours) + num(" (%.4g M)", m.accelerator_hours / 1e6));
  out += row("energy", num("%.1f MWh", m.energy_mwh) + num(" (accelerators %.1f, ", m.energy_accelerators_mwh) +
                           num("hosts %.1f, ", m.energy_hosts_mwh) + num("facility %.1f)", m.energy_facility_mwh));
  out += row("carbon", num("%.1f tCO2e", m.carbon_tco2e) + " (" + core::printable(s.site.grid.id) +
                           num(", %.4f kg/kWh)", m.grid_kg_per_kwh));
  out += energy_console(s, m);
  if (m.reference_step_time_s)
    out += row("published step time", core::format_seconds(*m.reference_step_time_s) +
                                          num("  (error %+.1f%%)", 100 * (m.step_time_s - *m.reference_step_time_s) /
                                                                       *m.reference_step_time_s));
  if (m.stages.size() > 1)
    out += "\n" + stage_table(s, m);
  return out;
}

double mean_absolute_percentage_error(const std::vector<ReproduceRow>& rows)
{
  if (rows.empty())
    return 0;
  double sum = 0;
  for (const auto& r : rows)
    sum += std::fabs(r.error());
  return 100.0 * sum / static_cast<double>(rows.size());
}

std::vector<SizeClassError> mape_by_size(const std::vector<ReproduceRow>& rows)
{
  std::vector<SizeClassError> out{{"<1k"}, {"1k-4k"}, {">4k"}};
  for (const auto& r : rows) {
    auto& c = out[r.accelerators < 1024 ? 0 : r.accelerators <= 4096 ? 1 : 2];
    c.mape_percent += 100.0 * std::fabs(r.error());
    ++c.cases;
  }
  for (auto& c : out)
    c.mape_percent = c.cases > 0 ? c.mape_percent / static_cast<double>(c.cases) : 0.0;
  return out;
}

std::string reproduce_table(const std::vector<ReproduceRow>& rows, bool markdown)
{
  std::string out;
  char buf[512];
  if (markdown) {
    out += "| case | predicted step (s) | published step (s) | error | MFU |\n|---|---|---|---|---|\n";
    for (const auto& r : rows) {
      std::snprintf(buf, sizeof buf, "| %s | %.2f | %.2f | %+.1f%% | %.1f%% |\n", r.name.c_str(), r.predicted_s,
                    r.published_s, 100 * r.error(), 100 * r.mfu);
      out += buf;
    }
  } else {
    std::snprintf(buf, sizeof buf, "%-40s %12s %12s %8s %6s\n", "case", "predicted_s", "published_s", "error", "MFU");
    out += buf;
    for (const auto& r : rows) {
      std::snprintf(buf, sizeof buf, "%-40s %12.3f %12.3f %+7.1f%% %5.1f%%\n", r.name.c_str(), r.predicted_s,
                    r.published_s, 100 * r.error(), 100 * r.mfu);
      out += buf;
    }
  }
  std::snprintf(buf, sizeof buf, "%sMAPE over %zu cases: %.2f%%\n", markdown ? "\n" : "", rows.size(),
                mean_absolute_percentage_error(rows));
  out += buf;
  std::string by_size = "MAPE by GPU count:";
  for (const auto& c : mape_by_size(rows)) {
    std::snprintf(buf, sizeof buf, " %s %.2f%% (%ld cases)%s", c.label.c_str(), c.mape_percent, c.cases,
                  c.label == ">4k" ? "" : ",");
    by_size += buf;
  }
  out += (markdown ? "\n" : "") + by_size + "\n";
  return out;
}

} // namespace trainsim::report
