// Model tests: tiny platforms simulated with SimGrid against closed forms.
#include <catch2/catch.hpp>
#include <cmath>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"

using namespace trainsim;

namespace {

scenario::Calibration ideal_calibration()
{
  auto cal = scenario::Catalog::instance().calibration();
  cal.collective_step_latency_s = 0;
  cal.scale_out_bus_efficiency = 1;
  cal.scale_up_bus_efficiency = 1;
  cal.protocols.clear(); // the alpha-beta bound: no protocol model (docs/at-scale.md#collective-efficiency)
  return cal;
}

scenario::Scenario dp_only(int nodes, int per_node, nlohmann::json fabric)
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(nodes, per_node, "100Gbps", "1us");
    j["cluster"]["fabric"] = fabric;
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", nodes * per_node}};
    j["training"]["global_batch_size"] = nodes * per_node;
    j["training"]["recompute"] = "full";
  });
}

} // namespace

TEST_CASE("ring all-reduce time equals 2(p-1)(a + S/(pB))", "[model][sim]")
{
  const nlohmann::json fabric = {{"type", "fat_tree"}, {"nic_bandwidth", "100Gbps"}, {"tiers", 1}, {"latency", "1us"}};
  for (int p : {2, 4, 8}) {
    auto s = dp_only(p, 1, fabric);
    auto f = topology::Fabric::build(s.cluster);
    std::vector<int> group;
    for (int i = 0; i < p; ++i)
      group.push_back(i);
    const double S = 1e9, B = 100e9 / 8, a = 2e-6; // a: NIC up + NIC down, 1 us each
    const double closed = 2.0 * (p - 1) * (a + S / (p * B));
    for (bool aggregate : {false, true}) {
      const double t = sim::simulate_collective(s, f, ideal_calibration(), {group}, 0, S, aggregate);
      INFO("p=" << p << " aggregate=" << aggregate << " simulated=" << t << " closed form=" << closed);
      CHECK(t == Approx(closed).epsilon(1e-6));
    }
  }
}

TEST_CASE("all-reduce across an oversubscribed tier slows by the expected factor", "[model][sim]")
{
  // 4 nodes x 8 GPUs, 2 nodes per leaf (16 downlinks), 8 concurrent rings (one per rail) crossing the
  // leaf trunks. At 1:1 the trunk (16 NICs' worth) is not the bottleneck; at 4:1 it carries 4 NICs' worth
  // for 8 flows, so each flow gets half a NIC: twice the time.
  auto run = [](const std::string& over, int radix) {
    nlohmann::json fabric = {{"type", "fat_tree"},       {"nic_bandwidth", "100Gbps"}, {"tiers", 2},
                             {"oversubscription", over}, {"switch_radix", radix},      {"latency", "1us"}};
    auto s = dp_only(4, 8, fabric);
    auto f = topology::Fabric::build(s.cluster);
    REQUIRE(f.summary().leaves == 2);
    std::vector<std::vector<int>> groups;
    for (int rail = 0; rail < 8; ++rail)
      groups.push_back({rail, 8 + rail, 16 + rail, 24 + rail});
    return sim::simulate_collective(s, f, ideal_calibration(), groups, 0, 4e9, true);
  };
  const double t1 = run("1:1", 32), t4 = run("4:1", 20);
  INFO("1:1 " << t1 << " s, 4:1 " << t4 << " s");
  CHECK(t4 / t1 == Approx(2.0).epsilon(0.01));
}

TEST_CASE("accelerator energy integrates power states: E = P_idle t + (P_peak - P_idle) t_busy", "[model][sim]")
{
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(1, 1, "100Gbps", "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 1}};
    j["training"]["global_batch_size"] = 4;
    j["simulation"]["steps"] = 2;
    j["failures"] = {{"enabled", false}}; // the closed form is for the training steps alone
  });
  auto out = cli::run_scenario(s, scenario::Catalog::instance());
  const auto& acc = s.cluster.accelerator;
  const auto& st = out.sim.stages.at(0);
  const double t = out.sim.step_time_s, busy = st.compute + st.optimizer + st.straggler; // straggler: slowed compute
  CHECK(out.sim.step_times_s.size() == 2);
  CHECK(st.energy_j == Approx(acc.idle_power_w * t + (acc.peak_power_w - acc.idle_power_w) * busy).epsilon(1e-6));
  // Whole-run bookkeeping: (accelerator power by state + hosts + NIC and switch ports) x PUE x steps;
  // carbon = energy x grid factor. (The NICs are split out of host_power, not added to it.)
  const auto& m = out.metrics;
  const double acc_j = st.compute * m.power_compute_w + st.optimizer * m.power_memory_bound_w +
                       (st.tp_comm + st.pp_comm + st.dp_comm) * m.power_communication_w + st.bubble * m.power_bubble_w +
                       st.straggler * m.power_compute_w + st.host * m.power_bubble_w; // at-scale (docs/at-scale.md)
  CHECK(m.power_compute_w == Approx(acc.idle_power_w + (acc.peak_power_w - acc.idle_power_w) * m.compute_activity));
  const double per_step =
      (acc_j + s.cluster.host_power_w * t + m.switch_ports * s.power.switch_port_power_w * t) * s.site.pue;
  CHECK(m.energy_mwh == Approx(per_step * m.steps_to_train / 3.6e9).epsilon(1e-9));
  CHECK(m.carbon_tco2e == Approx(m.energy_mwh * s.site.grid.co2_kg_per_kwh).epsilon(1e-12));
  CHECK(m.time_to_train_s == Approx(m.steps_to_train * t));
}

TEST_CASE("constant-power bookkeeping: energy of P watts for t seconds is P t", "[model]")
{
  CHECK(metrics::energy_joules({{700, 10}, {100, 5}}) == Approx(7500));
  CHECK(metrics::carbon_tonnes(1287, 0.429) == Approx(552.1).epsilon(0.001)); // Patterson et al. GPT-3
}

TEST_CASE("step time breakdown sums to the step time on every stage", "[model][sim]")
{
  auto s = test::scenario_with([](nlohmann::json&) {});
  auto out = cli::run_scenario(s, scenario::Catalog::instance());
  for (const auto& st : out.sim.stages)
    CHECK(st.total() == Approx(out.sim.step_time_s).epsilon(1e-9));
  const auto& b = out.metrics.breakdown;
  CHECK(b.compute + b.tp_comm + b.pp_comm + b.dp_comm + b.bubble + b.optimizer + b.host + b.straggler ==
        Approx(out.metrics.step_time_s));
  CHECK(out.metrics.mfu > 0.05);
  CHECK(out.metrics.mfu < 0.8);
}

TEST_CASE("same scenario and seed give a byte-identical JSON report", "[sim][determinism]")
{
  auto s = test::scenario_with([](nlohmann::json&) {});
  const auto a = report::to_json_text(s, cli::run_scenario(s, scenario::Catalog::instance()).metrics);
  const auto b = report::to_json_text(s, cli::run_scenario(s, scenario::Catalog::instance()).metrics);
  CHECK(a == b);
}

TEST_CASE("more bandwidth or more FLOP/s never makes a step slower", "[model][sim]")
{
  auto base = test::scenario_with([](nlohmann::json&) {});
  const double t0 = cli::run_scenario(base, scenario::Catalog::instance()).metrics.step_time_s;
  auto faster_net = base;
  faster_net.cluster.fabric.nic_bandwidth *= 2;
  faster_net.cluster.scale_up.bandwidth *= 2;
  CHECK(cli::run_scenario(faster_net, scenario::Catalog::instance()).metrics.step_time_s < t0);
  auto faster_gpu = base;
  for (auto& [k, v] : faster_gpu.cluster.accelerator.peak_flops)
    v *= 2;
  CHECK(cli::run_scenario(faster_gpu, scenario::Catalog::instance()).metrics.step_time_s < t0);
}
