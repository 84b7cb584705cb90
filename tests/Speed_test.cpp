// Simulation speed (issue 20): auto fidelity and its reason, reuse of identical activities, the platform
// built for the accelerators the simulation touches.
#include <catch2/catch.hpp>

#include "../src/sim/FidelityChoice.hpp"
#include "../src/sim/Reduction.hpp"
#include "../src/sim/Reuse.hpp"
#include "../src/sim/SteadyState.hpp"
#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"

using namespace trainsim;

namespace {

scenario::Scenario job(int tp, int pp, int dp, const nlohmann::json& fabric)
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(tp * pp * dp / 8, 8, "200Gbps", "1us");
    j["cluster"]["fabric"] = fabric;
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", tp}, {"pp", pp}, {"dp", dp}, {"vpp", 1}, {"zero_stage", 1}};
    j["training"]["global_batch_size"] = dp * 8;
    j["training"]["recompute"] = "full";
  });
}

const nlohmann::json rail2 = {
    {"type", "rail_optimized"}, {"nic_bandwidth", "200Gbps"}, {"tiers", 2}, {"latency", "1us"}, {"switch_radix", 16}};

} // namespace

TEST_CASE("auto fidelity is reduced where the reduction is exact, and says why", "[speed]")
{
  auto s = job(8, 2, 4, rail2);
  auto f = topology::Fabric::build(s.cluster);
  auto c = sim::choose_fidelity(s, f, {});
  CHECK(c.fidelity == sim::Fidelity::reduced);
  CHECK(c.reason.find("exact") != std::string::npos);
  sim::SimOptions full;
  full.fidelity = sim::Fidelity::full;
  c = sim::choose_fidelity(s, f, full);
  CHECK(c.fidelity == sim::Fidelity::full);
  CHECK(c.reason == "requested by --fidelity");
  s.simulation.fidelity = "full";
  c = sim::choose_fidelity(s, f, {});
  CHECK(c.fidelity == sim::Fidelity::full);
  CHECK(c.reason == "requested by /simulation/fidelity");
}

TEST_CASE("tensor-parallel collectives are replayable only alone on their links", "[speed]")
{
  // tp 8 fills a node: the ring shares use scale-up links no other flow does.
  auto s = job(8, 2, 4, rail2);
  auto f = topology::Fabric::build(s.cluster);
  topology::Placement pl(8, 4, 2);
  auto plan = sim::plan_reduction(f, pl, false);
  for (const auto& stages : sim::tp_alone(f, pl, plan, s))
    for (char a : stages)
      CHECK(a == 1);
  // tp 4: the data-parallel ring of rail 0 leaves accelerator 0 on the same scale-up link as its
  // tensor-parallel share, so that collective may be slowed by the ring and must be simulated.
  auto s4 = job(4, 2, 4, rail2);
  auto f4 = topology::Fabric::build(s4.cluster);
  topology::Placement pl4(4, 4, 2);
  auto plan4 = sim::plan_reduction(f4, pl4, false);
  CHECK(sim::tp_alone(f4, pl4, plan4, s4)[0][0] == 0);
}

TEST_CASE("the platform is built for the accelerators the reduced simulation touches", "[speed]")
{
  auto s = job(8, 2, 4, rail2);
  auto f = topology::Fabric::build(s.cluster);
  topology::Placement pl(8, 4, 2);
  auto used = sim::used_accelerators(pl, sim::plan_reduction(f, pl, false));
  long n = 0;
  for (char u : used)
    n += u;
  CHECK(n == 2 * (4 + 1)); // rail 0 of every replica and stage, and tensor rank 1 of the representative
  auto all = sim::used_accelerators(pl, sim::plan_reduction(f, pl, true));
  for (char u : all)
    CHECK(u == 1);
}

TEST_CASE("reuse of identical activities gives the report of the simulation without it", "[speed][sim]")
{
  const auto& cat = scenario::Catalog::instance();
  for (auto fid : {sim::Fidelity::reduced, sim::Fidelity::full}) {
    auto s = job(8, 2, 4, rail2);
    s.simulation.reuse = true;
    sim::SimOptions on, off;
    on.fidelity = off.fidelity = fid;
    off.reuse = false;
    auto a = cli::run_scenario(s, cat, off);
    auto b = cli::run_scenario(s, cat, on);
    CHECK(a.sim.replayed == 0);
    CHECK(b.sim.replayed > 0);
    CHECK(b.sim.executions < a.sim.executions);
    CHECK(b.sim.step_time_s == Approx(a.sim.step_time_s).epsilon(1e-9));
    CHECK(b.sim.accelerator_energy_per_step_j == Approx(a.sim.accelerator_energy_per_step_j).epsilon(1e-9));
    REQUIRE(a.sim.stages.size() == b.sim.stages.size());
    for (size_t i = 0; i < a.sim.stages.size(); ++i) {
      CHECK(b.sim.stages[i].compute == Approx(a.sim.stages[i].compute).epsilon(1e-9));
      CHECK(b.sim.stages[i].tp_comm == Approx(a.sim.stages[i].tp_comm).epsilon(1e-9));
      CHECK(b.sim.stages[i].bubble == Approx(a.sim.stages[i].bubble).epsilon(1e-9));
      CHECK(b.sim.stages[i].comm_total.at("tp") == Approx(a.sim.stages[i].comm_total.at("tp")).epsilon(1e-9));
    }
    CHECK(b.sim.comm_bytes.at("tp") == Approx(a.sim.comm_bytes.at("tp")).epsilon(1e-12));
  }
}

TEST_CASE("steady-state extrapolation gives the report of the whole step", "[speed][sim]")
{
  const auto& cat = scenario::Catalog::instance();
  for (const char* schedule : {"1f1b", "interleaved"}) {
    auto s = job(8, 2, 4, rail2);
    s.training.global_batch_size = 4 * 34; // 34 micro-batches per replica: points 4, 6, 8
    s.parallelism.schedule = schedule;
    s.parallelism.vpp = std::string(schedule) == "interleaved" ? 2 : 1;
    auto whole = s;
    whole.simulation.extrapolate = "never";
    auto a = cli::run_scenario(whole, cat);
    auto b = cli::run_scenario(s, cat);
    CHECK(a.sim.extrapolated_from.empty());
    CHECK(a.sim.extrapolation == "off: /simulation/extrapolate is false");
    CHECK(b.sim.extrapolated_from == std::vector<long>{4, 6, 8});
    CHECK(b.sim.step_time_s == Approx(a.sim.step_time_s).epsilon(1e-9));
    CHECK(b.sim.accelerator_energy_per_step_j == Approx(a.sim.accelerator_energy_per_step_j).epsilon(1e-9));
    CHECK(b.sim.transfers == a.sim.transfers);
    CHECK(b.sim.executions == a.sim.executions);
    CHECK(b.sim.replayed == a.sim.replayed);
    REQUIRE(a.sim.stages.size() == b.sim.stages.size());
    for (size_t i = 0; i < a.sim.stages.size(); ++i) {
      for (const auto& part : result::parts)
        CHECK(b.sim.stages[i].*part.field == Approx(a.sim.stages[i].*part.field).epsilon(1e-9).margin(1e-9));
      CHECK(b.sim.stages[i].energy_j == Approx(a.sim.stages[i].energy_j).epsilon(1e-9));
      for (const auto& [kind, t] : a.sim.stages[i].comm_total)
        CHECK(b.sim.stages[i].comm_total.at(kind) == Approx(t).epsilon(1e-9).margin(1e-9));
    }
    for (const auto& [kind, bytes] : a.sim.comm_bytes)
      CHECK(b.sim.comm_bytes.at(kind) == Approx(bytes).epsilon(1e-9));
  }
}

TEST_CASE("steady-state extrapolation runs only where it is worth it and exact", "[speed]")
{
  auto s = job(8, 2, 4, rail2);
  s.training.global_batch_size = 4 * 18;
  CHECK(sim::plan_steady_state(s, {}).points == std::vector<long>{4, 6, 8}); // 18 = 4 + 6 + 8
  s.training.global_batch_size = 4 * 17;                                     // odd: 5, 7, 9 cost more than 17
  CHECK(sim::plan_steady_state(s, {}).points.empty());
  s.simulation.extrapolate = "always";
  CHECK(sim::plan_steady_state(s, {}).points == std::vector<long>{5, 7, 9});
  s.training.global_batch_size = 4 * 9; // no more than the last point
  CHECK(sim::plan_steady_state(s, {}).points.empty());
  s.training.global_batch_size = 4 * 64;
  sim::SimOptions traced;
  traced.trace_step = 0; // the same points: a traced run reports what an untraced one does
  CHECK(sim::plan_steady_state(s, traced).points == std::vector<long>{4, 6, 8});
  CHECK(sim::with_microbatches(s, 6).micro_batches_per_replica() == 6);

  // A figure that is not affine in micro-batches: the whole step runs instead.
  const auto plan = sim::plan_steady_state(s, {});
  std::vector<sim::SimResult> runs(3);
  for (int i = 0; i < 3; ++i) {
    runs[static_cast<size_t>(i)].step_times_s = {1.0 + i};
    runs[static_cast<size_t>(i)].simulated_seconds = 1.0 + i;
    runs[static_cast<size_t>(i)].stages.resize(1);
    runs[static_cast<size_t>(i)].stages[0].compute = 0.5 + 0.5 * i;
    runs[static_cast<size_t>(i)].transfers = 10 + 4 * i;
  }
  std::string why;
  auto r = sim::extrapolate(runs, plan, 64, s.simulation, why);
  REQUIRE(r);
  CHECK(why.empty());
  CHECK(r->step_time_s == Approx(1.0 + (64 - 4) / 2.0));
  CHECK(r->stages[0].compute == Approx(0.5 + 0.5 * (64 - 4) / 2.0));
  CHECK(r->transfers == 10 + 4 * (64 - 4) / 2);
  runs[2].stages[0].bubble = 1e-6; // second difference 1e-6 against a step of 31 s, times 29
  CHECK_FALSE(sim::extrapolate(runs, plan, 64, s.simulation, why));
  CHECK(why.find("pipeline_bubble_s is not affine") != std::string::npos);
  runs[2].stages[0].bubble = 0;
  runs[2].transfers += 1;
  CHECK_FALSE(sim::extrapolate(runs, plan, 64, s.simulation, why));
  CHECK(why.find("transfers") != std::string::npos);
}

namespace {

/// build_workload_figures gives every figure of build_workload bit for bit, without the programs.
void check_figures(const scenario::Scenario& s)
{
  const auto& cal = scenario::Catalog::instance().calibration();
  const auto a = workload::build_workload(s, cal), b = workload::build_workload_figures(s, cal);
  REQUIRE(a.has_programs());
  CHECK_FALSE(b.has_programs());
  CHECK(b.clock == a.clock);
  CHECK(b.compute_activity == a.compute_activity);
  CHECK(b.model_flops_per_step == a.model_flops_per_step);
  CHECK(b.hardware_flops_per_step == a.hardware_flops_per_step);
  CHECK(b.microbatches == a.microbatches);
  CHECK(b.grad_collective == a.grad_collective);
  CHECK(b.shape.total_params == a.shape.total_params);
  CHECK(b.shape.active_params == a.shape.active_params);
  CHECK(b.memory.total() == a.memory.total());
  CHECK(b.memory.describe() == a.memory.describe());
  CHECK(b.streams.grad == a.streams.grad);
  CHECK(b.streams.params == a.streams.params);
  CHECK(b.streams.expert_dp == a.streams.expert_dp);
  CHECK(b.streams.shard == a.streams.shard);
  CHECK(b.pipeline.schedule == a.pipeline.schedule);
  CHECK(b.pipeline.layers_per_stage == a.pipeline.layers_per_stage);
  CHECK(b.pipeline.layers_per_virtual_stage == a.pipeline.layers_per_virtual_stage);
  CHECK(b.pipeline.forward_s == a.pipeline.forward_s);
  CHECK(b.pipeline.backward_input_s == a.pipeline.backward_input_s);
  CHECK(b.pipeline.backward_weight_s == a.pipeline.backward_weight_s);
  CHECK(b.pipeline.stage_imbalance == a.pipeline.stage_imbalance);
  CHECK(b.pipeline.bubble_closed_form == a.pipeline.bubble_closed_form);
}

} // namespace

TEST_CASE("a step's workload figures without its programs are those with them, bit for bit", "[speed]")
{
  auto s = job(8, 2, 4, rail2);
  s.training.global_batch_size = 4 * 34;
  std::vector<scenario::Scenario> cases(7, s);
  cases[1].parallelism.schedule = "interleaved";
  cases[1].parallelism.vpp = 2;
  cases[2].parallelism.schedule = "zb-h1";
  cases[3].parallelism.zero_stage = 3;
  cases[4].parallelism.tp_comm_overlap = true;
  cases[5].parallelism.zero_stage = 2;
  const auto& acc = cases[6].cluster.accelerator;
  cases[6].power.cap_w = acc.idle_power_w + 0.3 * (acc.peak_power_w - acc.idle_power_w); // DVFS: a lower clock
  // A MoE model with DualPipe's overlapped pairs (ep_comm ops carrying compute seconds).
  cases.push_back(test::scenario_with([](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(4, 8, "200Gbps", "1us");
    j["model"] = {{"preset", "mixtral-8x7b"}, {"seq_length", 1024}, {"layers", 4}, {"moe", {{"experts", 32}}}};
    j["training"] = {{"global_batch_size", 8 * 34},
                     {"micro_batch_size", 1},
                     {"tokens", "1T"},
                     {"precision", "bf16"},
                     {"recompute", "none"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 4}, {"dp", 8}, {"ep", 8}, {"zero_stage", 1}, {"schedule", "dualpipe"}};
  }));
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    check_figures(cases[i]);
  }
  const auto& cal = scenario::Catalog::instance().calibration();
  CHECK(workload::build_workload_figures(cases[6], cal).clock < 1.0);
  CHECK(workload::build_workload(cases[7], cal).pipeline.schedule == "dualpipe");

  // The run of an extrapolated step keeps the figures only, and reports what the step's programs would give.
  const auto& cat = scenario::Catalog::instance();
  REQUIRE(sim::will_extrapolate(s));
  const auto run = cli::run_scenario(s, cat);
  CHECK_FALSE(run.workload.has_programs());
  REQUIRE(run.sim.extrapolated_from == std::vector<long>{4, 6, 8});
  const auto fabric = topology::Fabric::build(s.cluster);
  const auto with_programs = metrics::compute(s, workload::build_workload(s, cal), run.sim, fabric);
  CHECK(report::to_json(s, run.metrics).dump() == report::to_json(s, with_programs).dump());
  auto whole = s;
  whole.simulation.extrapolate = "never";
  CHECK_FALSE(sim::will_extrapolate(whole));
  const auto full = cli::run_scenario(whole, cat);
  CHECK(full.workload.has_programs());
  // Given the figures only, a simulation of the whole step builds the programs itself.
  const auto r = sim::simulate(whole, workload::build_workload_figures(whole, cal), fabric, cal);
  CHECK(r.to_json().dump() == full.sim.to_json().dump());
}
