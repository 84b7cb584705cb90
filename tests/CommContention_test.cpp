// Communication beside compute (/simulation/comm_compute_contention, docs/at-scale.md#communication-beside-compute):
// while a data-parallel job's NCCL kernels hold their SM share, the compute beside them runs at 1 / (1 + s) of its
// speed (s = tp_overlap_gemm_slowdown), and what it loses counts as exposed data-parallel time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "RunUtil.hpp"
#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"

using namespace trainsim;

namespace {

/// gpt3-1.7b on pp 1, dp 4 (one accelerator per node, one switch), 8 micro-batches, overlapped bucketed
/// gradient reduce-scatters; alpha-beta collectives, no jitter or host overhead.
scenario::Scenario one_stage(bool contention, int pp = 1)
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(4 * pp, 1, "800Gbps", "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", pp}, {"dp", 4}, {"zero_stage", 1}, {"overlap_grad_reduce", true}};
    j["training"]["global_batch_size"] = 4 * 8;
    j["training"]["micro_batch_size"] = 1;
    j["simulation"]["collective_efficiency"] = false;
    j["simulation"]["variability"] = false;
    j["simulation"]["host_overhead"] = false;
    j["simulation"]["comm_compute_contention"] = contention;
  });
}

using Intervals = std::vector<std::pair<double, double>>;

/// Length of the intersection of two interval unions.
double overlap(Intervals a, Intervals b)
{
  double total = 0;
  for (const auto& [a0, a1] : a)
    for (const auto& [b0, b1] : b)
      total += std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
  return total; // the intervals within each list do not overlap (one stream each)
}

} // namespace

TEST_CASE("compute beside data-parallel kernels loses s / (1 + s) of the time they overlap", "[model][contention]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  const double s = cal.tp_overlap_gemm_slowdown;
  REQUIRE(s > 0);
  for (auto fid : {sim::Fidelity::full, sim::Fidelity::reduced}) {
    const auto on = test::run_traced(one_stage(true), fid), off = test::run_traced(one_stage(false), fid);
    const auto& bo = on.sim.stages.at(0);
    const auto& bf = off.sim.stages.at(0);
    // The ops' own time is the same; the run is longer by what the compute lost, all of it DP's.
    CHECK(bo.compute == Approx(bf.compute).epsilon(1e-12));
    CHECK(on.sim.step_time_s > off.sim.step_time_s);
    Intervals compute, dp;
    double elapsed = 0;
    for (const auto& e : on.sim.trace.events) {
      if (e.stage != 0)
        continue;
      if (e.lane == 0 && e.kind == "compute") {
        compute.emplace_back(e.start_s, e.end_s);
        elapsed += e.end_s - e.start_s;
      } else if (e.lane == 1 && e.kind == "dp_stream") {
        dp.emplace_back(e.start_s, e.end_s);
      }
    }
    REQUIRE(!dp.empty());
    const double both = overlap(compute, dp);
    REQUIRE(both > 0);
    // Closed form: during the overlap the ops run at 1 / (1 + s) of their speed, so they lose s / (1 + s) of it.
    const double lost = elapsed - bo.compute;
    INFO("lost " << lost << " both " << both << " elapsed " << elapsed << " compute " << bo.compute << " jobs "
                 << dp.size());
    CHECK(lost == Approx(s / (1 + s) * both).epsilon(1e-6));
    CHECK(bo.dp_comm - bf.dp_comm == Approx(on.sim.step_time_s - off.sim.step_time_s).epsilon(0.05));
  }
  // Off by default, and off is the run without the mechanism.
  auto dflt = test::scenario_with([](nlohmann::json&) {});
  CHECK_FALSE(dflt.simulation.comm_compute_contention);
}

TEST_CASE("communication beside compute: reduced fidelity within 1% of full on a pipeline",
          "[model][contention][fidelity]")
{
  const auto s = one_stage(true, 2);
  const auto full = test::run_traced(s, sim::Fidelity::full), red = test::run_traced(s, sim::Fidelity::reduced);
  CHECK(red.sim.step_time_s == Approx(full.sim.step_time_s).epsilon(0.01));
  CHECK(full.sim.step_time_s > test::run_traced(one_stage(false, 2), sim::Fidelity::full).sim.step_time_s);
}
