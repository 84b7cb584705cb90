// Fabric models: closed forms of bisection and diameter, checks, presets, exports, and the SimGrid XML.
#include <catch2/catch.hpp>
#include <cstdio>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "TestUtil.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/platform/PlatformXml.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/FabricExport.hpp"
#include "trainsim/topology/FabricModel.hpp"

using namespace trainsim;
using nlohmann::json;

namespace {

/// A cluster of `nodes` x `per_node` H100s with the given fabric object.
scenario::Cluster cluster(int nodes, int per_node, json fabric, const char* accelerator = "H100-SXM-80GB")
{
  json c = {{"accelerator", accelerator}, {"nodes", nodes}, {"accelerators_per_node", per_node}, {"fabric", fabric}};
  return scenario::parse_cluster_object(c, "/cluster", scenario::Catalog::instance());
}

std::vector<std::string> route_names(const topology::Fabric& f, int s, int d)
{
  std::vector<topology::Hop> hops;
  f.route(s, d, hops);
  std::vector<std::string> out;
  for (const auto& h : hops)
    out.push_back(f.links()[static_cast<size_t>(h.link)].name + (h.up ? "_UP" : "_DOWN"));
  return out;
}

} // namespace

TEST_CASE("fat-tree bisection from the graph equals the closed form B / (o1 o2)", "[topology][fabric]")
{
  const double nic = 400e9 / 8;
  struct Case {
    int nodes, tiers, radix;
    json over;
    double closed;
  };
  // Aligned cases: the halves of the accelerators are whole leaves (2 tiers) or whole pods (3 tiers).
  const std::vector<Case> cases = {
      {16, 2, 64, "1:1", nic},                           // 4 leaves of 4 nodes
      {48, 2, 64, "3:1", nic / 3},                       // 48 downlinks: 6 nodes per leaf, 8 leaves
      {32, 2, 20, "4:1", nic / 4},                       // 16 downlinks = 2 nodes per leaf, 16 leaves
      {64, 3, 16, "1:1", nic},                           // 1 node per leaf, 8 leaves per pod, 8 pods
      {96, 3, 16, json::array({"1:1", "3:1"}), nic / 3}, // spine tier 3:1: 12 leaves per pod, 8 pods
      {80, 3, 16, json::array({"3:1", "2:1"}), nic / 6}, // 1 node per leaf, 10 leaves per pod, 8 pods
  };
  for (const auto& c : cases) {
    auto f = topology::Fabric::build(cluster(c.nodes, 8,
                                             {{"type", "fat_tree"},
                                              {"nic_bandwidth", "400Gbps"},
                                              {"tiers", c.tiers},
                                              {"oversubscription", c.over},
                                              {"switch_radix", c.radix}}));
    const auto s = f.summary();
    INFO("nodes " << c.nodes << " tiers " << c.tiers << " radix " << c.radix << " over " << c.over.dump()
                  << ": structural " << s.bisection_structural_per_accelerator << ", max-flow "
                  << s.bisection_max_flow_per_accelerator);
    CHECK(s.bisection_structural_per_accelerator == Approx(c.closed));
    CHECK(s.bisection_max_flow_per_accelerator == Approx(c.closed).epsilon(1e-6));
    CHECK(s.bisection_bandwidth_per_accelerator == Approx(c.closed).epsilon(1e-6));
  }
}

TEST_CASE("the graph analyses are computed on demand, once, shared by copies, from any thread", "[topology][fabric]")
{
  // The dragonfly of the dragonfly case below: its analyses run the max-flow and the exact diameters.
  const auto f = topology::Fabric::build(cluster(72, 4,
                                                 {{"type", "dragonfly"},
                                                  {"nic_bandwidth", "400Gbps"},
                                                  {"routers_per_group", 4},
                                                  {"global_links", 2},
                                                  {"nodes_per_router", 2},
                                                  {"switch_radix", 32}}));
  const auto& cheap = f.structural_summary();
  CHECK(cheap.bisection_max_flow_per_accelerator == -1);
  CHECK(cheap.diameter_hops == 0);
  CHECK(cheap.graph_diameter_hops == 0);
  CHECK(cheap.bisection_method == "structural");
  CHECK(cheap.bisection_bandwidth_per_accelerator == cheap.bisection_structural_per_accelerator);
  const auto copy = f; // shares the analyses
  std::vector<topology::FabricSummary> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] { got[i] = (i % 2 ? copy : f).summary(); });
  for (auto& t : threads)
    t.join();
  for (const auto& s : got) {
    CHECK(s.bisection_max_flow_per_accelerator > 0);
    CHECK(s.bisection_max_flow_per_accelerator == got[0].bisection_max_flow_per_accelerator);
    CHECK(s.bisection_bandwidth_per_accelerator == got[0].bisection_bandwidth_per_accelerator);
    CHECK(s.bisection_method == got[0].bisection_method);
    CHECK(s.diameter_hops == 5);
    CHECK(s.graph_diameter_hops == 5);
    CHECK(s.diameter_method == "exact");
    CHECK(s.switches_by_tier == cheap.switches_by_tier);
  }
  CHECK(f.structural_summary().bisection_max_flow_per_accelerator == -1); // the structural part is unchanged
}

TEST_CASE("rail-optimized, dual-plane and ECMP fabrics: routes, ports and bisection", "[topology][fabric]")
{
  json fab = {
      {"type", "rail_optimized"}, {"nic_bandwidth", "400Gbps"}, {"tiers", 2}, {"switch_radix", 64}, {"planes", 2}};
  auto f = topology::Fabric::build(cluster(32, 8, fab));
  auto s = f.summary();
  // radix 16 in 200G ports, 1:1 -> 8 nodes per rail leaf; 4 groups x 8 rails x 2 planes.
  fab["switch_radix"] = 16;
  CHECK_THROWS_WITH(topology::Fabric::build(cluster(32, 8, fab)), Catch::Contains("/cluster/fabric/tiers"));
  fab["tiers"] = 3;
  f = topology::Fabric::build(cluster(32, 8, fab));
  s = f.summary();
  CHECK(s.switches_by_tier[1] == 64);
  CHECK(s.planes == 2);
  CHECK(s.bisection_max_flow_per_accelerator == Approx(50e9).epsilon(1e-6));
  CHECK(route_names(f, 3, 8 * 5 + 3) == std::vector<std::string>{"nic3_UP", "nic43_DOWN"}); // same rail, same group
  CHECK(route_names(f, 3, 8 * 9 + 3).size() == 6); // same rail, other group = other pod (radix 16: one group per pod)
  // ECMP: 4 hashed spine paths, each a quarter of the leaf trunk; routes deterministic and spread.
  fab = {
      {"type", "rail_optimized"}, {"nic_bandwidth", "400Gbps"}, {"tiers", 2}, {"switch_radix", 32}, {"ecmp_paths", 4}};
  auto g = topology::Fabric::build(cluster(32, 8, fab)); // 2 groups of 16 nodes, 16 uplinks per leaf
  std::set<std::string> used;
  for (int dst = 8 * 16; dst < 8 * 32; dst += 8) {
    auto r = route_names(g, 0, dst);
    REQUIRE(r.size() == 4);
    CHECK(r == route_names(g, 0, dst));
    used.insert(r[1]);
  }
  CHECK(used.size() == 4);
  CHECK(g.summary().bisection_max_flow_per_accelerator == Approx(50e9).epsilon(1e-6));
  fab["ecmp_paths"] = 3;
  CHECK_THROWS_WITH(topology::Fabric::build(cluster(32, 8, fab)),
                    Catch::Contains("/cluster/fabric/ecmp_paths") && Catch::Contains("divisor"));
}

TEST_CASE("rail_optimized with wide uplinks: a spine reaches one leaf per cable, the hash sees the cables",
          "[topology][fabric][ecmp]")
{
  // MegaScale (arXiv:2402.15627 sec. 3.6): Tomahawk 4, 64 x 400G = 128 ports of 200G; ToR downlinks split to
  // 2 x 200G, 400G uplinks. 512 nodes x 8: 64 nodes per rail leaf, 8 groups of 8 rail leaves; a spine's
  // 32 x 400G down cables reach 32 leaves = 4 groups (2 pods); with 200G cables 64 leaves (1 pod).
  json fab = {{"type", "rail_optimized"}, {"nic_bandwidth", "200Gbps"}, {"tiers", 3},
              {"switch_radix", 128},      {"oversubscription", "1:1"},  {"load_balance", "ecmp"}};
  auto narrow = topology::Fabric::build(cluster(512, 8, fab));
  CHECK(narrow.summary().pods == 1); // 8 groups of 64 nodes, 64 leaves = one pod of 64 spine ports
  CHECK(narrow.trunk_cable_width() == 1);
  fab["uplink_bandwidth"] = "400Gbps";
  fab["qps_per_connection"] = 4;
  auto wide = topology::Fabric::build(cluster(512, 8, fab));
  CHECK(wide.summary().pods == 2); // 32 leaves per pod
  CHECK(wide.trunk_cable_width() == 2);
  CHECK(wide.flows_per_connection() == 4);
  // The same capacity either way: only the cable count (n) and the pod size change.
  CHECK(wide.summary().bisection_max_flow_per_accelerator ==
        Approx(narrow.summary().bisection_max_flow_per_accelerator).epsilon(1e-9));
  fab["uplink_bandwidth"] = "300Gbps";
  CHECK_THROWS_WITH(topology::Fabric::build(cluster(512, 8, fab)),
                    Catch::Contains("/cluster/fabric/uplink_bandwidth") && Catch::Contains("multiple"));
  fab["uplink_bandwidth"] = "400Gbps";
  fab["qps_per_connection"] = 0;
  CHECK_THROWS_WITH(topology::Fabric::build(cluster(512, 8, fab)),
                    Catch::Contains("/cluster/fabric/qps_per_connection"));
}

TEST_CASE("torus: dimension-order routes, diameter and bisection in closed form", "[topology][fabric]")
{
  // 4x4x8 nodes of 1 accelerator: diameter = 2+2+4 router hops + 2 NIC links; bisection cuts the 8-ring.
  auto f = topology::Fabric::build(cluster(
      128, 1, {{"type", "torus"}, {"nic_bandwidth", "400Gbps"}, {"dims", {4, 4, 8}}, {"link_bandwidth", "200Gbps"}}));
  const auto s = f.summary();
  CHECK(s.diameter_hops == 2 + 2 + 4 + 2);
  CHECK(s.graph_diameter_hops == s.diameter_hops);
  const double cut = 2.0 * (128 / 8) * 25e9; // two links per ring of the last dimension
  CHECK(s.bisection_structural_per_accelerator == Approx(cut / 64));
  CHECK(s.bisection_max_flow_per_accelerator == Approx(cut / 64).epsilon(1e-6));
  CHECK_THROWS_WITH(topology::Fabric::build(cluster(100, 1, {{"type", "torus"}, {"dims", {4, 4, 8}}})),
                    Catch::Contains("/cluster/fabric/dims"));
}

TEST_CASE("dragonfly: minimal routes of at most 3 router hops, bisection over global links", "[topology][fabric]")
{
  // a = 4 routers, h = 2 global links each -> 8 per group = g - 1 with g = 9; 2 nodes per router.
  auto f = topology::Fabric::build(cluster(72, 4,
                                           {{"type", "dragonfly"},
                                            {"nic_bandwidth", "400Gbps"},
                                            {"routers_per_group", 4},
                                            {"global_links", 2},
                                            {"nodes_per_router", 2},
                                            {"switch_radix", 32}}));
  const auto s = f.summary();
  CHECK(s.switches_by_tier[1] == 36);
  CHECK(s.diameter_hops == 5); // NIC, local, global, local, NIC
  CHECK(s.graph_diameter_hops == 5);
  // Halves: groups 0-3 and half of group 4 against the rest; the structural cut is 4 x 5 global cables.
  CHECK(s.bisection_max_flow_per_accelerator > 0);
  CHECK(s.bisection_bandwidth_per_accelerator <= s.bisection_structural_per_accelerator * (1 + 1e-9));
  CHECK_THROWS_WITH(
      topology::Fabric::build(cluster(72, 4, {{"type", "dragonfly"}, {"routers_per_group", 4}, {"global_links", 3}})),
      Catch::Contains("/cluster/fabric/global_links"));
}

TEST_CASE("supernode: non-blocking inside 256 nodes, 16:3 above", "[topology][fabric]")
{
  auto c = cluster(1024, 1, {{"type", "supernode"}, {"nic_bandwidth", "128Gbps"}}, "SW26010-Pro");
  auto f = topology::Fabric::build(c);
  const auto s = f.summary();
  CHECK(s.pods == 4);
  REQUIRE(s.oversubscription.size() == 2);
  CHECK(s.oversubscription[1] == Approx(16.0 / 3));
  CHECK(s.bisection_max_flow_per_accelerator == Approx(16e9 * 3 / 16).epsilon(1e-6));
  CHECK(route_names(f, 0, 255).size() == 4);  // inside a supernode: NIC, leaf trunk, leaf trunk, NIC
  CHECK(route_names(f, 0, 1023).size() == 6); // across: through the oversubscribed tier
}

TEST_CASE("fabric keys: unknown keys, keys of another model and presets fail naming the path",
          "[topology][fabric][badinput]")
{
  CHECK_THROWS_WITH(cluster(8, 8, {{"type", "torus"}, {"dims", {2, 4}}, {"tiers", 2}}),
                    Catch::StartsWith("/cluster/fabric/tiers") && Catch::Contains("valid keys here") &&
                        Catch::Contains("dims"));
  CHECK_THROWS_WITH(cluster(8, 8, {{"type", "fat_tree"}, {"planes", 2}}), Catch::StartsWith("/cluster/fabric/planes"));
  CHECK_THROWS_WITH(cluster(8, 8, {{"preset", "no-such-fabric"}}), Catch::StartsWith("/cluster/fabric/preset") &&
                                                                       Catch::Contains("xingmai-2.0") &&
                                                                       Catch::Contains("alibaba-hpn"));
  CHECK_THROWS_WITH(topology::Fabric::build(cluster(8, 8, {{"type", "dragonfly"}, {"global_links", 2}})),
                    Catch::StartsWith("/cluster/fabric/routers_per_group") && Catch::Contains("missing"));
  // A preset with a key beside it: the key wins.
  auto c = cluster(64, 8, {{"preset", "xingmai-2.0"}, {"oversubscription", "3:1"}});
  CHECK(c.fabric.preset == "xingmai-2.0");
  CHECK(c.fabric.tiers == 3);
  CHECK(c.fabric.oversubscription == 3.0);
}

TEST_CASE("every fabric preset builds its reference cluster and passes the checks", "[topology][fabric]")
{
  const auto& cat = scenario::Catalog::instance();
  for (const auto& id : cat.fabric_ids()) {
    if (id == "xingmai-2.0" || id == "sunway-oceanlight")
      continue; // 100k-scale: measured by tools/bench-fabric, not in the unit tests
    INFO(id);
    json rc = cat.fabrics().at(id).at("reference_cluster");
    rc["fabric"] = {{"preset", id}};
    auto f = topology::Fabric::build(scenario::parse_cluster_object(rc, "/cluster", cat));
    CHECK(f.summary().bisection_bandwidth_per_accelerator > 0);
    CHECK(cat.fabrics().at(id).contains("sources"));
  }
}

TEST_CASE("DOT export draws small fabrics and refuses huge ones", "[topology][fabric]")
{
  auto f = topology::Fabric::build(cluster(4, 8, {{"type", "rail_optimized"}, {"tiers", 2}, {"switch_radix", 8}}));
  const auto dot = topology::to_dot(f);
  CHECK(dot.rfind("graph fabric {", 0) == 0);
  CHECK(dot.find("\"acc0\" -- \"leaf0.p0\"") != std::string::npos);
  CHECK(topology::to_dot(f, 40).find("switches only") != std::string::npos); // 32 accelerators omitted
  CHECK_THROWS_AS(topology::to_dot(f, 5), core::UsageError);
}

TEST_CASE("the SimGrid XML loads in SimGrid and its routes are trainsim's routes", "[topology][fabric][sim]")
{
  struct Case {
    const char* what;
    scenario::Cluster c;
    bool exact;
  };
  std::vector<Case> cases = {
      {"rail 3 tiers", cluster(32, 8, {{"type", "rail_optimized"}, {"tiers", 3}, {"switch_radix", 8}}), true},
      {"fat tree 2:1",
       cluster(16, 8, {{"type", "fat_tree"}, {"tiers", 2}, {"oversubscription", "2:1"}, {"switch_radix", 24}}), true},
      {"dual plane", cluster(16, 8, {{"type", "rail_optimized"}, {"tiers", 2}, {"planes", 2}, {"switch_radix", 16}}),
       true},
      // Dijkstra may take a shorter two-global path than minimal (local-global-local) dragonfly routing.
      {"dragonfly",
       cluster(36, 2, {{"type", "dragonfly"}, {"routers_per_group", 4}, {"global_links", 2}, {"nodes_per_router", 1}}),
       false},
      {"torus", cluster(27, 1, {{"type", "torus"}, {"dims", {3, 3, 3}}}), false},
  };
  for (const auto& k : cases) {
    INFO(k.what);
    auto f = topology::Fabric::build(k.c);
    char path[] = "/tmp/trainsim-xml-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    std::ostringstream xml;
    topology::write_platform_xml(f, {1e12, "100:700"}, xml);
    core::write_file_atomically(path, xml.str());
    std::vector<std::pair<int, int>> pairs;
    const int n = f.accelerators();
    for (int s = 0; s < n; s += std::max(1, n / 7))
      for (int d = 0; d < n; d += std::max(1, n / 9))
        if (s != d)
          pairs.emplace_back(s, d);
    auto loaded = platform::load_platform_xml(path, pairs);
    std::remove(path);
    CHECK(loaded.hosts == n);
    for (size_t i = 0; i < pairs.size(); ++i) {
      auto expect = route_names(f, pairs[i].first, pairs[i].second);
      INFO("route " << pairs[i].first << " -> " << pairs[i].second);
      if (k.exact)
        CHECK(loaded.routes[i] == expect);
      else {
        REQUIRE(!loaded.routes[i].empty());
        CHECK(loaded.routes[i].front() == expect.front());
        CHECK(loaded.routes[i].back() == expect.back());
        if (std::string(k.what) == "torus")
          CHECK(loaded.routes[i].size() == expect.size()); // both shortest paths
      }
    }
  }
}

TEST_CASE("all-reduce across an oversubscribed 3-tier spine slows by o2", "[model][sim][fabric]")
{
  // 16 nodes of 1 GPU, radix 4: 2 nodes per leaf, 2 leaves per pod, 4 pods (also at 2:1 above the spine:
  // floor(4 x 2/3) = 2 leaves). Four rings, ring k = {k, k+4, k+8, k+12}: every flow crosses pods, and each
  // pod trunk carries the 4 flows of its 4 NICs. At 1:1 the NICs limit; at 2:1 the trunk holds 2 NICs' worth
  // for 4 flows, half a NIC each: twice the time (latency terms are microseconds against seconds).
  auto run = [](const char* upper) {
    auto s = test::scenario_with([&](json& j) {
      j["cluster"] = test::tiny_cluster(16, 1, "100Gbps", "1us");
      j["cluster"]["fabric"] = {{"type", "fat_tree"}, {"nic_bandwidth", "100Gbps"},
                                {"tiers", 3},         {"oversubscription", {"1:1", upper}},
                                {"switch_radix", 4},  {"latency", "1us"}};
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 16}};
      j["training"]["global_batch_size"] = 16;
    });
    auto f = topology::Fabric::build(s.cluster);
    REQUIRE(f.summary().pods == 4);
    auto cal = scenario::Catalog::instance().calibration();
    cal.collective_step_latency_s = 0;
    cal.scale_out_bus_efficiency = 1;
    cal.scale_up_bus_efficiency = 1;
    cal.protocols.clear(); // the alpha-beta bound: no protocol model (docs/at-scale.md#collective-efficiency)
    std::vector<std::vector<int>> groups;
    for (int k = 0; k < 4; ++k)
      groups.push_back({k, k + 4, k + 8, k + 12});
    return sim::simulate_collective(s, f, cal, groups, 0, 4e9, true);
  };
  const double t1 = run("1:1"), t2 = run("2:1");
  INFO("spine 1:1 " << t1 << " s, spine 2:1 " << t2 << " s");
  CHECK(t2 / t1 == Approx(2.0).epsilon(0.01));
}
