#include <catch2/catch.hpp>

#include "TestUtil.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/topology/Placement.hpp"

using namespace trainsim;

namespace {
scenario::Cluster cluster(const std::string& type, int nodes, int tiers, const std::string& over, int radix)
{
  return test::scenario_with([&](nlohmann::json& j) {
           j["cluster"]["nodes"] = nodes;
           j["cluster"]["fabric"] = {{"type", type},
                                     {"nic_bandwidth", "400Gbps"},
                                     {"tiers", tiers},
                                     {"oversubscription", over},
                                     {"switch_radix", radix}};
           j["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", nodes}};
           j["training"]["global_batch_size"] = nodes * 8;
           j["model"] = {{"preset", "llama3-8b"}};
         })
      .cluster;
}
} // namespace

TEST_CASE("fat tree leaves and routes follow the structure", "[topology]")
{
  // radix 64, 1:1 -> 32 downlinks per leaf = 4 nodes of 8 NICs.
  auto f = topology::Fabric::build(cluster("fat_tree", 16, 2, "1:1", 64));
  auto sum = f.summary();
  CHECK(sum.leaves == 4);
  CHECK(sum.accelerators == 128);
  std::vector<topology::Hop> r;
  f.route(0, 1, r); // same node: scale-up only
  REQUIRE(r.size() == 2);
  CHECK(f.links()[r[0].link].kind == topology::LinkKind::scale_up);
  r.clear();
  f.route(0, 8, r); // same leaf, other node
  CHECK(r.size() == 2);
  r.clear();
  f.route(0, 127, r); // other leaf: NIC, leaf trunk up, leaf trunk down, NIC
  REQUIRE(r.size() == 4);
  CHECK(f.links()[r[1].link].kind == topology::LinkKind::leaf_uplink);
  CHECK(r[1].up);
  CHECK_FALSE(r[2].up);
}

TEST_CASE("bisection bandwidth per accelerator is the NIC rate over the oversubscription", "[topology]")
{
  for (const char* over : {"1:1", "3:1"}) {
    auto f = topology::Fabric::build(cluster("fat_tree", 64, 2, over, 64));
    const double o = std::string(over) == "1:1" ? 1.0 : 3.0;
    CHECK(f.summary().bisection_bandwidth_per_accelerator == Approx(50e9 / o));
    // Sum of leaf trunk capacity equals the NIC capacity under the leaves divided by o.
    double trunk = 0, nic = 0;
    for (const auto& l : f.links()) {
      if (l.kind == topology::LinkKind::leaf_uplink)
        trunk += l.bandwidth;
      if (l.kind == topology::LinkKind::nic)
        nic += l.bandwidth;
    }
    CHECK(trunk == Approx(nic / o));
  }
}

TEST_CASE("rail-optimized fabric puts rail r of every node in a group on one leaf", "[topology]")
{
  auto f = topology::Fabric::build(cluster("rail_optimized", 64, 3, "1:1", 64));
  CHECK(f.leaf_of(0) != f.leaf_of(1));     // two rails of one node
  CHECK(f.leaf_of(3) == f.leaf_of(8 + 3)); // same rail of two nodes
  std::vector<topology::Hop> r;
  f.route(3, 8 * 5 + 3, r);
  CHECK(r.size() == 2); // same rail: NIC to leaf to NIC
}

TEST_CASE("a fabric too large for its radix fails naming the parameter", "[topology]")
{
  CHECK_THROWS_WITH(topology::Fabric::build(cluster("fat_tree", 1024, 2, "1:1", 16)),
                    Catch::Contains("/cluster/fabric/tiers") && Catch::Contains("tiers 3"));
}

TEST_CASE("placement follows Megatron's order (tp, dp, pp)", "[topology]")
{
  topology::Placement p(8, 4, 2);
  CHECK(p.accelerator({0, 0, 0}) == 0);
  CHECK(p.accelerator({1, 0, 0}) == 1);
  CHECK(p.accelerator({0, 1, 0}) == 8);
  CHECK(p.accelerator({0, 0, 1}) == 32);
  auto c = p.coord(45);
  CHECK((c.tp == 5 && c.dp == 1 && c.pp == 1));
}
