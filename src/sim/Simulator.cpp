#include "trainsim/sim/Simulator.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <simgrid/plugins/energy.h>
#include <simgrid/plugins/load.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>

#include "FidelityChoice.hpp"
#include "Reduction.hpp"
#include "Reuse.hpp"
#include "StageActor.hpp"
#include "SteadyState.hpp"
#include "trainsim/core/ChildProcess.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Log.hpp"
#include "trainsim/sim/TraceJson.hpp"

namespace trainsim::sim {

namespace sg4 = simgrid::s4u;

nlohmann::json SimResult::to_json() const
{
  nlohmann::json st = nlohmann::json::array();
  nlohmann::json totals = nlohmann::json::array();
  nlohmann::json efficiency = nlohmann::json::array();
  for (const auto& s : stages) {
    efficiency.push_back(s.collective_efficiency);
    nlohmann::json row = nlohmann::json::array(); // the parts in result::parts order, then the energy
    for (const auto& part : result::parts)
      row.push_back(s.*part.field);
    row.push_back(s.energy_j);
    st.push_back(std::move(row));
    totals.push_back(s.comm_total);
  }
  nlohmann::json j{{"step_time_s", step_time_s},
                   {"step_times_s", step_times_s},
                   {"stages", st},
                   {"energy", accelerator_energy_per_step_j},
                   {"transfers", transfers},
                   {"executions", executions},
                   {"simulated_seconds", simulated_seconds},
                   {"fidelity", fidelity},
                   {"replicas", simulated_replicas},
                   {"rails", simulated_rails},
                   {"rail_note", rail_note},
                   {"ecmp_share", ecmp_trunk_share},
                   {"ecmp_p2p_share", ecmp_p2p_share},
                   {"fidelity_reason", fidelity_reason},
                   {"replayed", replayed},
                   {"comm_total", totals},
                   {"collective_efficiency", efficiency},
                   {"comm_bytes", comm_bytes}};
  if (trace.step >= 0)
    j["trace"] = sim::to_json(trace);
  return j;
}

SimResult SimResult::from_json(const nlohmann::json& j)
{
  SimResult r;
  r.step_time_s = j.at("step_time_s").get<double>();
  r.step_times_s = j.at("step_times_s").get<std::vector<double>>();
  for (const auto& s : j.at("stages")) {
    StageBreakdown b;
    for (size_t i = 0; i < result::parts.size(); ++i)
      b.*result::parts[i].field = s.at(i).get<double>();
    b.energy_j = s.at(result::parts.size()).get<double>();
    r.stages.push_back(b);
  }
  if (j.contains("comm_total"))
    for (size_t i = 0; i < r.stages.size() && i < j.at("comm_total").size(); ++i)
      r.stages[i].comm_total = j.at("comm_total")[i].get<std::map<std::string, double>>();
  if (j.contains("collective_efficiency"))
    for (size_t i = 0; i < r.stages.size() && i < j.at("collective_efficiency").size(); ++i)
      r.stages[i].collective_efficiency = j.at("collective_efficiency")[i].get<double>();
  if (j.contains("comm_bytes"))
    r.comm_bytes = j.at("comm_bytes").get<std::map<std::string, double>>();
  r.accelerator_energy_per_step_j = j.at("energy").get<double>();
  r.transfers = j.at("transfers").get<long>();
  r.executions = j.at("executions").get<long>();
  r.simulated_seconds = j.at("simulated_seconds").get<double>();
  r.fidelity = j.at("fidelity").get<std::string>();
  r.simulated_replicas = j.at("replicas").get<int>();
  r.simulated_rails = j.at("rails").get<int>();
  r.rail_note = j.at("rail_note").get<std::string>();
  r.ecmp_trunk_share = j.value("ecmp_share", 1.0);
  r.ecmp_p2p_share = j.value("ecmp_p2p_share", 1.0);
  r.fidelity_reason = j.value("fidelity_reason", std::string());
  r.replayed = j.value("replayed", 0L);
  if (j.contains("trace"))
    r.trace = step_trace_from_json(j.at("trace"));
  return r;
}

namespace {

/// A fresh SimGrid engine with logging silenced (trainsim reports through its own output). Its timing precision
/// (surf/precision: actions within it of an event end with it) is 1e-11 s instead of SimGrid's 1e-9 s: reuse and
/// extrapolation are proven exact to 1e-9 of a stage's summed times (tests/reuse_exact.sh), and with several
/// ops per pass (the TP collectives beside GEMMs) the 1e-9 s merges of coincident events in the reference run
/// added up to 7e-9 s on one stage. 1e-11 s stays above the clock's resolution (2e-12 s at 1e4 s simulated).
std::unique_ptr<sg4::Engine> make_engine(const scenario::Calibration& cal)
{
  static char arg0[] = "trainsim";
  static char arg1[] = "--log=root.thresh:critical";
  static char arg2[] = "--cfg=surf/precision:1e-11";
  int argc = 3;
  char* argv[] = {arg0, arg1, arg2, nullptr};
  auto e = std::make_unique<sg4::Engine>(&argc, argv);
  sg_host_energy_plugin_init();
  platform::apply_network_model(cal.network_model);
  return e;
}

/// Runs `body` in a child process (core::run_in_child); an exception there is an internal error.
/// HSDP (fsdp_shard_group): per simulated rail, the shard groups (members r*shard .. r*shard+shard-1 of the
/// combined data-parallel index) and the replica groups (members j, j+shard, ...), all of them.
void hsdp_groups(DpStream& stream, const topology::Placement& placement, const std::vector<int>& rails, int replicas,
                 int shard, int stage, const CollectiveRunner& runner)
{
  for (int t : rails) {
    for (int r = 0; r < replicas / shard; ++r) {
      std::vector<int> group;
      for (int j = 0; j < shard; ++j)
        group.push_back(placement.accelerator({t, r * shard + j, stage}));
      stream.shard_groups.push_back(std::move(group));
    }
    for (int j = 0; j < shard; ++j) {
      std::vector<int> group;
      for (int r = 0; r < replicas / shard; ++r)
        group.push_back(placement.accelerator({t, r * shard + j, stage}));
      stream.replica_groups.push_back(std::move(group));
    }
  }
  stream.shard_ring_latency = runner.ring_latency(stream.shard_groups);
  stream.replica_ring_latency = runner.ring_latency(stream.replica_groups);
}

nlohmann::json in_child(const std::function<nlohmann::json()>& body)
{
  auto j = core::run_in_child(body, "the simulation process");
  if (j.contains("error"))
    throw core::Error("internal: simulation failed: " + j.at("error").get<std::string>());
  return j;
}

/// The data-parallel (and ZeRO-3 gather) streams of one stage with their groups, and the actors of its
/// simulated replicas and streams.
void start_stage(SimContext& ctx, int stage, bool gathers)
{
  const auto& s = ctx.scenario;
  const auto& w = ctx.workload;
  const auto& p = s.parallelism;
  const auto& placement = ctx.placement;
  const auto& plan = ctx.plan;
  const auto* plat = &ctx.platform;
  const int replicas = static_cast<int>(plan.replicas.size());
  auto& stream = ctx.streams[static_cast<size_t>(stage)];
  for (int t : plan.rails) {
    std::vector<int> group;
    for (int d = 0; d < s.grad_replicas(); ++d)
      group.push_back(placement.accelerator({t, d, stage}));
    stream.groups.push_back(std::move(group));
  }
  stream.ring_latency = ctx.runner.ring_latency(stream.groups);
  const int expert_dp = w.streams.expert_dp;
  if (expert_dp > 1) { // also with ep 1: a MoE model's expert gradients still reduce over dp
    for (int t : plan.rails)
      for (int e = 0; e < p.ep; ++e) {
        std::vector<int> group;
        for (int k = 0; k < expert_dp; ++k)
          group.push_back(placement.accelerator({t, e + k * p.ep, stage}));
        stream.expert_groups.push_back(std::move(group));
      }
    stream.expert_ring_latency = ctx.runner.ring_latency(stream.expert_groups);
    if (!plan.expert_keep.empty())
      stream.expert_keep = plan.expert_keep[static_cast<size_t>(stage)];
  }
  if (w.streams.shard > 0) // HSDP: shard groups of consecutive ranks, replica groups across them
    hsdp_groups(stream, placement, plan.rails, s.grad_replicas(), w.streams.shard, stage, ctx.runner);
  if (!plan.keep.empty())
    stream.keep = plan.keep[static_cast<size_t>(stage)];
  for (int r = 0; r < replicas; ++r) {
    stream.work.push_back(sg4::Semaphore::create(0));
    stream.done.push_back(sg4::Semaphore::create(0));
  }
  const double slow = s.simulation.comm_compute_contention ? ctx.cal.tp_overlap_gemm_slowdown : 0.0;
  stream.sm_share = slow / (1.0 + slow);
  for (int r = 0; r < replicas; ++r) {
    sg4::Host* host = plat->host(placement.accelerator({0, plan.replicas[static_cast<size_t>(r)], stage}));
    stream.hosts.push_back(host);
    sg4::Actor::create("stage" + std::to_string(stage) + "." + std::to_string(r), host,
                       [&ctx, stage, r] { run_stage(ctx, stage, r); });
  }
  if (w.streams.grad)
    sg4::Actor::create("dp" + std::to_string(stage), plat->host(placement.accelerator({0, 0, stage})), [&ctx, stage] {
      run_dp_stream(ctx, stage, ctx.streams[static_cast<size_t>(stage)]);
    })->daemonize();
  if (gathers) {
    auto& g = ctx.gather_streams[static_cast<size_t>(stage)];
    g.groups = stream.groups;
    g.ring_latency = stream.ring_latency;
    g.keep = stream.keep;
    g.shard_groups = stream.shard_groups;
    g.shard_ring_latency = stream.shard_ring_latency;
    g.hosts = stream.hosts;
    g.sm_share = stream.sm_share;
    for (int r = 0; r < replicas; ++r) {
      g.work.push_back(sg4::Semaphore::create(0));
      g.done.push_back(sg4::Semaphore::create(0));
    }
    sg4::Actor::create("gather" + std::to_string(stage), plat->host(placement.accelerator({0, 0, stage})),
                       [&ctx, stage] { run_dp_stream(ctx, stage, ctx.gather_streams[static_cast<size_t>(stage)]); })
        ->daemonize();
  }
}

/// The step times, the per-stage breakdown averaged over the simulated steps and the activity counters.
SimResult collect_result(SimContext& ctx, const FidelityChoice& choice)
{
  const auto& s = ctx.scenario;
  const auto& p = s.parallelism;
  const auto& plan = ctx.plan;
  const bool full = choice.fidelity == Fidelity::full;
  const int replicas = static_cast<int>(plan.replicas.size());
  SimResult r;
  const int steps = static_cast<int>(ctx.step_ends.size());
  double prev = 0;
  for (double t : ctx.step_ends) {
    r.step_times_s.push_back(t - prev);
    prev = t;
  }
  r.simulated_seconds = prev;
  r.step_time_s = steps > 0 ? prev / steps : 0;
  for (size_t i = 0; i < ctx.sums.size(); ++i) {
    auto b = ctx.sums[i];
    b.collective_efficiency += ctx.streams[i].collective_efficiency;
    if (i < ctx.gather_streams.size())
      b.collective_efficiency += ctx.gather_streams[i].collective_efficiency;
    for (const auto& part : result::parts)
      b.*part.field /= steps;
    b.energy_j /= steps;
    b.collective_efficiency /= steps;
    // Busy time of each kind of communication: every kind this scenario has, even when 0.
    b.comm_total = {{"tp", 0.0}, {"pp", 0.0}, {"dp", 0.0}};
    if (p.ep > 1)
      b.comm_total["ep"] = 0.0;
    if (p.cp > 1)
      b.comm_total["cp"] = 0.0;
    for (auto& [kind, intervals] : ctx.busy[i])
      b.comm_total[kind] = union_length(intervals) / std::max(1, steps);
    r.accelerator_energy_per_step_j += b.energy_j * p.tp * s.grad_replicas();
    r.stages.push_back(b);
  }
  r.transfers = ctx.runner.transfers() + ctx.pipeline_transfers;
  for (const auto& [kind, bytes] : ctx.runner.bytes())
    r.comm_bytes[kind] = bytes / std::max(1, steps);
  r.executions = ctx.executions;
  r.replayed = ctx.replayed;
  r.fidelity = full ? "full" : "reduced";
  r.fidelity_reason = choice.reason;
  r.simulated_replicas = replicas;
  r.simulated_rails = static_cast<int>(plan.rails.size());
  r.rail_note = plan.rail_note;
  r.ecmp_trunk_share = plan.ecmp_min_share;
  r.ecmp_p2p_share = plan.ecmp_p2p_share;
  return r;
}

SimResult run_here(const scenario::Scenario& s, const workload::Workload& w, const topology::Fabric& fabric,
                   const scenario::Calibration& cal, const SimOptions& opt)
{
  const auto& p = s.parallelism;
  // Context-parallel ranks sit between tensor and data parallel (Megatron order tp, cp, dp, pp): the
  // placement's data-parallel coordinate is the combined dp*cp index, cp fastest.
  topology::Placement placement(p.tp, s.grad_replicas(), p.pp);
  const FidelityChoice choice = choose_fidelity(s, fabric, opt);
  const bool full = choice.fidelity == Fidelity::full;
  ReductionPlan plan = plan_reduction(fabric, placement, full);
  // Reduced: the expert-data-parallel rings' free flows elided too (one per route profile), where every
  // other simulated flow is known (no context-parallel transfers).
  if (!full && !plan.keep.empty() && w.streams.expert_dp > 1 && p.cp == 1)
    plan.expert_keep = expert_ring_flows_to_keep(fabric, placement, plan.rails, plan.link_scale, p.ep);
  const auto t_start = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  auto engine = make_engine(cal);
  if (opt.trace_step >= 0)
    TraceRecorder::init_plugin(); // before the platform exists
  // Hosts for the accelerators the simulation touches alone, and the links their routes can take (routing and
  // the fabric checks see the whole fabric model).
  std::vector<char> used = used_accelerators(placement, plan);
  used.resize(static_cast<size_t>(fabric.accelerators()), 0);
  auto plat = platform::Platform::build(fabric, s, plan.link_scale, &used);
  core::logger("sim")->info(
      "platform of {} of {} hosts and {} of {} links built in {:.3f} s; {} fidelity ({}), {} replicas, {} rails ({})",
      plat->built_hosts(), fabric.accelerators(), plat->built_links(), fabric.links().size(), seconds_since(t_start),
      full ? "full" : "reduced", choice.reason, plan.replicas.size(), plan.rails.size(),
      plan.rail_note.empty() ? "rails symmetric" : plan.rail_note);
  const int replicas = static_cast<int>(plan.replicas.size());
  std::unique_ptr<TraceRecorder> trace;
  if (opt.trace_step >= 0) {
    double busiest = 0; // a lower bound of the step time: at most ~2000 tier samples per step
    for (const auto& st : w.stages)
      busiest = std::max(busiest, st.compute_s);
    trace = std::make_unique<TraceRecorder>(*plat, std::min(opt.trace_step, s.simulation.steps - 1), p.pp, p.chunks(),
                                            busiest / 2000);
  }
  SimContext ctx{s,
                 w,
                 *plat,
                 cal,
                 placement,
                 plan,
                 CollectiveRunner(*plat, cal, opt.aggregate_collectives),
                 sg4::Barrier::create(static_cast<unsigned>(p.pp * replicas)),
                 std::vector<DpStream>(static_cast<size_t>(p.pp)),
                 std::vector<StageBreakdown>(static_cast<size_t>(p.pp)),
                 {},
                 {},
                 s.simulation.steps_auto ? std::min(2, s.simulation.steps) : s.simulation.steps,
                 0,
                 0,
                 trace.get()};
  ctx.runner.set_algorithm(s.parallelism.collectives.at("dp"), s);
  ctx.variability = ComputeVariability(s, cal); // at-scale mechanisms (docs/at-scale.md)
  ctx.host_overhead = host_overhead(s, cal);
  // Reuse is applied where it is proven exact (tests/reuse_exact.sh). With model.parallel_block, or with ECMP
  // derating hashed trunks, replayed activities drift by a few ns from simulated ones (megascale-00768gpu-175b:
  // 3e-9 s on a bubble; megascale-11200gpu-megatron-530b: 5e-9 s on pipeline time), beyond SimGrid's 1e-9 s, so
  // those runs simulate every activity until that is understood (docs/performance.md); the same for pipeline
  // transfers capped by ECMP (ReductionPlan::p2p_cap), whose rates the replay does not know.
  ctx.reuse = s.simulation.reuse && opt.reuse && !s.model.parallel_block && !(plan.ecmp_min_share < 1.0) &&
              !(plan.ecmp_p2p_share < 1.0);
  if (ctx.reuse)
    ctx.tp_alone = tp_alone(fabric, placement, plan, s);
  ctx.busy.resize(static_cast<size_t>(p.pp));
  // The streams the workload decided its programs use (one decision, workload::Workload; never re-derived here).
  const bool gathers = w.streams.params; // ZeRO-3/FSDP: a parameter all-gather stream per stage
  if (gathers)
    ctx.gather_streams.resize(static_cast<size_t>(p.pp));
  for (int stage = 0; stage < p.pp; ++stage)
    start_stage(ctx, stage, gathers);
  const auto t_run = std::chrono::steady_clock::now();
  engine->run();
  core::logger("sim")->info("engine ran in {:.3f} s", seconds_since(t_run));
  // The child process exits right after returning its result: tearing down a platform of 100k hosts
  // would cost seconds for nothing, so the engine and platform are deliberately left to the exit.
  (void)engine.release();
  (void)plat.release();
  SimResult r = collect_result(ctx, choice);
  if (trace)
    r.trace = trace->take();
  return r;
}

/// Each fabric tier's load over [0, seconds]: what its links carried (SimGrid's link load plugin, tracking
/// every built link) against their capacity; links left out of the build carried nothing.
std::vector<TierLoad> tier_loads(const topology::Fabric& fabric, double seconds)
{
  std::vector<TierLoad> out;
  std::vector<double> bytes, capacity;
  std::map<std::string, size_t> index;
  for (const auto& l : fabric.links()) {
    const auto [it, fresh] = index.emplace(topology::to_string(l.kind), out.size());
    if (fresh) {
      out.push_back({it->first, 0, 0, 0});
      bytes.push_back(0);
      capacity.push_back(0);
    }
    const size_t t = it->second;
    ++out[t].links;
    capacity[t] += 2 * l.bandwidth;
    for (const char* dir : {"_UP", "_DOWN"})
      if (const sg4::Link* link = sg4::Link::by_name_or_null(l.name + dir)) {
        const double b = sg_link_get_cum_load(link);
        bytes[t] += b;
        if (seconds > 0)
          out[t].busiest_link = std::max(out[t].busiest_link, b / (l.bandwidth * seconds));
      }
  }
  for (size_t t = 0; t < out.size(); ++t)
    out[t].utilisation = seconds > 0 && capacity[t] > 0 ? bytes[t] / (capacity[t] * seconds) : 0;
  return out;
}

/// The contexts of the jobs of a shared simulation, each at full fidelity on its nodes of the fabric.
std::unique_ptr<SimContext> shared_context(const SharedJob& job, size_t index, const platform::Platform& plat,
                                           const topology::Fabric& fabric, const scenario::Calibration& cal)
{
  const auto& s = *job.scenario;
  const auto& p = s.parallelism;
  topology::Placement placement(p.tp, s.grad_replicas(), p.pp, job.nodes, fabric.accelerators_per_node());
  ReductionPlan plan = plan_reduction(fabric, placement, true);
  plan.link_scale.clear(); // checked empty by the caller (hashed trunks are refused); one platform for all jobs
  const int replicas = static_cast<int>(plan.replicas.size());
  auto ctx = std::unique_ptr<SimContext>(new SimContext{s,
                                                        *job.workload,
                                                        plat,
                                                        cal,
                                                        placement,
                                                        plan,
                                                        CollectiveRunner(plat, cal, true),
                                                        sg4::Barrier::create(static_cast<unsigned>(p.pp * replicas)),
                                                        std::vector<DpStream>(static_cast<size_t>(p.pp)),
                                                        std::vector<StageBreakdown>(static_cast<size_t>(p.pp)),
                                                        {},
                                                        {},
                                                        s.simulation.steps,
                                                        0,
                                                        0,
                                                        nullptr});
  ctx->runner.set_algorithm(p.collectives.at("dp"), s);
  ctx->variability = ComputeVariability(s, cal);
  ctx->host_overhead = host_overhead(s, cal);
  ctx->reuse = false; // another job's traffic can change any activity: simulate every one
  ctx->busy.resize(static_cast<size_t>(p.pp));
  ctx->mailbox_prefix = "job" + std::to_string(index) + ":";
  if (job.workload->streams.params)
    ctx->gather_streams.resize(static_cast<size_t>(p.pp));
  return ctx;
}

/// Checks a shared simulation's jobs: disjoint nodes within the fabric, fixed steps, sprayed trunks.
std::vector<char> shared_hosts(const std::vector<SharedJob>& jobs, const topology::Fabric& fabric)
{
  TRAINSIM_ASSERT(!fabric.hashed_trunks(), "jobs sharing a fabric need sprayed trunks (the caller refuses ecmp)");
  const int per_node = fabric.accelerators_per_node();
  std::vector<char> used(static_cast<size_t>(fabric.accelerators()), 0);
  for (const auto& job : jobs) {
    const auto& p = job.scenario->parallelism;
    const long ranks = static_cast<long>(p.tp) * job.scenario->grad_replicas() * p.pp;
    TRAINSIM_ASSERT(!job.scenario->simulation.steps_auto && ranks <= static_cast<long>(job.nodes.size()) * per_node,
                    "a shared job has automatic steps or more ranks than its nodes hold");
    for (int n : job.nodes) {
      TRAINSIM_ASSERT(n >= 0 && n < fabric.nodes(),
                      "a shared job's node " + std::to_string(n) + " is not in the fabric");
      for (int a = n * per_node; a < (n + 1) * per_node; ++a) {
        TRAINSIM_ASSERT(!used[static_cast<size_t>(a)], "two shared jobs hold node " + std::to_string(n));
        used[static_cast<size_t>(a)] = 1;
      }
    }
  }
  return used;
}

SharedResult run_shared_here(const std::vector<SharedJob>& jobs, const topology::Fabric& fabric,
                             const scenario::Scenario& platform_scenario, const scenario::Calibration& cal)
{
  const std::vector<char> used = shared_hosts(jobs, fabric);
  auto engine = make_engine(cal);
  sg_link_load_plugin_init(); // before the platform exists
  auto plat = platform::Platform::build(fabric, platform_scenario, {}, &used);
  for (const auto& l : fabric.links())
    for (const char* dir : {"_UP", "_DOWN"})
      if (const sg4::Link* link = sg4::Link::by_name_or_null(l.name + dir))
        sg_link_load_track(link);
  std::vector<std::unique_ptr<SimContext>> contexts;
  for (size_t j = 0; j < jobs.size(); ++j) {
    contexts.push_back(shared_context(jobs[j], j, *plat, fabric, cal));
    for (int stage = 0; stage < jobs[j].scenario->parallelism.pp; ++stage)
      start_stage(*contexts.back(), stage, jobs[j].workload->streams.params);
  }
  engine->run();
  SharedResult r;
  const FidelityChoice choice{Fidelity::full, "jobs sharing the fabric (every job in full)"};
  for (auto& ctx : contexts) {
    r.jobs.push_back(collect_result(*ctx, choice));
    r.simulated_seconds = std::max(r.simulated_seconds, r.jobs.back().simulated_seconds);
  }
  r.tiers = tier_loads(fabric, r.simulated_seconds);
  (void)engine.release(); // as in run_here: left to the child's exit
  (void)plat.release();
  for (auto& ctx : contexts)
    (void)ctx.release();
  return r;
}

} // namespace

SharedResult simulate_shared(const std::vector<SharedJob>& jobs, const topology::Fabric& fabric,
                             const scenario::Scenario& platform_scenario, const scenario::Calibration& cal)
{
  auto j = in_child([&] {
    SharedResult r = run_shared_here(jobs, fabric, platform_scenario, cal);
    nlohmann::json out{{"simulated_seconds", r.simulated_seconds},
                       {"jobs", nlohmann::json::array()},
                       {"tiers", nlohmann::json::array()}};
    for (const auto& job : r.jobs)
      out["jobs"].push_back(job.to_json());
    for (const auto& t : r.tiers)
      out["tiers"].push_back({t.tier, t.links, t.utilisation, t.busiest_link});
    return out;
  });
  SharedResult r;
  r.simulated_seconds = j.at("simulated_seconds").get<double>();
  for (const auto& job : j.at("jobs"))
    r.jobs.push_back(SimResult::from_json(job));
  for (const auto& t : j.at("tiers"))
    r.tiers.push_back({t.at(0).get<std::string>(), t.at(1).get<long>(), t.at(2).get<double>(), t.at(3).get<double>()});
  return r;
}

SimResult simulate(const scenario::Scenario& s, const workload::Workload& w, const topology::Fabric& fabric,
                   const scenario::Calibration& cal, const SimOptions& options)
{
  auto once = [&](const scenario::Scenario& sc, const workload::Workload& wk) {
    return SimResult::from_json(in_child([&] { return run_here(sc, wk, fabric, cal, options).to_json(); }));
  };
  // The step's own programs: those of `w`, or built (and checked) now if `w` came without them.
  std::optional<workload::Workload> built;
  auto programs = [&]() -> const workload::Workload& {
    if (w.has_programs())
      return w;
    if (!built)
      built = workload::build_workload(s, cal);
    return *built;
  };
  // Steady-state extrapolation (SteadyState.hpp): the step at three small micro-batch counts, extrapolated
  // to the scenario's when every figure is affine; else the whole step.
  const SteadyStatePlan plan = plan_steady_state(s, options);
  std::string why = plan.reason;
  if (!plan.points.empty()) {
    std::vector<SimResult> runs;
    for (long m : plan.points) {
      const auto sm = with_microbatches(s, m);
      runs.push_back(once(sm, workload::build_workload(sm, cal)));
    }
    if (auto r = extrapolate(runs, plan, s.micro_batches_per_replica(), s.simulation, why)) {
      core::logger("sim")->info("step {}", r->extrapolation);
      // A trace records every micro-batch of its step: the whole step is simulated for it, and the report
      // stays that of the untraced run (the extrapolated figures).
      if (options.trace_step >= 0)
        r->trace = once(s, programs()).trace;
      return *r;
    }
    why = "off: " + why + "; the whole step was simulated";
    core::logger("sim")->info("steady-state extrapolation {}", why);
  }
  SimResult r = once(s, programs());
  r.extrapolation = why;
  return r;
}

bool will_extrapolate(const scenario::Scenario& s, const SimOptions& options)
{
  return !plan_steady_state(s, options).points.empty();
}

double simulate_collective(const scenario::Scenario& s, const topology::Fabric& fabric,
                           const scenario::Calibration& cal, const std::vector<std::vector<int>>& groups, int kind,
                           double bytes, bool aggregate, const std::string& algorithm)
{
  auto j = in_child([&] {
    auto engine = make_engine(cal);
    auto plat = platform::Platform::build(fabric, s);
    CollectiveRunner runner(*plat, cal, aggregate);
    runner.set_algorithm(algorithm, s);
    double end = 0;
    sg4::Actor::create("collective", plat->host(groups.front().front()), [&] {
      runner.run(groups, static_cast<collective::CollectiveKind>(kind), bytes, runner.ring_latency(groups));
      end = sg4::Engine::get_clock();
    });
    engine->run();
    return nlohmann::json{{"t", end}};
  });
  return j.at("t").get<double>();
}

} // namespace trainsim::sim
