// Property tests over generated scenarios. The generator is seeded and uses only std::mt19937_64's raw output
// (whose sequence the C++ standard fixes), so every run checks the same cases on every platform. A failing
// case prints its scenario JSON; rerun it with `trainsim run` to investigate.
// Tags: [property] for all; [sim] for those that simulate (ctest `model`), the others run in `unit`.
#include <catch2/catch.hpp>

#include "trainsim/topology/Fabric.hpp"

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/cli/Runner.hpp"
#include "trainsim/collective/Collective.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/workload/Program.hpp"
#include "trainsim/workload/ResourceGuard.hpp"

using namespace trainsim;
using nlohmann::json;

namespace {

/// Deterministic choices from a seeded engine (no std::*_distribution: those are implementation-defined).
class Gen {
public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}
  int below(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  template <class T> const T& pick(const std::vector<T>& v)
  {
    return v[static_cast<size_t>(below(static_cast<int>(v.size())))];
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

private:
  std::mt19937_64 rng_;
};

std::vector<int> divisors(int n)
{
  std::vector<int> out;
  for (int d = 1; d <= n; ++d)
    if (n % d == 0)
      out.push_back(d);
  return out;
}

struct Preset {
  std::string id;
  int layers, heads, kv_heads;
};

/// A small, valid scenario: 1-4 nodes of 1-8 accelerators, a small model, tp/pp/dp that fit it. The bound
/// keeps each simulation well under a second.
json generate(Gen& g)
{
  static const std::vector<Preset> models = {
      {"gpt3-1.7b", 24, 24, 24}, {"gpt3-3.6b", 30, 32, 32}, {"llama3-8b", 32, 32, 8}};
  const auto& m = g.pick(models);
  const int per_node = g.pick(std::vector<int>{1, 2, 4, 8});
  const int nodes = g.pick(std::vector<int>{1, 2, 4});
  const int total = nodes * per_node;
  std::vector<int> tps;
  for (int d : divisors(per_node))
    if (m.heads % d == 0 && (m.kv_heads % d == 0 || d % m.kv_heads == 0))
      tps.push_back(d);
  const int tp = g.pick(tps);
  std::vector<int> pps;
  for (int d : divisors(total / tp))
    if (m.layers % d == 0)
      pps.push_back(d);
  const int pp = g.pick(pps);
  const int dp = total / tp / pp;
  const int mbs = g.pick(std::vector<int>{1, 2});
  const int per_replica = pp * (1 + g.below(3)); // micro-batches per replica: a multiple of pp
  json fabric = {{"type", g.pick(std::vector<std::string>{"fat_tree", "rail_optimized"})},
                 {"nic_bandwidth", g.pick(std::vector<std::string>{"100Gbps", "200Gbps", "400Gbps"})},
                 {"tiers", 1 + g.below(2)},
                 {"latency", "1us"},
                 {"switch_radix", 16}};
  return {{"schema_version", 1},
          {"name", "generated"},
          {"cluster",
           {{"accelerator", g.pick(std::vector<std::string>{"A100-SXM-80GB", "H100-SXM-80GB", "H800-SXM-80GB"})},
            {"nodes", nodes},
            {"accelerators_per_node", per_node},
            {"fabric", fabric}}},
          {"model", {{"preset", m.id}, {"seq_length", g.pick(std::vector<int>{512, 1024, 2048})}}},
          {"training",
           {{"global_batch_size", dp * mbs * per_replica},
            {"micro_batch_size", mbs},
            {"tokens", "10B"},
            {"recompute", g.pick(std::vector<std::string>{"full", "selective"})}}},
          {"parallelism",
           {{"tp", tp},
            {"pp", pp},
            {"dp", dp},
            {"sequence_parallel", tp > 1 && g.below(2) == 1},
            {"zero_stage", g.below(2)},
            {"overlap_grad_reduce", g.below(2) == 1}}},
          {"simulation", {{"steps", 1}, {"seed", 1}}}};
}

scenario::Scenario parse(const json& doc)
{
  return scenario::parse_scenario(doc, scenario::Catalog::instance());
}

/// The next generated scenario that fits in memory (the generator does not model memory).
json next_feasible(Gen& g)
{
  for (;;) {
    json doc = generate(g);
    try {
      const auto s = parse(doc);
      workload::build_workload(s, scenario::Catalog::instance().calibration());
      topology::Fabric::build(s.cluster); // the switches can connect the cluster
      return doc;
    } catch (const core::InfeasibleError&) {
    } catch (const core::ConfigError&) {
    }
  }
}

double step_time(const scenario::Scenario& s)
{
  return cli::run_scenario(s, scenario::Catalog::instance()).metrics.step_time_s;
}

double compute_seconds(const workload::StageProgram& p)
{
  double t = 0;
  for (const auto& op : p.ops)
    if (op.kind == workload::OpKind::compute)
      t += op.seconds;
  return t;
}

} // namespace

TEST_CASE("property: more bandwidth or more FLOP/s never makes a step slower", "[property][sim]")
{
  Gen g(20240901);
  for (int i = 0; i < 12; ++i) {
    const json doc = next_feasible(g);
    INFO("scenario: " << doc.dump());
    const auto base = parse(doc);
    const auto out = cli::run_scenario(base, scenario::Catalog::instance());
    const double t0 = out.metrics.step_time_s;
    REQUIRE(std::isfinite(t0));
    REQUIRE(t0 > 0);
    // Energy of a simulated step: non-negative, between all-idle and all-peak power over the step.
    const auto& acc = base.cluster.accelerator;
    CHECK(out.metrics.energy_per_step_j >= 0);
    CHECK(out.metrics.average_accelerator_power_w >= acc.idle_power_w * (1 - 1e-9));
    CHECK(out.metrics.average_accelerator_power_w <= acc.peak_power_w * (1 + 1e-9));
    // The resource guard's activity estimate bounds what the simulation issued.
    CHECK(workload::estimate_resources(base).activities >= static_cast<double>(out.sim.transfers + out.sim.executions));

    const double k = g.uniform(1.25, 4.0);
    INFO("factor " << k);
    auto net = base;
    net.cluster.fabric.nic_bandwidth *= k;
    net.cluster.scale_up.bandwidth *= k;
    const double t_net = step_time(net);
    INFO("step " << t0 << " s; with " << k << "x bandwidth " << t_net << " s");
    CHECK(t_net <= t0 * (1 + 1e-9));

    auto gpu = base;
    for (auto& [precision, flops] : gpu.cluster.accelerator.peak_flops)
      flops *= k;
    const double t_gpu = step_time(gpu);
    INFO("with " << k << "x FLOP/s " << t_gpu << " s");
    CHECK(t_gpu <= t0 * (1 + 1e-9));
  }
}

TEST_CASE("property: bytes sent equal bytes received for every collective", "[property][collective]")
{
  collective::register_builtins();
  Gen g(7);
  const auto kinds = {collective::CollectiveKind::all_reduce, collective::CollectiveKind::reduce_scatter,
                      collective::CollectiveKind::all_gather, collective::CollectiveKind::all_to_all};
  for (const auto& name : collective::Registry::instance().names()) {
    auto algo = collective::Registry::instance().create(name);
    for (auto kind : kinds) {
      if (!algo->supports(kind))
        continue;
      for (int i = 0; i < 40; ++i) {
        const int p = 1 + g.below(64);
        const double bytes = g.uniform(1.0, 1e10);
        INFO(name << " " << collective::to_string(kind) << " p=" << p << " bytes=" << bytes);
        // Members on nodes of up to 4, on switches that can reduce in the network (in_network needs it).
        collective::Topology topo;
        for (int m = 0; m < p; ++m)
          topo.node_of.push_back(m / 4);
        topo.nvls = topo.sharp = true;
        if ((name == "hierarchical" || name == "in_network") && p % 4 != 0)
          continue; // needs the same number of members on every node
        for (const auto& sched :
             {algo->expand(kind, p, bytes, topo), collective::aggregate(algo->expand(kind, p, bytes, topo))}) {
          double sent = 0, received = 0;
          for (const auto& phase : sched.phases) {
            double phase_sent = 0, phase_received = 0;
            for (const auto& t : phase.transfers) {
              REQUIRE(t.src >= 0);
              REQUIRE(t.src < p);
              REQUIRE(t.dst >= 0);
              REQUIRE(t.dst < p);
              REQUIRE(t.src != t.dst);
              REQUIRE(t.bytes >= 0);
              phase_sent += t.bytes;
              phase_received += t.bytes;
            }
            CHECK(phase_sent == Approx(phase_received));
            sent += phase_sent;
            received += phase_received;
          }
          double per_member_sent = 0, per_member_received = 0;
          for (int m = 0; m < p; ++m) {
            per_member_sent += sched.bytes_sent_by(m);
            per_member_received += sched.bytes_received_by(m);
          }
          CHECK(per_member_sent == Approx(per_member_received).epsilon(1e-12));
          CHECK(per_member_sent == Approx(sent).epsilon(1e-12));
          // Nothing is lost: every member must receive what it lacks, at least (p-1)/p of the buffer for
          // all-reduce and all-gather and of its own shard for reduce-scatter (any algorithm, even with reduction
          // on the way).
          const double optimal = (kind == collective::CollectiveKind::reduce_scatter ? bytes / p : bytes) * (p - 1) / p;
          for (int m = 0; m < p; ++m)
            CHECK(sched.bytes_received_by(m) >= optimal * (1 - 1e-12));
          if (p == 1)
            CHECK(sent == 0);
        }
      }
    }
  }
}

TEST_CASE("property: pipeline bytes sent equal bytes received, tag by tag", "[property][workload]")
{
  Gen g(99);
  for (int i = 0; i < 30; ++i) {
    const json doc = next_feasible(g);
    INFO("scenario: " << doc.dump());
    const auto w = workload::build_workload(parse(doc), scenario::Catalog::instance().calibration());
    std::map<std::string, double> sent, received;
    for (const auto& st : w.stages)
      for (const auto& op : st.ops) {
        if (op.kind == workload::OpKind::send)
          sent[op.tag] += op.bytes;
        if (op.kind == workload::OpKind::recv)
          received[op.tag] += op.bytes;
      }
    CHECK(sent == received);
  }
}

TEST_CASE("property: energy is non-negative and grows with time at fixed power", "[property][metrics]")
{
  Gen g(2718);
  // The power-trace integral.
  for (int i = 0; i < 200; ++i) {
    std::vector<std::pair<double, double>> trace;
    double previous = 0;
    for (int k = 0; k < 1 + g.below(20); ++k) {
      trace.emplace_back(g.uniform(0, 1500), g.uniform(0, 100));
      const double e = metrics::energy_joules(trace);
      CHECK(e >= 0);
      CHECK(e >= previous); // appending a segment never lowers the energy
      previous = e;
    }
    const double watts = g.uniform(1, 1500), t1 = g.uniform(0, 1000), t2 = t1 + g.uniform(1e-3, 1000);
    CHECK(metrics::energy_joules({{watts, t2}}) > metrics::energy_joules({{watts, t1}}));
  }
  // The report's energy figures for a step of t1 or t2 > t1 seconds at the same accelerator power.
  for (int i = 0; i < 30; ++i) {
    const json doc = next_feasible(g);
    INFO("scenario: " << doc.dump());
    const auto s = parse(doc);
    const auto w = workload::build_workload(s, scenario::Catalog::instance().calibration());
    // Energy is integrated over the simulated states (power by state, docs/energy-carbon.md): a step in
    // which every rank computes the whole time runs at the fixed compute power.
    auto at = [&](double seconds) {
      sim::SimResult r;
      r.step_time_s = seconds;
      r.step_times_s = {seconds};
      r.stages.resize(static_cast<size_t>(s.parallelism.pp));
      for (auto& st : r.stages)
        st.compute = seconds;
      return metrics::compute(s, w, r);
    };
    const double t1 = g.uniform(0.01, 100), t2 = t1 * g.uniform(1.01, 10);
    const auto a = at(t1), b = at(t2);
    for (const auto* m : {&a, &b}) {
      CHECK(m->energy_per_step_j >= 0);
      CHECK(m->energy_mwh >= 0);
      CHECK(m->energy_accelerators_mwh >= 0);
      CHECK(m->energy_hosts_mwh >= 0);
      CHECK(m->energy_facility_mwh >= 0);
      CHECK(m->carbon_tco2e >= 0);
      CHECK(m->power_compute_w >= s.cluster.accelerator.idle_power_w);
      CHECK(m->power_compute_w <= s.cluster.accelerator.peak_power_w * (1 + 1e-12));
      CHECK(m->average_accelerator_power_w == Approx(m->power_compute_w));
    }
    CHECK(b.energy_per_step_j > a.energy_per_step_j);
    CHECK(b.energy_mwh > a.energy_mwh);
    CHECK(b.carbon_tco2e >= a.carbon_tco2e);
  }
}

TEST_CASE("property: doubling data parallelism at fixed per-replica batch keeps per-replica compute time",
          "[property][workload]")
{
  Gen g(31337);
  for (int i = 0; i < 30; ++i) {
    json doc = next_feasible(g);
    doc["cluster"]["fabric"]["switch_radix"] = 64; // room for twice the nodes on one tier
    json twice = doc;
    twice["cluster"]["nodes"] = doc["cluster"]["nodes"].get<int>() * 2;
    twice["parallelism"]["dp"] = doc["parallelism"]["dp"].get<int>() * 2;
    twice["training"]["global_batch_size"] = doc["training"]["global_batch_size"].get<long>() * 2;
    INFO("scenario: " << doc.dump());
    const auto& cal = scenario::Catalog::instance().calibration();
    const auto w1 = workload::build_workload(parse(doc), cal);
    const auto w2 = workload::build_workload(parse(twice), cal);
    CHECK(w1.microbatches == w2.microbatches);
    REQUIRE(w1.stages.size() == w2.stages.size());
    for (size_t st = 0; st < w1.stages.size(); ++st)
      CHECK(compute_seconds(w2.stages[st]) == Approx(compute_seconds(w1.stages[st])).epsilon(1e-12));
  }
}

TEST_CASE("property: doubling data parallelism keeps the simulated per-replica compute time", "[property][sim]")
{
  Gen g(4242);
  for (int i = 0; i < 6; ++i) {
    json doc = next_feasible(g);
    doc["cluster"]["fabric"]["switch_radix"] = 64; // room for twice the nodes on one tier
    json twice = doc;
    twice["cluster"]["nodes"] = doc["cluster"]["nodes"].get<int>() * 2;
    twice["parallelism"]["dp"] = doc["parallelism"]["dp"].get<int>() * 2;
    twice["training"]["global_batch_size"] = doc["training"]["global_batch_size"].get<long>() * 2;
    INFO("scenario: " << doc.dump());
    const auto a = cli::run_scenario(parse(doc), scenario::Catalog::instance());
    const auto b = cli::run_scenario(parse(twice), scenario::Catalog::instance());
    REQUIRE(a.sim.stages.size() == b.sim.stages.size());
    for (size_t st = 0; st < a.sim.stages.size(); ++st)
      CHECK(b.sim.stages[st].compute == Approx(a.sim.stages[st].compute).epsilon(1e-9));
  }
}

TEST_CASE("property: the resource estimate bounds the workload programs it predicts", "[property][workload]")
{
  Gen g(1618);
  for (int i = 0; i < 40; ++i) {
    const json doc = next_feasible(g);
    INFO("scenario: " << doc.dump());
    const auto s = parse(doc);
    const auto w = workload::build_workload(s, scenario::Catalog::instance().calibration());
    double ops = 0;
    for (const auto& st : w.stages)
      ops += static_cast<double>(st.ops.size());
    const auto e = workload::estimate_resources(s);
    CHECK(e.ops >= ops);
    CHECK(e.ops <= 2 * ops + 10); // and stays close: the guard must not refuse what would run
    CHECK(e.hosts == static_cast<double>(s.cluster.total_accelerators()));
    CHECK(e.memory_bytes > 0);
    CHECK(e.seconds > 0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Every parallelism dimension at once (issues 16 and 19): a drawn scenario either fails validation with a
// clean bad-input error (exit 2), or validates and simulates to finite, positive figures. Nothing in
// between: no crash, no internal error (a broken program invariant, a SimGrid abort in the simulation
// process), no NaN. The draws are not filtered for validity, so both sides are exercised.

namespace {

json draw_fabric(Gen& g, int nodes, int per_node)
{
  const std::string type =
      g.pick(std::vector<std::string>{"fat_tree", "rail_optimized", "dragonfly", "torus", "supernode"});
  json f = {
      {"type", type}, {"nic_bandwidth", g.pick(std::vector<std::string>{"100Gbps", "400Gbps"})}, {"latency", "1us"}};
  if (type == "fat_tree" || type == "rail_optimized") {
    f["tiers"] = 1 + g.below(2);
    f["switch_radix"] = g.below(4) == 0 ? 16 : 64; // 16: one tier cannot connect 32 or 64 NICs
    if (type == "rail_optimized" && g.below(3) == 0)
      f["planes"] = 2;
    if (f["tiers"] == 2 && g.below(3) == 0)
      f["oversubscription"] = "2:1";
  } else if (type == "dragonfly") { // one router per group, every pair of groups joined by one cable
    f["routers_per_group"] = 1;
    f["global_links"] = std::max(1, nodes - 1) + (g.below(10) == 0 ? 1 : 0); // one in ten unbalanced
  } else if (type == "torus") {
    f["dims"] = nodes % 4 == 0 ? json{2, nodes / 2} : json{nodes, 1}; // the latter is rejected: rings of 1
  } else {
    f["tiers"] = 3;
    f["switch_radix"] = std::max(4, 2 * per_node); // a leaf per node, so any supernode size fills whole leaves
    f["supernode_size"] = std::max(1, nodes / 2);
  }
  return f;
}

/// One scenario with every dimension drawn: up to 64 accelerators, a model cut to a few layers.
json draw_any(Gen& g)
{
  static const std::vector<Preset> models = {
      {"gpt3-1.7b", 24, 24, 24}, {"llama3-8b", 32, 32, 8}, {"mixtral-8x7b", 32, 32, 8}};
  const auto& m = g.pick(models);
  const bool moe = m.id == "mixtral-8x7b";
  const int per_node = g.pick(std::vector<int>{1, 2, 4, 8}), nodes = g.pick(std::vector<int>{1, 2, 4, 8});
  const int total = per_node * nodes;
  // tp, cp and pp divide the cluster (one draw in ten, any value), dp fills it (one draw in ten off by one).
  const bool any = g.below(10) == 0;
  const int tp = g.pick(divisors(per_node));
  const int cp = any ? g.pick(std::vector<int>{1, 2})
                     : g.pick(total / tp % 2 == 0 ? std::vector<int>{1, 1, 2} : std::vector<int>{1});
  const int pp = any ? g.pick(std::vector<int>{1, 2, 4}) : g.pick(divisors(std::min(4, total / (tp * cp))));
  const int vpp = pp > 1 || any ? g.pick(std::vector<int>{1, 1, 2}) : 1;
  int dp = std::max(1, total / (tp * cp * pp));
  if (g.below(10) == 0)
    dp += 1;
  const int ep = moe ? g.pick(divisors(std::min(dp, 8))) : (g.below(20) == 0 ? 2 : 1);
  const int mbs = g.pick(std::vector<int>{1, 2}), zero = g.below(4);
  json par = {{"tp", tp},
              {"pp", pp},
              {"dp", dp},
              {"cp", cp},
              {"vpp", vpp},
              {"ep", ep},
              {"zero_stage", zero},
              {"sequence_parallel", tp > 1 ? g.below(2) == 1 : g.below(20) == 0},
              {"overlap_grad_reduce", g.below(2) == 1}};
  if (zero >= 1 && g.below(2) == 0)
    par["overlap_param_gather"] = true;
  if (zero == 3 && g.below(2) == 0)
    par["zero_prefetch"] = g.below(3);
  if (g.below(8) == 0) { // FSDP spelling, one draw in four contradicting zero_stage
    par["fsdp"] = true;
    if (g.below(4) != 0)
      par.erase("zero_stage");
  }
  if (par["sequence_parallel"].get<bool>() && g.below(3) == 0)
    par["tp_comm_overlap"] = true;
  if (cp > 1 && g.below(2) == 0) // context parallelism by all-gather (Llama 3) instead of the ring
    par["cp_comm_type"] = "all_gather";
  const std::string precision = g.pick(std::vector<std::string>{"bf16", "bf16", "fp16", "fp8"});
  json training = {{"global_batch_size", dp * mbs * std::max(1, pp) * (1 + g.below(3))},
                   {"micro_batch_size", mbs},
                   {"tokens", "10B"},
                   {"precision", precision},
                   {"recompute", g.pick(std::vector<std::string>{"none", "selective", "full"})}};
  if (precision == "fp8" && g.below(2) == 0)
    training["fp8_params"] = true;
  const int layers = any ? g.pick(std::vector<int>{2, 3, 4, 6}) : pp * vpp * (1 + g.below(2));
  return {{"schema_version", 1},
          {"name", "drawn"},
          {"cluster",
           {{"accelerator", g.pick(std::vector<std::string>{"A100-SXM-80GB", "H100-SXM-80GB", "H800-SXM-80GB"})},
            {"nodes", nodes},
            {"accelerators_per_node", per_node},
            {"fabric", draw_fabric(g, nodes, per_node)}}},
          {"model", {{"preset", m.id}, {"layers", layers}, {"seq_length", g.pick(std::vector<int>{256, 512, 1024})}}},
          {"training", training},
          {"parallelism", par},
          {"simulation", {{"steps", 1}, {"seed", 1}}}};
}

/// What `trainsim validate` does (the resource guard, the fabric, the workload and its program check);
/// false for a clean bad-input error, and any other outcome fails the test.
bool validates(const json& doc, scenario::Scenario& out)
{
  try {
    out = parse(doc);
    workload::check_resources(out, workload::limits_of(out));
    topology::Fabric::build(out.cluster);
    workload::build_workload(out, scenario::Catalog::instance().calibration());
    return true;
  } catch (const core::Error& e) {
    INFO("error: " << e.what());
    REQUIRE(e.exit_code() == core::ExitCode::bad_input);
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK(what.find("; ") != std::string::npos); // "<problem>; <fix>"
    return false;
  }
}

} // namespace

TEST_CASE("property: every drawn configuration validates and simulates or fails with a bad-input error",
          "[property][sim]")
{
  Gen g(20261202);
  int simulated = 0, rejected = 0;
  for (int i = 0; i < 500; ++i) {
    const json doc = draw_any(g);
    INFO("draw " << i << ", scenario: " << doc.dump());
    scenario::Scenario s;
    if (!validates(doc, s)) {
      ++rejected;
      continue;
    }
    cli::RunOutput out;
    try {
      out = cli::run_scenario(s, scenario::Catalog::instance());
    } catch (const std::exception& e) {
      FAIL("a validated scenario did not simulate: " << e.what());
    }
    const auto& r = out.metrics;
    CHECK(std::isfinite(r.step_time_s));
    CHECK(r.step_time_s > 0);
    CHECK(std::isfinite(r.tokens_per_s));
    CHECK(r.tokens_per_s > 0);
    CHECK(std::isfinite(r.mfu));
    CHECK(r.mfu > 0);
    CHECK(r.mfu < 1);
    CHECK(std::isfinite(r.time_to_train_s));
    CHECK(r.time_to_train_s > 0);
    CHECK(std::isfinite(r.energy_per_step_j));
    CHECK(r.energy_per_step_j > 0);
    ++simulated;
  }
  INFO(simulated << " simulated, " << rejected << " rejected");
  CHECK(simulated >= 150); // both sides are exercised
  CHECK(rejected >= 100);
}

TEST_CASE("property: every drawn configuration builds checked programs or fails with a bad-input error",
          "[property][workload]")
{
  Gen g(16);
  int valid = 0;
  for (int i = 0; i < 5000; ++i) {
    const json doc = draw_any(g);
    INFO("draw " << i << ", scenario: " << doc.dump());
    scenario::Scenario s;
    valid += validates(doc, s) ? 1 : 0; // build_workload runs workload::check_programs
  }
  CHECK(valid >= 1500);
}
