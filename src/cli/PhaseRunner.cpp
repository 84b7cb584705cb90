// training.phases (issue 15): one simulation per distinct phase step, figures per phase and for the run.
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Log.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/topology/Fabric.hpp"

namespace trainsim::cli {

namespace {

/// What decides a phase's step: its resolved scenario without the name and the token budget.
std::string step_key(const scenario::Scenario& s)
{
  auto j = scenario::to_json(s);
  j.erase("name");
  j.erase("description");
  if (j.contains("training"))
    j["training"].erase("tokens");
  return j.dump();
}

} // namespace

RunOutput run_phases(const scenario::Scenario& s, const scenario::Catalog& catalog, const sim::SimOptions& options)
{
  std::vector<RunOutput> runs;   // distinct phase steps
  std::vector<std::string> keys; // their step keys
  std::vector<size_t> run_of;    // phase -> its run
  std::vector<metrics::RunMetrics> per_phase;
  std::vector<metrics::RunMetrics::Phase> info;
  double offset = 0;
  for (const auto& phase : s.phases) {
    const auto& ps = *phase.scenario;
    const auto fabric = topology::Fabric::build(ps.cluster); // a phase may run on fewer nodes
    const std::string key = step_key(ps);
    size_t k = 0;
    while (k < keys.size() && keys[k] != key)
      ++k;
    const bool simulated = k == keys.size();
    if (simulated) {
      core::logger("phases")->info("phase {}: simulating its step", phase.name);
      runs.push_back(run_scenario(ps, catalog, options));
      keys.push_back(key);
    } else {
      core::logger("phases")->info("phase {}: same step as an earlier phase, reused", phase.name);
    }
    run_of.push_back(k);
    auto m = metrics::compute(ps, runs[k].workload, runs[k].sim, fabric, offset);
    offset += m.time_to_train_s;
    metrics::RunMetrics::Phase p;
    p.name = phase.name;
    p.tokens = phase.tokens;
    p.steps = m.steps_to_train;
    p.step_time_s = m.step_time_s;
    p.time_to_train_s = m.time_to_train_s;
    p.accelerator_hours = m.accelerator_hours;
    p.energy_mwh = m.energy_mwh;
    p.carbon_tco2e = m.carbon_tco2e;
    p.interruptions = m.interruptions;
    p.goodput = m.goodput;
    p.accelerators = m.accelerators;
    p.global_batch_size = ps.training.global_batch_size;
    p.seq_length = ps.model.seq_length;
    p.simulated = simulated;
    info.push_back(p);
    per_phase.push_back(std::move(m));
  }
  RunOutput out;
  out.metrics = metrics::combine_phases(per_phase, info);
  size_t main = 0;
  for (size_t i = 1; i < info.size(); ++i)
    if (info[i].tokens > info[main].tokens)
      main = i;
  out.workload = runs[run_of[main]].workload;
  out.sim = runs[run_of[main]].sim;
  out.metrics.scenario = s.name;
  report::check_finite(report::to_json(s, out.metrics));
  return out;
}

} // namespace trainsim::cli
