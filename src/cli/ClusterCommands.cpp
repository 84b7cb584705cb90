// trainsim cluster FILE.json: a queue of training jobs on a centre's node pools (issue 17, docs/cluster.md).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>

#include <CLI/CLI.hpp>

#include "trainsim/cli/ClusterRun.hpp"
#include "trainsim/cli/Commands.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/cluster/Queue.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Log.hpp"
#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/ResourceGuard.hpp"

namespace trainsim::cli {

namespace {

using nlohmann::json;

/// Runs `f`, rethrowing a configuration error of a job's scenario at the cluster file's path.
template <class F> auto at_cluster_path(const cluster::ClusterSpec& spec, size_t j, F f) -> decltype(f())
{
  try {
    return f();
  } catch (const core::ConfigError& e) {
    const std::string shown = e.pointer().empty() ? "/" : e.pointer();
    std::string message = e.what();
    if (message.rfind(shown + ": ", 0) == 0)
      message = message.substr(shown.size() + 2);
    const std::string where = cluster::cluster_pointer(spec, j, e.pointer());
    message += " (job \"" + spec.jobs[j].name + "\")";
    if (dynamic_cast<const core::InfeasibleError*>(&e))
      throw core::InfeasibleError(where, message);
    throw core::ConfigError(where, message);
  }
}

/// Node failures that take a node out (a hot spare or re-queue is needed), per node per second.
double node_failure_rate(const scenario::Failures& f, int per_node)
{
  if (!f.enabled)
    return 0;
  auto per_node_count = [&](const std::string& component) -> double {
    if (component == "node")
      return 1.0 / f.node_mtbf_s;
    if (component == "accelerator")
      return per_node / f.accelerator_mtbf_s;
    if (component == "nic")
      return per_node / f.nic_mtbf_s;
    return 0.0; // links and switches do not take a node out
  };
  if (f.causes.empty())
    return per_node_count("node") + per_node_count("accelerator") + per_node_count("nic");
  double r = 0;
  for (const auto& c : f.causes)
    if (c.replaces_node)
      r += c.share * per_node_count(c.component);
  return r;
}

struct Simulated {
  RunOutput out;
  std::unique_ptr<topology::Fabric> fabric;
};

/// Each job's metrics; configurations (scenario less name and tokens) simulated once, in file order.
std::vector<metrics::RunMetrics> job_metrics(const cluster::ClusterSpec& spec, const scenario::Catalog& catalog,
                                             std::vector<scenario::Scenario>& scenarios, std::vector<int>& config,
                                             std::vector<Simulated>& sims)
{
  std::map<std::string, int> index;
  std::vector<metrics::RunMetrics> out;
  for (size_t j = 0; j < spec.jobs.size(); ++j) {
    json doc = cluster::job_scenario(spec, j);
    scenarios.push_back(at_cluster_path(spec, j, [&] { return scenario::parse_scenario(doc, catalog); }));
    const auto& s = scenarios.back();
    json key = doc;
    key.erase("name");
    key["training"].erase("tokens");
    const auto [it, fresh] = index.emplace(key.dump(), static_cast<int>(sims.size()));
    config.push_back(it->second);
    if (fresh) {
      Simulated sim;
      sim.out = at_cluster_path(spec, j, [&] { return run_scenario(s, catalog); });
      if (!sim.out.workload.has_programs()) // extrapolated: a shared set simulates the job's own programs
        sim.out.workload = workload::build_workload(s, catalog.calibration());
      sim.fabric = std::make_unique<topology::Fabric>(topology::Fabric::build(s.cluster));
      out.push_back(sim.out.metrics);
      sims.push_back(std::move(sim));
    } else {
      const auto& sim = sims[it->second];
      out.push_back(metrics::compute(s, sim.out.workload, sim.out.sim, *sim.fabric));
    }
  }
  return out;
}

std::vector<cluster::QueuePool> queue_pools(const cluster::ClusterSpec& spec, const scenario::Catalog& catalog,
                                            const scenario::Scenario& first, double pue)
{
  std::vector<cluster::QueuePool> pools;
  for (size_t p = 0; p < spec.pools.size(); ++p) {
    json c = {{"accelerator", spec.pools[p].accelerator}, {"nodes", spec.pools[p].nodes}, {"fabric", spec.fabric}};
    if (spec.pools[p].accelerators_per_node > 0)
      c["accelerators_per_node"] = spec.pools[p].accelerators_per_node;
    const auto cl = scenario::parse_cluster_object(c, "/cluster/pools/" + std::to_string(p), catalog);
    cluster::QueuePool q;
    q.name = spec.pools[p].name;
    q.nodes = spec.pools[p].nodes;
    q.accelerators_per_node = cl.accelerators_per_node;
    q.idle_node_w = (cl.accelerators_per_node * cl.accelerator.idle_power_w + cl.host_power_w) * pue;
    q.failures_per_node_s = node_failure_rate(first.failures, cl.accelerators_per_node);
    q.repair_s = first.failures.repair_s;
    pools.push_back(q);
  }
  return pools;
}

/// Jobs with a placement sharing their pool's fabric (docs/cluster.md, "Jobs sharing the fabric"): each
/// distinct set of them running at once (their configurations and nodes) simulated together once with
/// sim::simulate_shared; a job's factor is its step in the set over its own step (its configuration's run).
class FabricShare {
public:
  /// Accelerators of placed jobs simulated together at most (full fidelity: about 5 s per 1,024 measured).
  static constexpr long max_shared_accelerators = 8192;
  /// The resource guard's wall-time estimate of one set at full fidelity, at most (workload::estimate_resources).
  static constexpr double max_set_seconds = 120;
  /// ... and of all the sets of a run.
  static constexpr double max_total_seconds = 120;

  FabricShare(const cluster::ClusterSpec& spec, const scenario::Catalog& catalog,
              const std::vector<scenario::Scenario>& scenarios, const std::vector<int>& config,
              const std::vector<Simulated>& sims)
      : spec_(spec), catalog_(catalog), scenarios_(scenarios), config_(config), sims_(sims)
  {
    for (size_t j = 0; j < spec.jobs.size(); ++j) {
      const int p = spec.jobs[j].pool;
      if (spec.jobs[j].placement.policy == cluster::PlacementPolicy::none || pools_.count(p))
        continue;
      json c = {{"accelerator", spec.pools[p].accelerator}, {"nodes", spec.pools[p].nodes}, {"fabric", spec.fabric}};
      if (spec.pools[p].accelerators_per_node > 0)
        c["accelerators_per_node"] = spec.pools[p].accelerators_per_node;
      const auto cl = scenario::parse_cluster_object(c, "/cluster/pools/" + std::to_string(p), catalog);
      auto fabric = std::make_unique<topology::Fabric>(topology::Fabric::build(cl));
      if (fabric->hashed_trunks())
        throw core::ConfigError("/cluster/fabric/load_balance",
                                "jobs with a placement share the fabric in one simulation, which needs sprayed "
                                "trunks; set \"spray\" or remove /jobs/" +
                                    std::to_string(j) + "/placement");
      pools_.emplace(p, Pool{static_cast<int>(j), std::move(fabric)});
    }
    // Every placed job is simulated at least once at full fidelity: refuse, before anything runs, a file whose
    // placed jobs alone would already exceed the budget of all sets.
    double alone = 0;
    for (size_t j = 0; j < spec.jobs.size(); ++j)
      if (spec.jobs[j].placement.policy != cluster::PlacementPolicy::none) {
        auto s = scenarios[j];
        s.simulation.fidelity = "full";
        alone += workload::estimate_resources(s).seconds;
        if (alone > max_total_seconds)
          throw core::ConfigError("/jobs/" + std::to_string(j) + "/placement",
                                  "the placed jobs up to this one would take over " +
                                      std::to_string(long(max_total_seconds)) +
                                      " s to simulate at full fidelity even alone (estimate); jobs sharing the "
                                      "fabric are for a few co-running jobs: remove placement from some");
      }
  }

  bool any() const { return !pools_.empty(); }

  cluster::NodeTopology topology(int pool) const
  {
    const auto it = pools_.find(pool);
    return it == pools_.end() ? cluster::NodeTopology{} : cluster::NodeTopology::of(*it->second.fabric);
  }

  /// The queue's share function: the placed jobs of the set in their set's simulation, the others at 1.
  std::vector<double> factors(int pool, const std::vector<int>& jobs, const std::vector<std::vector<int>>& nodes)
  {
    std::vector<double> f(jobs.size(), 1.0);
    std::vector<size_t> placed;
    for (size_t k = 0; k < jobs.size(); ++k)
      if (spec_.jobs[jobs[k]].placement.policy != cluster::PlacementPolicy::none)
        placed.push_back(k);
    if (placed.empty())
      return f;
    std::vector<int> members;
    std::vector<std::vector<int>> member_nodes;
    for (size_t k : placed) {
      members.push_back(jobs[k]);
      member_nodes.push_back(nodes[k]);
    }
    const auto steps = steps_of(pool, members, member_nodes);
    for (size_t i = 0; i < placed.size(); ++i)
      f[placed[i]] = own_step(members[i]) > 0 ? steps[i] / own_step(members[i]) : 1.0;
    return f;
  }

  /// A placed job's step alone on `nodes` of its pool.
  double alone(int job, const std::vector<int>& nodes) { return steps_of(spec_.jobs[job].pool, {job}, {nodes}).at(0); }

  double own_step(int job) const { return sims_[static_cast<size_t>(config_[job])].out.sim.step_time_s; }
  const std::vector<cluster::SharedSetOutcome>& sets() const { return sets_; }

private:
  struct Pool {
    int first_job = 0; ///< its accelerator and precision build the platform's hosts
    std::unique_ptr<topology::Fabric> fabric;
  };

  /// The members' steps when they run together, simulated once per distinct set (configurations and nodes).
  std::vector<double> steps_of(int pool, const std::vector<int>& jobs, const std::vector<std::vector<int>>& nodes)
  {
    std::vector<std::string> ids;
    for (size_t k = 0; k < jobs.size(); ++k)
      ids.push_back(std::to_string(config_[jobs[k]]) + "@" + cluster::node_ranges(nodes[k]));
    std::vector<size_t> order(jobs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
    std::string key = std::to_string(pool);
    for (size_t k : order)
      key += "|" + ids[k];
    auto it = cache_.find(key);
    if (it == cache_.end())
      it = cache_.emplace(key, simulate(pool, jobs, nodes, order)).first;
    std::vector<double> out(jobs.size());
    for (size_t i = 0; i < order.size(); ++i)
      out[order[i]] = it->second[i];
    return out;
  }

  /// One shared simulation; the steps in `order`. Each job runs its configuration's steps, more for a job
  /// with a shorter step, so that every job loads the fabric for about as long as the slowest one's steps.
  std::vector<double> simulate(int pool, const std::vector<int>& jobs, const std::vector<std::vector<int>>& nodes,
                               const std::vector<size_t>& order)
  {
    long accelerators = 0;
    for (int j : jobs)
      accelerators += scenarios_[j].cluster.total_accelerators();
    if (accelerators > max_shared_accelerators)
      throw core::ConfigError("/jobs/" + std::to_string(jobs.back()) + "/placement",
                              std::to_string(accelerators) +
                                  " accelerators of placed jobs would run at once on pool \"" + spec_.pools[pool].name +
                                  "\"; jobs sharing the fabric are simulated at full "
                                  "fidelity, at most " +
                                  std::to_string(max_shared_accelerators) +
                                  " together: place fewer or smaller jobs (remove placement from some)");
    int base = 1;
    double longest = 0;
    for (int j : jobs) {
      const auto& sim = scenarios_[j].simulation;
      base = std::max(base, sim.steps_auto ? std::min(2, sim.steps) : sim.steps);
      longest = std::max(longest, own_step(j));
    }
    constexpr int max_steps = 32;
    std::vector<scenario::Scenario> copies;
    double seconds = 0; // the resource guard's estimate of the set at full fidelity
    for (int j : jobs) {
      copies.push_back(scenarios_[j]);
      copies.back().simulation.steps_auto = false;
      copies.back().simulation.fidelity = "full";
      const double ratio = own_step(j) > 0 ? longest / own_step(j) : 1.0;
      copies.back().simulation.steps = std::clamp(static_cast<int>(std::lround(base * ratio)), base, max_steps);
      seconds += workload::estimate_resources(copies.back()).seconds;
    }
    estimated_ += seconds;
    if (estimated_ > max_total_seconds)
      throw core::ConfigError("/jobs/" + std::to_string(jobs.back()) + "/placement",
                              "the sets of placed jobs running at once would take over " +
                                  std::to_string(long(max_total_seconds)) + " s to simulate at full fidelity (" +
                                  std::to_string(sets_.size() + 1) +
                                  " distinct sets so far, estimate): place fewer "
                                  "or smaller jobs (remove placement from some)");
    if (seconds > max_set_seconds)
      throw core::ConfigError("/jobs/" + std::to_string(jobs.back()) + "/placement",
                              "the " + std::to_string(jobs.size()) + " placed jobs running at once on pool \"" +
                                  spec_.pools[pool].name + "\" would take about " + std::to_string(long(seconds)) +
                                  " s to simulate together at full fidelity (estimate; at most " +
                                  std::to_string(long(max_set_seconds)) +
                                  " s a set): place fewer or smaller jobs (remove placement from some)");
    std::vector<sim::SharedJob> shared;
    for (size_t k : order)
      shared.push_back({&copies[k], &sims_[static_cast<size_t>(config_[jobs[k]])].out.workload, nodes[k]});
    const auto& p = pools_.at(pool);
    const auto r = sim::simulate_shared(shared, *p.fabric, scenarios_[p.first_job], catalog_.calibration());
    cluster::SharedSetOutcome set;
    set.pool = spec_.pools[pool].name;
    std::vector<double> steps;
    for (size_t i = 0; i < order.size(); ++i) {
      set.jobs.push_back(spec_.jobs[jobs[order[i]]].name);
      set.nodes.push_back(cluster::node_ranges(nodes[order[i]]));
      set.step_time_s.push_back(r.jobs[i].step_time_s);
      steps.push_back(r.jobs[i].step_time_s);
    }
    for (const auto& t : r.tiers)
      set.tiers.push_back({t.tier, t.links, t.utilisation, t.busiest_link});
    core::logger("cluster")->info("{} job(s) simulated together on pool {} ({:.3f} s simulated)", jobs.size(), set.pool,
                                  r.simulated_seconds);
    sets_.push_back(std::move(set));
    return steps;
  }

  const cluster::ClusterSpec& spec_;
  const scenario::Catalog& catalog_;
  const std::vector<scenario::Scenario>& scenarios_;
  const std::vector<int>& config_;
  const std::vector<Simulated>& sims_;
  std::map<int, Pool> pools_;
  std::map<std::string, std::vector<double>> cache_;
  std::vector<cluster::SharedSetOutcome> sets_;
  double estimated_ = 0; ///< estimated seconds of the sets simulated so far
};

} // namespace

namespace {

/// Refuses, before the queue runs, a file whose node failures would take millions of events (a hang, not an
/// answer): the expected count over the period or the serial sum of the jobs' runs, whichever is longer.
void check_queue_size(const cluster::ClusterSpec& spec, const std::vector<cluster::QueuePool>& pools,
                      const std::vector<cluster::QueueJob>& jobs)
{
  double horizon = spec.period_s;
  double serial = 0;
  for (const auto& j : jobs)
    serial = std::max(serial, j.submit_s) + j.run_s;
  horizon = std::max(horizon, serial);
  double failures = 0;
  for (const auto& p : pools)
    failures += spec.node_failures ? p.failures_per_node_s * p.nodes * horizon : 0;
  constexpr double max_failures = 2e6;
  if (failures > max_failures)
    throw core::ConfigError("/queue/period", "the queue would draw about " + std::to_string(long(failures)) +
                                                 " node failures (over " + std::to_string(long(horizon / 86400)) +
                                                 " days); simulate a shorter period, fewer nodes or set "
                                                 "queue.node_failures false (at most 2,000,000)");
}

} // namespace

cluster::ClusterOutcome run_cluster(const cluster::ClusterSpec& spec, const scenario::Catalog& catalog)
{
  for (size_t p = 0; p < spec.pools.size(); ++p) { // a bad pool fails before anything is simulated
    json c = {{"accelerator", spec.pools[p].accelerator}, {"nodes", spec.pools[p].nodes}, {"fabric", spec.fabric}};
    if (spec.pools[p].accelerators_per_node > 0)
      c["accelerators_per_node"] = spec.pools[p].accelerators_per_node;
    scenario::parse_cluster_object(c, "/cluster/pools/" + std::to_string(p), catalog);
  }
  std::vector<scenario::Scenario> scenarios;
  std::vector<int> config;
  std::vector<Simulated> sims;
  const auto metrics = job_metrics(spec, catalog, scenarios, config, sims);
  auto pools = queue_pools(spec, catalog, scenarios.front(), metrics.front().pue);
  FabricShare share(spec, catalog, scenarios, config, sims);
  for (size_t p = 0; p < pools.size(); ++p)
    pools[p].topology = share.topology(static_cast<int>(p));
  std::vector<cluster::QueueJob> jobs;
  for (size_t j = 0; j < spec.jobs.size(); ++j) {
    const auto& m = metrics[j];
    jobs.push_back({spec.jobs[j].pool, spec.jobs[j].submit_s, spec.jobs[j].nodes, spec.jobs[j].priority,
                    m.time_to_train_s, m.time_to_train_s > 0 ? m.energy_mwh * 3.6e9 / m.time_to_train_s : 0,
                    spec.jobs[j].placement});
  }
  check_queue_size(spec, pools, jobs);
  const cluster::ShareFn share_fn = [&](int pool, const std::vector<int>& running,
                                        const std::vector<std::vector<int>>& nodes) {
    return share.factors(pool, running, nodes);
  };
  const auto q = cluster::run_queue(pools, jobs, spec.scheduler, spec.period_s, static_cast<uint64_t>(spec.seed),
                                    spec.node_failures, 5'000'000, share.any() ? &share_fn : nullptr);
  cluster::ClusterOutcome o;
  o.name = spec.name;
  o.description = spec.description;
  o.scheduler = spec.scheduler;
  o.period_s = spec.period_s;
  o.makespan_s = q.makespan_s;
  o.configurations = config.empty() ? 0 : *std::max_element(config.begin(), config.end()) + 1;
  double energy = 0, carbon = 0, coal = 0;
  for (size_t j = 0; j < spec.jobs.size(); ++j) {
    const auto& m = metrics[j];
    cluster::JobOutcome jo;
    jo.name = spec.jobs[j].name;
    jo.pool = pools[spec.jobs[j].pool].name;
    jo.accelerator = scenarios[j].cluster.accelerator.id;
    jo.nodes = spec.jobs[j].nodes;
    jo.accelerators = static_cast<long>(jo.nodes) * scenarios[j].cluster.accelerators_per_node;
    jo.priority = spec.jobs[j].priority;
    jo.configuration = config[j];
    jo.submit_s = spec.jobs[j].submit_s;
    jo.start_s = q.start_s[j];
    jo.end_s = q.end_s[j];
    jo.wait_s = jo.start_s - jo.submit_s;
    jo.run_s = m.time_to_train_s;
    jo.step_time_s = jo.step_time_alone_s = m.step_time_s;
    jo.tokens = scenarios[j].training.tokens;
    jo.tokens_per_s = m.tokens_per_s;
    jo.mfu = m.mfu;
    jo.energy_mwh = m.energy_mwh;
    jo.carbon_tco2e = m.carbon_tco2e;
    jo.carbon_coal_tco2e = m.carbon_coal_tco2e;
    jo.placed_nodes = cluster::node_ranges(q.nodes[j]);
    if (spec.jobs[j].placement.policy != cluster::PlacementPolicy::none && m.time_to_train_s > 0) {
      // Its run stretched by the sets it ran in (the queue); its power while running taken as alone.
      const double stretch = (jo.end_s - jo.start_s) / m.time_to_train_s;
      jo.placement = cluster::to_string(spec.jobs[j].placement.policy);
      jo.run_s = jo.end_s - jo.start_s;
      jo.step_time_s = share.own_step(static_cast<int>(j)) * stretch;
      jo.step_time_alone_s = share.alone(static_cast<int>(j), q.nodes[j]);
      jo.tokens_per_s /= stretch;
      jo.mfu /= stretch;
      jo.energy_mwh *= stretch;
      jo.carbon_tco2e *= stretch;
      jo.carbon_coal_tco2e *= stretch;
    }
    jo.finished_in_period = jo.end_s <= spec.period_s;
    energy += jo.energy_mwh;
    carbon += jo.carbon_tco2e;
    coal += jo.carbon_coal_tco2e;
    if (jo.run_s > 0)
      o.tokens_in_period +=
          jo.tokens * std::clamp((std::min(jo.end_s, spec.period_s) - jo.start_s) / jo.run_s, 0.0, 1.0);
    o.mean_wait_s += jo.wait_s / spec.jobs.size();
    o.max_wait_s = std::max(o.max_wait_s, jo.wait_s);
    o.jobs.push_back(jo);
  }
  for (size_t p = 0; p < pools.size(); ++p) {
    cluster::PoolOutcome po{pools[p].name,
                            "",
                            pools[p].nodes,
                            pools[p].accelerators_per_node,
                            pools[p].idle_node_w,
                            pools[p].failures_per_node_s * 3600,
                            pools[p].repair_s,
                            q.failures[p],
                            q.pool_busy_node_s[p] / (double(pools[p].nodes) * spec.period_s)};
    const auto& acc = spec.pools[p].accelerator;
    po.accelerator = acc.is_string() ? acc.get<std::string>() : acc.value("preset", std::string("inline"));
    o.accelerators += static_cast<long>(pools[p].nodes) * pools[p].accelerators_per_node;
    o.pools.push_back(po);
  }
  o.samples = q.samples;
  o.shared_sets = share.sets();
  o.utilisation = q.busy_accelerator_s / (double(o.accelerators) * spec.period_s);
  o.energy_mwh = q.energy_j / 3.6e9;
  o.energy_jobs_mwh = energy;
  o.kg_per_kwh = energy > 0 ? carbon / energy : scenarios.front().site.grid.co2_kg_per_kwh;
  o.coal_kg_per_kwh = energy > 0 ? coal / energy : 0;
  o.carbon_tco2e = o.energy_mwh * o.kg_per_kwh;
  o.carbon_coal_tco2e = o.energy_mwh * o.coal_kg_per_kwh;
  o.grid = scenarios.front().site.grid.id;
  o.coal_share = scenarios.front().site.grid.coal_share;
  return o;
}

namespace {

int cmd_cluster(const std::string& path, const std::string& json_out, const std::string& csv_out,
                const std::string& html_out, bool quiet)
{
  core::check_outputs({{"cluster file", path}}, {{"--json", json_out}, {"--csv", csv_out}, {"--html", html_out}});
  const auto& catalog = scenario::Catalog::instance();
  const auto spec = cluster::parse_cluster_spec(scenario::load_json_file(path), catalog);
  const auto start = std::chrono::steady_clock::now();
  const auto o = run_cluster(spec, catalog);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  core::logger("cluster")->info("{} jobs, {} configurations simulated, queue of {:.1f} days in {:.2f} s wall",
                                o.jobs.size(), o.configurations, o.period_s / 86400, wall);
  core::OutputFiles files;
  files.add(json_out, cluster::to_json(o).dump(2) + "\n");
  files.add(csv_out, cluster::to_csv(o));
  files.add(html_out, cluster::to_html(o));
  files.commit();
  if (!quiet)
    std::cout << cluster::to_console(o);
  return 0;
}

} // namespace

void add_cluster_commands(CLI::App& app, CommandTable& table)
{
  auto path = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  auto csv_out = std::make_shared<std::string>();
  auto html_out = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto* c = app.add_subcommand("cluster", "run a queue of training jobs on a centre's node pools over a period "
                                          "(scheduler, node failures, energy and carbon; docs/cluster.md)");
  c->add_option("file", *path, "cluster JSON file (cluster pools, queue, jobs)")->required();
  c->add_option("--json", *json_out, "write the JSON report to FILE");
  c->add_option("--csv", *csv_out, "write power and utilisation over time (CSV) to FILE");
  c->add_option("--html", *html_out, "write an HTML report (utilisation and power over time) to FILE");
  c->add_flag("-q,--quiet", *quiet, "print nothing on success");
  table.add(c, [=] {
    for (const char* option : {"--json", "--csv", "--html"})
      if (c->get_option(option)->count() > 0 && c->get_option(option)->as<std::string>().empty())
        throw core::UsageError(std::string(option) + " \"\": empty output path; name a file");
    return cmd_cluster(*path, *json_out, *csv_out, *html_out, *quiet);
  });
}

} // namespace trainsim::cli
