// ZeRO stages 1-3 / FSDP, TP communication overlap, and exposed versus total communication.
#include <catch2/catch.hpp>
#include <cmath>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/Memory.hpp"

using namespace trainsim;

namespace {

/// Data parallel only, one accelerator per node so that every DP transfer crosses the NICs.
scenario::Scenario dp_ranks(int dp, const std::string& nic, const std::function<void(nlohmann::json&)>& more = {})
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(dp, 1, nic, "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", dp}};
    j["training"]["global_batch_size"] = dp * 8;
    j["training"]["micro_batch_size"] = 8;
    j["training"]["recompute"] = "full";
    if (more)
      more(j);
  });
}

cli::RunOutput run(const scenario::Scenario& s)
{
  return cli::run_scenario(s, scenario::Catalog::instance());
}

double total_of(const cli::RunOutput& o, const char* kind)
{
  const auto& t = o.metrics.breakdown.comm_total;
  auto it = t.find(kind);
  return it == t.end() ? 0.0 : it->second;
}

/// Exposed time of every kind is at most its busy (total) time, per stage and in the breakdown.
void check_exposed_within_total(const cli::RunOutput& o)
{
  const double eps = 1e-12;
  for (const auto& st : o.sim.stages) {
    REQUIRE(st.comm_total.count("tp"));
    CHECK(st.tp_comm <= st.comm_total.at("tp") * (1 + 1e-9) + eps);
    CHECK(st.pp_comm <= st.comm_total.at("pp") * (1 + 1e-9) + eps);
    CHECK(st.dp_comm <= st.comm_total.at("dp") * (1 + 1e-9) + eps);
  }
  const auto& b = o.metrics.breakdown;
  CHECK(b.tp_comm <= total_of(o, "tp") * (1 + 1e-9) + eps);
  CHECK(b.pp_comm <= total_of(o, "pp") * (1 + 1e-9) + eps);
  CHECK(b.dp_comm <= total_of(o, "dp") * (1 + 1e-9) + eps);
}

} // namespace

TEST_CASE("zero_stage 0-3 and fsdp parse; contradictions name their path", "[scenario][zero]")
{
  for (int z : {0, 1, 2, 3})
    CHECK(dp_ranks(8, "100Gbps", [&](nlohmann::json& j) { j["parallelism"]["zero_stage"] = z; }).parallelism.zero_stage == z);
  auto f = dp_ranks(8, "100Gbps", [](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; });
  CHECK(f.parallelism.zero_stage == 3);
  CHECK(f.parallelism.fsdp);
  CHECK(f.parallelism.zero_prefetch == 1);
  auto bad = [](const std::function<void(nlohmann::json&)>& edit, const std::string& path) {
    try {
      dp_ranks(8, "100Gbps", edit);
      FAIL("accepted");
    } catch (const core::ConfigError& e) {
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
  };
  bad([](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; j["parallelism"]["zero_stage"] = 1; }, "/parallelism/fsdp");
  bad([](nlohmann::json& j) { j["parallelism"]["zero_prefetch"] = 2; }, "/parallelism/zero_prefetch");
  bad([](nlohmann::json& j) { j["parallelism"]["zero_stage"] = 4; }, "/parallelism/zero_stage");
  bad([](nlohmann::json& j) { j["parallelism"]["tp_comm_overlap"] = true; }, "/parallelism/tp_comm_overlap");
}

TEST_CASE("memory per rank: stage 1 shards optimizer states, 2 also gradients, 3 also weights", "[workload][zero]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  auto at = [&](int z, int prefetch = 1) {
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["parallelism"]["zero_stage"] = z;
      // fp32 gradient reduction: the gradient buffer is fp32 at every stage (with 16-bit reduction the
      // distributed optimizer's buffer is 16-bit, Memory.cpp), so the stages differ only by sharding.
      j["training"]["grad_reduce_precision"] = "fp32";
      if (z == 3)
        j["parallelism"]["zero_prefetch"] = prefetch;
    });
    return workload::estimate_memory(s, workload::ModelShape::of(s.model), cal);
  };
  const auto z0 = at(0), z1 = at(1), z2 = at(2), z3 = at(3);
  const double dp = test::scenario_with([](nlohmann::json&) {}).parallelism.dp;
  REQUIRE(dp > 1);
  CHECK(z1.optimizer == Approx(z0.optimizer / dp));
  CHECK(z1.gradients == Approx(z0.gradients));
  CHECK(z1.weights == Approx(z0.weights));
  CHECK(z2.gradients < 0.5 * z1.gradients);
  CHECK(z2.weights == Approx(z1.weights));
  CHECK(z3.weights < 0.5 * z2.weights);
  CHECK(z3.optimizer == Approx(z1.optimizer));
  CHECK(z0.total() > z1.total());
  CHECK(z1.total() > z2.total());
  CHECK(z2.total() > z3.total());
  // The gathered working copy grows with the prefetch depth: one more unit held whole per step of depth.
  CHECK(at(3, 2).weights > z3.weights);
  CHECK(at(3, 0).weights < z3.weights);
}

TEST_CASE("ZeRO-3 moves 1.5x the data-parallel bytes of plain DP and ZeRO-1", "[model][sim][zero]")
{
  auto bytes = [](int z) {
    auto o = run(dp_ranks(8, "400Gbps", [&](nlohmann::json& j) { j["parallelism"]["zero_stage"] = z; }));
    REQUIRE(o.workload.microbatches == 1);
    check_exposed_within_total(o);
    return o.sim.comm_bytes.at("dp");
  };
  const double b0 = bytes(0), b1 = bytes(1), b3 = bytes(3);
  CHECK(b0 > 0);
  CHECK(b1 == Approx(b0).epsilon(1e-9));       // reduce-scatter + all-gather = all-reduce
  CHECK(b3 == Approx(1.5 * b0).epsilon(1e-9)); // all-gather fwd + all-gather bwd + reduce-scatter
  // FSDP is the same schedule.
  auto f = run(dp_ranks(8, "400Gbps", [](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; }));
  CHECK(f.sim.comm_bytes.at("dp") == Approx(b3).epsilon(1e-9));
}

TEST_CASE("ZeRO-3 prefetch hides the all-gathers behind compute and exposes them on a slow network", "[model][sim][zero]")
{
  auto zero3 = [](const std::string& nic, int prefetch) {
    return run(dp_ranks(8, nic, [&](nlohmann::json& j) {
      j["parallelism"]["zero_stage"] = 3;
      j["parallelism"]["zero_prefetch"] = prefetch;
    }));
  };
  const auto fast = zero3("800Gbps", 1), fast_no_prefetch = zero3("800Gbps", 0), slow = zero3("10Gbps", 1);
  for (const auto* o : {&fast, &fast_no_prefetch, &slow})
    check_exposed_within_total(*o);
  const double fast_total = total_of(fast, "dp"), slow_total = total_of(slow, "dp");
  // Fast network: most of the parameter traffic runs under compute.
  CHECK(fast.metrics.breakdown.dp_comm < 0.25 * fast_total);
  // Without prefetch every all-gather is waited for.
  CHECK(fast_no_prefetch.metrics.breakdown.dp_comm > 2 * fast.metrics.breakdown.dp_comm);
  CHECK(fast_no_prefetch.metrics.step_time_s > fast.metrics.step_time_s);
  // Slow network: the transfers outlast the compute, so most of them show.
  CHECK(slow.metrics.breakdown.dp_comm > 0.75 * slow_total);
  CHECK(slow_total > 10 * fast_total);
}

TEST_CASE("ZeRO-2 reduce-scatters every micro-batch's gradients; ZeRO-1 only the last", "[model][sim][zero]")
{
  auto bytes = [](int z) {
    auto o = run(dp_ranks(8, "400Gbps", [&](nlohmann::json& j) {
      j["parallelism"]["zero_stage"] = z;
      j["training"]["global_batch_size"] = 8 * 8 * 4; // 4 micro-batches per replica
    }));
    REQUIRE(o.workload.microbatches == 4);
    check_exposed_within_total(o);
    return o.sim.comm_bytes.at("dp");
  };
  const double b1 = bytes(1), b2 = bytes(2);
  // ZeRO-1: RS + AG of the parameters once (2 units); ZeRO-2: 4 RS + 1 AG (5 units).
  CHECK(b2 == Approx(2.5 * b1).epsilon(1e-9));
}

TEST_CASE("tp_comm_overlap hides TP communication behind the GEMMs without shrinking it", "[model][sim][zero]")
{
  auto tp8 = [](bool overlap) {
    return run(test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(1, 8, "400Gbps", "1us");
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", 1}, {"sequence_parallel", true}, {"tp_comm_overlap", overlap}};
      j["training"]["global_batch_size"] = 4;
      j["training"]["micro_batch_size"] = 4;
    }));
  };
  const auto off = tp8(false), on = tp8(true);
  check_exposed_within_total(off);
  check_exposed_within_total(on);
  const double total_off = total_of(off, "tp"), total_on = total_of(on, "tp");
  REQUIRE(total_off > 0);
  CHECK(off.metrics.breakdown.tp_comm == Approx(total_off).epsilon(1e-6)); // blocking: all of it shows
  CHECK(on.metrics.breakdown.tp_comm < 0.5 * off.metrics.breakdown.tp_comm);
  CHECK(total_on == Approx(total_off).epsilon(1e-3)); // the same transfers
  CHECK(on.metrics.step_time_s < off.metrics.step_time_s);
  // The GEMMs share the SMs with the communication kernels: compute takes longer than without overlap.
  CHECK(on.metrics.breakdown.compute > off.metrics.breakdown.compute);
}

TEST_CASE("exposed communication never exceeds total communication", "[model][sim][zero]")
{
  check_exposed_within_total(run(test::scenario_with([](nlohmann::json&) {})));
  check_exposed_within_total(run(test::scenario_with([](nlohmann::json& j) {
    j["parallelism"].erase("zero_stage");
    j["parallelism"]["fsdp"] = true;
    j["parallelism"]["tp_comm_overlap"] = true;
  })));
}
