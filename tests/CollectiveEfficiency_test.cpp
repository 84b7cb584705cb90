// Collective efficiency (docs/at-scale.md#collective-efficiency): NCCL's protocol choice against its closed form,
// and the simulated collective against the chosen protocol's time.
#include <catch2/catch.hpp>
#include <cmath>

#include "TestUtil.hpp"
#include "trainsim/collective/Protocol.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"

using namespace trainsim;

namespace {

/// NCCL's tuning model written out for one protocol (the calibration's figures; times in seconds).
double by_hand(const collective::Protocol& p, const collective::Call& c)
{
  const int up = c.steps - c.scale_out_steps;
  double latency = p.base_latency + up * std::max(p.step_latency[0], c.route_latency) +
                   c.scale_out_steps * std::max(p.step_latency[1], c.route_latency);
  if (c.multi_node_all_reduce)
    latency *= p.all_reduce_latency_factor;
  return latency + c.link_bytes / (c.link_bandwidth * p.bandwidth_factor[c.link]);
}

scenario::Scenario ring_scenario(int nodes, int per_node, bool efficiency)
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(nodes, per_node, "200Gbps", "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", nodes * per_node}};
    j["training"]["global_batch_size"] = nodes * per_node;
    j["training"]["recompute"] = "full";
    j["simulation"]["collective_efficiency"] = efficiency;
  });
}

} // namespace

TEST_CASE("protocol choice is the least of NCCL's closed forms: LL small, LL128 mid, Simple large",
          "[collective-efficiency]")
{
  const auto& protocols = scenario::Catalog::instance().calibration().protocols;
  REQUIRE(protocols.size() == 3);
  collective::Call c;
  c.steps = 14; // 8-rank ring all-reduce on NVLink
  c.link = collective::scale_up;
  c.link_bandwidth = 360e9;
  c.route_latency = 1e-6;
  std::vector<std::string> chosen;
  for (double S : {1e3, 1e5, 1e7, 1e9}) {
    c.link_bytes = 2.0 * 7 / 8 * S;
    const auto choice = collective::choose_protocol(protocols, c);
    REQUIRE(choice.protocol >= 0);
    double least = 1e300;
    for (const auto& p : protocols)
      least = std::min(least, by_hand(p, c));
    INFO("S=" << S << " " << protocols[static_cast<size_t>(choice.protocol)].name << " " << choice.time);
    CHECK(choice.time == Approx(least).epsilon(1e-12));
    CHECK(choice.time == Approx(by_hand(protocols[static_cast<size_t>(choice.protocol)], c)).epsilon(1e-12));
    CHECK(choice.time >= collective::ideal_time(c, 0)); // never beyond the link's ceiling and its wire latency
    chosen.push_back(protocols[static_cast<size_t>(choice.protocol)].name);
  }
  CHECK(chosen == std::vector<std::string>{"LL", "LL", "LL128", "Simple"});
  // Bus bandwidth rises with the message size towards the ceiling (nccl-tests' curve).
  double last = 0;
  for (double S = 1e3; S <= 1e10; S *= 10) {
    c.link_bytes = 2.0 * 7 / 8 * S;
    const double bw = collective::bus_bandwidth(c, collective::choose_protocol(protocols, c).time);
    CHECK(bw > last);
    CHECK(bw <= 360e9);
    last = bw;
  }
  CHECK(last > 0.99 * 360e9);
  // Across nodes LL128 is not a candidate (factor 0 on scale-out links), and every step pays the network's latency.
  c.link = collective::scale_out;
  c.scale_out_steps = c.steps;
  c.link_bandwidth = 22.5e9;
  c.link_bytes = 1e7;
  CHECK(protocols[static_cast<size_t>(collective::choose_protocol(protocols, c).protocol)].name == "Simple");
  c.link_bytes = 1e3;
  CHECK(protocols[static_cast<size_t>(collective::choose_protocol(protocols, c).protocol)].name == "LL");
  // A ring all-reduce across nodes with Simple pays its latency 1.4 times (NCCL's plateau of the ring).
  c.link_bytes = 1e9;
  const double alone = collective::choose_protocol(protocols, c).time;
  c.multi_node_all_reduce = true;
  const auto plateau = collective::choose_protocol(protocols, c);
  CHECK(plateau.time == Approx(by_hand(protocols.back(), c)).epsilon(1e-12));
  CHECK(plateau.time - alone ==
        Approx(0.4 * (protocols.back().base_latency + 14 * std::max(protocols.back().step_latency[1], 1e-6)))
            .epsilon(1e-9));
  CHECK(collective::choose_protocol({}, c).protocol == -1);
}

TEST_CASE("simulated ring all-reduce equals the chosen protocol's closed form; off, the alpha-beta bound",
          "[collective-efficiency][sim]")
{
  const auto cal = scenario::Catalog::instance().calibration();
  struct Layout {
    int nodes, per_node;
  };
  for (const Layout l : {Layout{1, 8}, Layout{8, 1}}) {
    const int p = l.nodes * l.per_node;
    for (bool on : {true, false}) {
      auto s = ring_scenario(l.nodes, l.per_node, on);
      auto f = topology::Fabric::build(s.cluster);
      std::vector<int> group;
      for (int i = 0; i < p; ++i)
        group.push_back(i);
      collective::Call c;
      c.steps = 2 * (p - 1);
      const bool up = l.nodes == 1;
      c.link = up ? collective::scale_up : collective::scale_out;
      c.scale_out_steps = up ? 0 : c.steps;
      c.link_bandwidth = up ? s.cluster.scale_up.bandwidth * cal.scale_up_bus_efficiency
                            : s.cluster.fabric.nic_bandwidth * cal.scale_out_bus_efficiency;
      c.route_latency = up ? 2 * s.cluster.scale_up.latency : 2 * s.cluster.fabric.latency;
      c.multi_node_all_reduce = !up;
      for (double S : {4e3, 3e7, 1e9}) {
        c.link_bytes = 2.0 * (p - 1) / p * S;
        const double closed = on ? collective::choose_protocol(cal.protocols, c).time
                                 : collective::ideal_time(c, cal.collective_step_latency_s);
        for (bool aggregate : {false, true}) {
          const double t = sim::simulate_collective(s, f, cal, {group}, 0, S, aggregate);
          INFO(l.nodes << "x" << l.per_node << " on=" << on << " S=" << S << " simulated=" << t
                       << " closed=" << closed);
          CHECK(t == Approx(closed).epsilon(1e-6).margin(5e-8)); // SimGrid ends activities to 1e-9 s
        }
      }
    }
  }
}
