#include "trainsim/scenario/FabricSchema.hpp"

namespace trainsim::scenario {

namespace {

std::vector<FabricSchema> declare()
{
  const FabricParamSpec ecmp{
      "ecmp_paths", "int", 0,
      "0: ideal load balancing, each tier's cables one trunk; k: each flow hashed onto one of k spine paths"};
  const FabricParamSpec balance{
      "load_balance", "string", "spray",
      "spray: packet spraying / adaptive routing, an even split; ecmp: each flow hashed onto one cable of a "
      "trunk, colliding flows share it (not the default yet: its reduced-fidelity proof fails with expert "
      "all-to-alls on the hashed trunks, docs/fabrics.md)"};
  return {
      {FabricType::fat_tree,
       "folded Clos of 1-3 tiers; all NICs of a node on one leaf",
       {"tiers", "oversubscription", "switch_radix"},
       {ecmp, balance}},
      {FabricType::rail_optimized,
       "folded Clos of 1-3 tiers; NIC k of every node of a group on rail leaf k (Xingmai, HPN, MegaScale, DGX "
       "SuperPOD)",
       {"tiers", "oversubscription", "switch_radix"},
       {ecmp, balance, {"planes", "int", 1, "network planes; each NIC's ports spread over them (Alibaba HPN: 2)"}}},
      {FabricType::dragonfly,
       "groups of routers, all-to-all local links inside a group and global links between groups; minimal routing",
       {"switch_radix"},
       {{"groups", "int", 0, "number of groups (0: as many as the nodes need)"},
        {"routers_per_group", "int", nullptr, "routers in a group, joined all-to-all by local links"},
        {"nodes_per_router", "int", 1, "nodes whose NICs attach to one router"},
        {"global_links", "int", nullptr, "global links per router"},
        {"local_bandwidth", "bandwidth", "nic_bandwidth", "per local link and direction"},
        {"global_bandwidth", "bandwidth", "nic_bandwidth", "per global cable and direction"}}},
      {FabricType::torus,
       "2D or 3D torus of node routers with wrap-around links; dimension-order routing",
       {"switch_radix"},
       {{"dims", "int list", nullptr, "ring sizes, 2 or 3 of them; their product is the node count"},
        {"link_bandwidth", "bandwidth", "nic_bandwidth", "per torus link and direction"}}},
      {FabricType::supernode,
       "Sunway-style: non-blocking fat tree inside supernodes, oversubscribed tier between them",
       {"switch_radix"},
       {ecmp,
        balance,
        {"supernode_size", "int", 256, "nodes per supernode (Sunway: 256)"},
        {"upper_oversubscription", "ratio", "16:3", "down:up ratio of the tier between supernodes (Sunway: 16:3)"}}},
  };
}

} // namespace

const std::vector<FabricSchema>& fabric_schemas()
{
  static const std::vector<FabricSchema> schemas = declare();
  return schemas;
}

const FabricSchema& fabric_schema(FabricType type)
{
  for (const auto& s : fabric_schemas())
    if (s.type == type)
      return s;
  return fabric_schemas().front();
}

} // namespace trainsim::scenario
