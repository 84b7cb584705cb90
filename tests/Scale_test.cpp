// Scale reduction (issue 5): rail symmetry, redundant-flow elision, steady state, full vs reduced.
#include <catch2/catch.hpp>

#include "../src/sim/Reduction.hpp"
#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"

using namespace trainsim;

namespace {

/// A small tp x pp x dp job on `nodes` nodes of 8 accelerators over `fabric`.
scenario::Scenario small_job(int tp, int pp, int dp, nlohmann::json fabric)
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(tp * pp * dp / 8, 8, "200Gbps", "1us");
    j["cluster"]["fabric"] = fabric;
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", tp}, {"pp", pp}, {"dp", dp}, {"vpp", 1}, {"zero_stage", 1}};
    j["training"]["global_batch_size"] = dp * 4;
    j["training"]["recompute"] = "full";
  });
}

const nlohmann::json rail2 = {
    {"type", "rail_optimized"}, {"nic_bandwidth", "200Gbps"}, {"tiers", 2}, {"latency", "1us"}, {"switch_radix", 16}};
const nlohmann::json fat2_oversub = {{"type", "fat_tree"},        {"nic_bandwidth", "200Gbps"}, {"tiers", 2},
                                     {"oversubscription", "3:1"}, {"latency", "1us"},           {"switch_radix", 32}};

} // namespace

TEST_CASE("rails of a rail-optimized fabric are symmetric and own their links", "[scale]")
{
  auto s = small_job(8, 2, 8, rail2);
  auto f = topology::Fabric::build(s.cluster);
  topology::Placement pl(8, 8, 2);
  std::string note;
  std::vector<std::pair<int, double>> shared;
  CHECK(sim::rails_symmetric(f, pl, note, &shared));
  CHECK(note.empty());
  // Rail leaves are per rail; the spine trunk of a 2-tier fabric is shared by every rail equally.
  for (const auto& [link, factor] : shared) {
    CHECK(f.links()[static_cast<size_t>(link)].kind == topology::LinkKind::leaf_uplink);
    CHECK(factor == Approx(1.0 / 8));
  }
  auto plan = sim::plan_reduction(f, pl, false);
  CHECK(plan.replicas == std::vector<int>{0});
  CHECK(plan.rails == std::vector<int>{0});
  auto full = sim::plan_reduction(f, pl, true);
  CHECK(full.replicas.size() == 8);
  CHECK(full.rails.size() == 8);
  CHECK(full.link_scale.empty());
}

TEST_CASE("a fat tree whose leaf trunks every rail shares is reduced with the trunk split among rails", "[scale]")
{
  auto s = small_job(8, 1, 16, fat2_oversub);
  auto f = topology::Fabric::build(s.cluster);
  topology::Placement pl(8, 16, 1);
  std::string note;
  std::vector<std::pair<int, double>> shared;
  REQUIRE(sim::rails_symmetric(f, pl, note, &shared));
  CHECK_FALSE(shared.empty());
}

TEST_CASE("redundant ring flows are elided only where they run alone on their links", "[scale]")
{
  auto s = small_job(8, 1, 16, rail2);
  auto f = topology::Fabric::build(s.cluster);
  topology::Placement pl(8, 16, 1);
  auto plan = sim::plan_reduction(f, pl, false);
  REQUIRE(plan.keep.size() == 1);
  REQUIRE(plan.keep[0].size() == 1);
  const auto& k = plan.keep[0][0];
  int kept = 0;
  for (char c : k)
    kept += c;
  CHECK(kept < 16); // identical intra-leaf flows collapse
  CHECK(kept >= 2); // but the flows crossing the spine trunk (shared, not free) stay
  // Full fidelity keeps every flow.
  auto full = sim::plan_reduction(f, pl, true);
  for (char c : full.keep[0][0])
    CHECK(c == 1);
}

TEST_CASE("reduced fidelity reproduces full fidelity on an oversubscribed fat tree", "[scale][sim]")
{
  auto s = small_job(8, 2, 8, fat2_oversub);
  const auto& cat = scenario::Catalog::instance();
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  auto a = cli::run_scenario(s, cat, full);
  auto b = cli::run_scenario(s, cat, reduced);
  CHECK(a.sim.fidelity == "full");
  CHECK(b.sim.fidelity == "reduced");
  CHECK(b.sim.simulated_rails == 1);
  CHECK(b.sim.transfers < a.sim.transfers / 4);
  INFO("full " << a.sim.step_time_s << " s, reduced " << b.sim.step_time_s << " s");
  CHECK(b.sim.step_time_s == Approx(a.sim.step_time_s).epsilon(0.01));
  // The oversubscribed trunk matters: the same job at 1:1 is faster.
  auto s11 = small_job(
      8, 2, 8,
      {{"type", "fat_tree"}, {"nic_bandwidth", "200Gbps"}, {"tiers", 2}, {"latency", "1us"}, {"switch_radix", 32}});
  auto c = cli::run_scenario(s11, cat, reduced);
  CHECK(c.sim.step_time_s < b.sim.step_time_s);
}

TEST_CASE("automatic step count stops at the steady state", "[scale][sim]")
{
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(2, 8, "200Gbps", "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 2}, {"pp", 2}, {"dp", 4}, {"vpp", 1}};
    j["training"]["global_batch_size"] = 16;
    j["simulation"] = {{"steps", "auto"}, {"max_steps", 5}};
  });
  CHECK(s.simulation.steps_auto);
  auto one = s;
  one.simulation.steps_auto = false;
  one.simulation.steps = 1;
  const auto& cat = scenario::Catalog::instance();
  auto a = cli::run_scenario(s, cat);
  auto b = cli::run_scenario(one, cat);
  // Steps are separated by the optimizer and a global barrier, so the second step repeats the first.
  CHECK(a.sim.step_times_s.size() == 2);
  CHECK(a.sim.step_time_s == Approx(b.sim.step_time_s).epsilon(1e-9));
}
