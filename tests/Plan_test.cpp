// The parallelism plan the workload decides once (workload::StreamPlan) and the program check
// (workload::check_programs) that guards what reaches the simulator. Issues 16 and 19.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/sweep/Search.hpp"
#include "trainsim/workload/ProgramCheck.hpp"

using namespace trainsim;
using nlohmann::json;
using workload::OpKind;

namespace {

/// `tp 8, pp 1, dp 1, cp 2, zero_stage 3` on 16 H800 (issue 16): valid, and it used to die with signal 11,
/// because the workload counted dp*cp = 2 ZeRO-3 replicas and the simulator dp = 1.
scenario::Scenario zero3_cp_only()
{
  return test::scenario_with([](json& j) {
    j["cluster"]["nodes"] = 2;
    j["cluster"]["accelerators_per_node"] = 8;
    j["cluster"]["accelerator"] = "H800-SXM-80GB";
    j["model"] = {{"preset", "llama3-8b"}, {"layers", 8}};
    j["training"]["global_batch_size"] = 4;
    j["training"]["micro_batch_size"] = 1;
    j["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", 1}, {"cp", 2}, {"zero_stage", 3}, {"sequence_parallel", true}};
    j["simulation"] = {{"steps", 1}, {"seed", 1}};
  });
}

/// A small valid two-stage workload whose programs the tests below break one way each.
workload::Workload two_stages(scenario::Scenario& s)
{
  s = test::scenario_with([](json& j) {
    j["cluster"]["nodes"] = 2;
    j["cluster"]["accelerators_per_node"] = 8;
    j["model"] = {{"preset", "llama3-8b"}, {"layers", 8}};
    j["training"]["global_batch_size"] = 16;
    j["training"]["micro_batch_size"] = 1;
    j["parallelism"] = {{"tp", 4}, {"pp", 2}, {"dp", 2}, {"zero_stage", 1}};
    j["simulation"] = {{"steps", 1}, {"seed", 1}};
  });
  return workload::build_workload(s, scenario::Catalog::instance().calibration());
}

size_t first(const workload::StageProgram& p, OpKind kind)
{
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (p.ops[i].kind == kind)
      return i;
  FAIL("no op of that kind");
  return 0;
}

} // namespace

TEST_CASE("plan: ZeRO-3 gathers over dp*cp ranks are decided once, in the workload", "[workload][plan]")
{
  const auto s = zero3_cp_only();
  const auto w = workload::build_workload(s, scenario::Catalog::instance().calibration());
  CHECK(w.streams.grad);
  CHECK(w.streams.params); // dp 1, but cp 2 ranks shard the parameters
  CHECK(w.streams.expert_dp == 2);
  CHECK(first(w.stages[0], OpKind::param_prefetch) < first(w.stages[0], OpKind::param_wait));
}

TEST_CASE("plan: tp 8, pp 1, dp 1, cp 2, ZeRO-3 on 16 H800 simulates (was signal 11)", "[sim][plan]")
{
  const auto s = zero3_cp_only();
  const auto out = cli::run_scenario(s, scenario::Catalog::instance());
  CHECK(std::isfinite(out.metrics.step_time_s));
  CHECK(out.metrics.step_time_s > 0);
  CHECK(out.sim.stages.at(0).dp_comm >= 0);
  CHECK(out.sim.stages.at(0).cp_comm >= 0);
  CHECK(out.sim.comm_bytes.count("dp") == 1); // the parameter all-gathers and gradient reduce-scatters ran
  CHECK(out.sim.comm_bytes.at("dp") > 0);
}

TEST_CASE("plan: interleaving needs pp > 1 (issue 19: pp 1, vpp 2 aborted inside SimGrid)", "[workload][plan]")
{
  auto with = [](int pp, int vpp) {
    return test::scenario_with([&](json& j) {
      j["cluster"]["nodes"] = 1;
      j["cluster"]["accelerators_per_node"] = 8;
      j["model"] = {{"preset", "llama3-8b"}, {"layers", 8}};
      j["training"]["global_batch_size"] = 8;
      j["training"]["micro_batch_size"] = 1;
      j["parallelism"] = {{"tp", 8 / pp}, {"pp", pp}, {"dp", 1}, {"vpp", vpp}};
    });
  };
  CHECK_THROWS_WITH(with(1, 2), "/parallelism/vpp: 2 (the interleaved pipeline schedule) needs pp > 1, but pp is 1; "
                                "set vpp to 1 or raise pp");
  CHECK_NOTHROW(with(2, 2));
  // The schedule, reached past validation, would send a chunk's activations to its own stage: the program
  // check names that op rather than letting SimGrid abort.
  auto s = with(2, 2);
  auto w = workload::build_workload(s, scenario::Catalog::instance().calibration());
  auto& send = w.stages[0].ops[first(w.stages[0], OpKind::send)];
  send.peer = 0;
  CHECK_THROWS_WITH(workload::check_programs(s, w), Catch::Contains("stage 0") && Catch::Contains("send f0.0>1") &&
                                                        Catch::Contains("pipeline message to its own stage"));
}

TEST_CASE("program check: a valid workload passes, each broken invariant names its op", "[workload][plan]")
{
  scenario::Scenario s;
  const auto good = two_stages(s);
  REQUIRE_NOTHROW(workload::check_programs(s, good));
  auto broken = [&](const std::function<void(workload::Workload&)>& edit) {
    auto w = good;
    edit(w);
    try {
      workload::check_programs(s, w);
    } catch (const workload::ProgramError& e) {
      CHECK(e.exit_code() == core::ExitCode::internal);
      CHECK(std::string(e.what()).rfind("internal: workload program check failed at ", 0) == 0);
      CHECK(std::string(e.what()).find("ProgramCheck.cpp:") != std::string::npos);
      return std::string(e.what());
    }
    FAIL("the check passed a broken program");
    return std::string();
  };
  auto& st0 = good.stages[0];
  const size_t send = first(st0, OpKind::send), compute = first(st0, OpKind::compute);
  CHECK_THAT(broken([&](auto& w) { w.stages[0].ops.erase(w.stages[0].ops.begin() + static_cast<long>(send)); }),
             Catch::Contains("stage 1") && Catch::Contains("a receive that no stage sends"));
  CHECK_THAT(broken([&](auto& w) { w.stages[0].ops[compute].seconds = std::numeric_limits<double>::quiet_NaN(); }),
             Catch::Contains("op " + std::to_string(compute)) && Catch::Contains("seconds not finite"));
  CHECK_THAT(broken([&](auto& w) { w.stages[0].ops[send].bytes *= 2; }), Catch::Contains("bytes but"));
  CHECK_THAT(broken([&](auto& w) { w.streams.grad = false; }), Catch::Contains("without a data-parallel stream"));
  CHECK_THAT(broken([&](auto& w) {
               workload::Op wait{OpKind::param_wait, workload::Pass::forward};
               wait.steps = 1;
               w.stages[1].ops.insert(w.stages[1].ops.begin(), wait);
             }),
             Catch::Contains("stage 1, op 0") && Catch::Contains("param_wait without a parameter all-gather stream"));
  CHECK_THAT(broken([&](auto& w) {
               workload::Op a2a{OpKind::ep_comm, workload::Pass::forward, 0, 1e6};
               w.stages[0].ops.insert(w.stages[0].ops.begin(), a2a);
             }),
             Catch::Contains("without an expert-parallel group (ep 1)"));
  CHECK_THAT(broken([&](auto& w) {
               w.stages[0].ops.erase(w.stages[0].ops.begin() +
                                     static_cast<long>(first(w.stages[0], OpKind::grad_wait)));
             }),
             Catch::Contains("optimizer step before the gradient buckets"));
  CHECK_THAT(broken([&](auto& w) { w.stages.pop_back(); }), Catch::Contains("one program per pipeline stage"));
  // Stage 1 receives every forward before it sends any backward, and stage 0 receives a backward first:
  // each waits for the other.
  CHECK_THAT(broken([&](auto& w) {
               auto& ops = w.stages[0].ops;
               const auto recv =
                   std::find_if(ops.begin(), ops.end(), [](const auto& op) { return op.kind == OpKind::recv; });
               REQUIRE(recv != ops.end());
               const workload::Op r = *recv;
               ops.erase(recv);
               ops.insert(ops.begin(), r);
             }),
             Catch::Contains("deadlock"));
}

TEST_CASE("plan: search counts pp 1 with vpp 2 as invalid, with the parser's reason (was blamed on memory)",
          "[workload][plan]")
{
  json base = nlohmann::json::parse(scenario::default_scenario_text());
  base["cluster"]["nodes"] = 1;
  base["cluster"]["accelerators_per_node"] = 8;
  base["model"] = {{"preset", "llama3-8b"}, {"layers", 8}};
  base["training"]["global_batch_size"] = 8;
  base["training"]["micro_batch_size"] = 1;
  base["parallelism"] = {{"tp", 4}, {"pp", 2}, {"dp", 1}, {"vpp", 2}};
  sweep::SearchOptions o;
  o.fixed = {"vpp"};
  o.restrict["pp"] = {1};
  o.restrict["tp"] = {8};
  int evaluated = 0;
  const auto r = sweep::search(base, scenario::Catalog::instance(), o, [&](const scenario::Scenario&) {
    ++evaluated;
    return nlohmann::ordered_json();
  });
  CHECK(r.top.empty());
  CHECK(evaluated == 0);
  CHECK(r.candidates > 0);
  CHECK(r.invalid == r.candidates);
  CHECK(r.no_fit == 0);
  CHECK_THAT(r.first_invalid,
             Catch::StartsWith("/parallelism/vpp: 2 (the interleaved pipeline schedule) needs pp > 1"));
}
