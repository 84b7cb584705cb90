#include "trainsim/cli/Runner.hpp"

#include <chrono>

#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Log.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"
#include "trainsim/workload/ResourceGuard.hpp"

namespace trainsim::cli {

sim::Fidelity parse_fidelity(const std::string& f)
{
  if (f.empty() || f == "auto")
    return sim::Fidelity::automatic;
  if (f == "full")
    return sim::Fidelity::full;
  if (f == "reduced")
    return sim::Fidelity::reduced;
  throw core::UsageError("--fidelity must be auto, full or reduced, got \"" + f + "\"");
}

RunOutput run_scenario(const scenario::Scenario& s, const scenario::Catalog& catalog, const sim::SimOptions& options)
{
  if (!s.phases.empty())
    return run_phases(s, catalog, options); // PhaseRunner.cpp
  RunOutput out;
  // Fail in milliseconds, with an estimate, rather than exhaust the machine building or simulating.
  // The estimate is of the fidelity that will run (the command line may override the scenario's).
  auto chosen = s;
  if (options.fidelity != sim::Fidelity::automatic)
    chosen.simulation.fidelity = options.fidelity == sim::Fidelity::full ? "full" : "reduced";
  core::logger("guard")->info("resource estimate: {}", workload::estimate_resources(chosen).describe());
  workload::check_resources(chosen, workload::limits_of(chosen));
  const auto fabric = topology::Fabric::build(s.cluster);
  const auto& fs = fabric.structural_summary(); // the graph analyses are for `topo`
  core::logger("topology")
      ->info("{} accelerators, {} nodes, {} leaves, {} pods, {} links", fs.accelerators, fs.nodes, fs.leaves, fs.pods,
             fs.links);
  // A step extrapolated from fewer micro-batches needs the figures of its workload, not its programs: the
  // simulation builds (and checks) those of the counts it simulates, or the step's own if it must.
  const bool extrapolating = sim::will_extrapolate(s, options);
  out.workload = extrapolating ? workload::build_workload_figures(s, catalog.calibration())
                               : workload::build_workload(s, catalog.calibration());
  size_t ops = 0;
  for (const auto& st : out.workload.stages)
    ops += st.ops.size();
  core::logger("workload")
      ->info("{} stages, {} micro-batches per replica, {}; memory {}", s.parallelism.pp, out.workload.microbatches,
             extrapolating ? std::string("programs built at the simulated counts")
                           : std::to_string(ops) + " ops per step",
             out.workload.memory.describe());
  const auto start = std::chrono::steady_clock::now();
  out.sim = sim::simulate(s, out.workload, fabric, catalog.calibration(), options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  core::logger("sim")->info("[{:.6f}s simulated] {} steps, step {:.6f} s; {} transfers, {} executions in {:.3f} s wall",
                            out.sim.simulated_seconds, s.simulation.steps, out.sim.step_time_s, out.sim.transfers,
                            out.sim.executions, wall);
  out.metrics = metrics::compute(s, out.workload, out.sim, fabric);
  // Every figure of a report is finite, or the run fails naming the key: checked before anything is written.
  report::check_finite(report::to_json(s, out.metrics));
  return out;
}

std::vector<metrics::RunMetrics> run_site_group(const std::vector<scenario::Scenario>& group,
                                                const scenario::Catalog& catalog)
{
  std::vector<metrics::RunMetrics> out;
  if (group.empty())
    return out;
  auto first = run_scenario(group.front(), catalog);
  const auto fabric = topology::Fabric::build(group.front().cluster);
  out.push_back(std::move(first.metrics));
  for (size_t i = 1; i < group.size(); ++i) {
    out.push_back(metrics::compute(group[i], first.workload, first.sim, fabric));
    report::check_finite(report::to_json(group[i], out.back()));
  }
  return out;
}

std::vector<nlohmann::ordered_json> site_group_reports(const std::vector<scenario::Scenario>& group,
                                                       const scenario::Catalog& catalog)
{
  const auto ms = run_site_group(group, catalog);
  std::vector<nlohmann::ordered_json> reports;
  for (size_t i = 0; i < group.size(); ++i)
    reports.push_back(report::to_json(group[i], ms[i]));
  return reports;
}

} // namespace trainsim::cli
