// Folded-Clos fabrics: fat_tree, rail_optimized (optionally multi-plane) and supernode (Sunway-style).
#include <algorithm>
#include <cmath>

#include "trainsim/core/Errors.hpp"
#include "trainsim/topology/FabricModel.hpp"

namespace trainsim::topology {

using core::ConfigError;
namespace {

/// The three fabric models built here.
enum class ClosKind { fat_tree, rail_optimized, supernode };

/// The structure of a 1-3 tier folded Clos. Leaves are tier 1; a pod is what one block of tier-2
/// switches joins; tier 3 joins the pods. In a rail-optimized fabric NIC k of every node of a group goes
/// to rail leaf k of the group; in a fat tree (and a supernode fabric) all NICs of a node share a leaf.
struct ClosLayout {
  bool rails = false;
  int planes = 1;
  int tiers = 2;
  int paths = 1; ///< spine paths a flow hashes over (1 with ideal trunks)
  bool ideal = true;
  int per_node = 1, nodes = 0, acc = 0;
  int nodes_per_group = 1;
  int groups = 1;
  int rails_n = 1;
  int leaves = 1; ///< per plane
  int leaves_per_pod = 1;
  int pods = 1;
  int su_base = -1, nic_base = 0, leaf_up_base = 0, pod_up_base = 0;

  int leaf_of(int a) const
  {
    int group = (a / per_node) / nodes_per_group;
    return rails_n > 1 ? group * rails_n + a % per_node : group;
  }
  int pod_of_leaf(int l) const { return l / leaves_per_pod; }
};

class ClosRouter final : public Router {
public:
  explicit ClosRouter(ClosLayout l) : l_(l) {}
  int leaf_of(int a) const override { return l_.leaf_of(a); }
  int pod_of_leaf(int leaf) const override { return l_.pod_of_leaf(leaf); }
  void route(int src, int dst, std::vector<Hop>& out) const override
  {
    if (l_.su_base >= 0 && src / l_.per_node == dst / l_.per_node) {
      out.push_back({l_.su_base + src, true});
      out.push_back({l_.su_base + dst, false});
      return;
    }
    out.push_back({l_.nic_base + src, true});
    const int ls = l_.leaf_of(src), ld = l_.leaf_of(dst);
    if (ls != ld) {
      const int s = l_.paths > 1 ? static_cast<int>(flow_hash(src, dst) % static_cast<unsigned>(l_.paths)) : 0;
      out.push_back({l_.leaf_up_base + ls * l_.paths + s, true});
      const int ps = l_.pod_of_leaf(ls), pd = l_.pod_of_leaf(ld);
      if (ps != pd) {
        out.push_back({l_.pod_up_base + ps * l_.paths + s, true});
        out.push_back({l_.pod_up_base + pd * l_.paths + s, false});
      }
      out.push_back({l_.leaf_up_base + ld * l_.paths + s, false});
    }
    out.push_back({l_.nic_base + dst, false});
  }

private:
  ClosLayout l_;
};

std::string str(long x)
{
  return std::to_string(x);
}

void build_clos(ClosKind type, const scenario::Cluster& c, Params& p, Fabric& f)
{
  ClosLayout l;
  const bool supernode = type == ClosKind::supernode;
  l.rails = type == ClosKind::rail_optimized;
  l.per_node = c.accelerators_per_node;
  l.nodes = c.nodes;
  l.acc = static_cast<int>(c.total_accelerators());
  const int radix = c.fabric.switch_radix;
  double o1 = c.fabric.tier_oversubscription.at(0), o2 = c.fabric.tier_oversubscription.at(1);
  l.tiers = c.fabric.tiers;
  l.planes = l.rails ? static_cast<int>(p.get_int("planes", 1, 4)) : 1;
  const int ecmp = static_cast<int>(p.get_int("ecmp_paths", 0, 1024));
  const std::string balance = p.get_choice("load_balance", {"ecmp", "spray"});
  const int qps = static_cast<int>(p.get_int("qps_per_connection", 1, 64));
  // Switch-to-switch cables in NIC-port units (MegaScale: 400G uplinks over 200G ports, w = 2).
  const double nic_port = c.fabric.nic_bandwidth / l.planes;
  const double uplink = p.get_bandwidth("uplink_bandwidth", nic_port);
  const int w = static_cast<int>(std::lround(uplink / nic_port));
  if (w < 1 || std::abs(w * nic_port - uplink) > 1e-6 * uplink)
    throw ConfigError("/cluster/fabric/uplink_bandwidth",
                      "must be a whole multiple of the NIC-port speed nic_bandwidth / planes (" +
                          str(std::lround(nic_port * 8 / 1e9)) + "Gbps); give e.g. twice it");
  int supernode_nodes = 0;
  if (supernode) {
    supernode_nodes = static_cast<int>(p.get_int("supernode_size", 1, 1'000'000));
    o1 = 1.0;
    o2 = p.get_ratio("upper_oversubscription");
    l.tiers = c.nodes > supernode_nodes ? 3 : 2;
  }
  if (l.tiers < 3 && o2 != 1.0)
    throw ConfigError("/cluster/fabric/oversubscription", "gives a spine-tier ratio but the fabric has " +
                                                              str(l.tiers) + " tier(s); give one ratio or use tiers 3");
  // Leaf ports (in NIC-port units, one NIC port = nic_bandwidth / planes) split by the ratio.
  const int down_ports = std::max(1, static_cast<int>(radix * o1 / (1.0 + o1)));
  if (l.tiers == 1) {
    if (l.acc > radix)
      throw ConfigError("/cluster/fabric/tiers", "1 tier with switch_radix " + str(radix) + " connects at most " +
                                                     str(radix) + " NICs, but the cluster has " + str(l.acc) +
                                                     "; use tiers 2 or 3 or a larger switch_radix");
    l.nodes_per_group = l.nodes;
  } else if (!l.rails) {
    if (down_ports < l.per_node)
      throw ConfigError("/cluster/fabric/switch_radix", str(radix) + " leaves " + str(down_ports) +
                                                            " downlinks, fewer than the " + str(l.per_node) +
                                                            " NICs of one node; raise switch_radix");
    l.nodes_per_group = down_ports / l.per_node;
  } else {
    l.nodes_per_group = down_ports; // one NIC of each node per rail leaf
  }
  l.nodes_per_group = std::min(l.nodes_per_group, l.nodes);
  l.groups = (l.nodes + l.nodes_per_group - 1) / l.nodes_per_group;
  l.rails_n = l.rails && l.tiers > 1 ? l.per_node : 1;
  l.leaves = l.groups * l.rails_n;
  const int up_ports = radix - down_ports;
  if (l.tiers > 1 && ecmp > 0) {
    const int leaf_up =
        static_cast<int>(std::ceil(l.nodes_per_group * (l.rails ? 1 : l.per_node) / o1 / w - 1e-9)); // cables
    if (ecmp > leaf_up || leaf_up % ecmp != 0)
      throw ConfigError("/cluster/fabric/ecmp_paths", str(ecmp) + " does not divide the " + str(leaf_up) +
                                                          " uplink cables of a leaf; choose a divisor of " +
                                                          str(leaf_up) + " (or 0 for ideal load balancing)");
  }
  l.ideal = ecmp == 0;
  l.paths = std::max(1, ecmp);
  if (l.tiers == 3) {
    if (supernode) {
      const int groups_per_pod = (supernode_nodes + l.nodes_per_group - 1) / l.nodes_per_group;
      if (supernode_nodes % l.nodes_per_group != 0)
        throw ConfigError("/cluster/fabric/supernode_size",
                          str(supernode_nodes) + " nodes do not fill whole leaf switches of " + str(l.nodes_per_group) +
                              " nodes (radix " + str(radix) + "); choose a multiple of " + str(l.nodes_per_group));
      l.leaves_per_pod = groups_per_pod;
    } else {
      // A spine reaches one leaf per down cable of w ports.
      const int spine_down = std::max(1, static_cast<int>(radix * o2 / (1.0 + o2)) / w);
      const int groups_per_pod = std::max(1, spine_down / l.rails_n);
      l.leaves_per_pod = groups_per_pod * l.rails_n;
    }
    l.pods = (l.leaves + l.leaves_per_pod - 1) / l.leaves_per_pod;
    if (!supernode && l.pods > radix / w)
      throw ConfigError("/cluster/fabric/switch_radix", "3 tiers of radix " + str(radix) + " join at most " +
                                                            str(radix / w) + " pods, the cluster needs " + str(l.pods) +
                                                            "; raise switch_radix");
  } else {
    l.leaves_per_pod = l.leaves;
    l.pods = 1;
    if (l.tiers == 2 && l.leaves > radix / w)
      throw ConfigError("/cluster/fabric/tiers", "2 tiers of radix " + str(radix) + " join at most " + str(radix / w) +
                                                     " leaf switches, the cluster needs " + str(l.leaves) +
                                                     "; use tiers 3 or a larger switch_radix");
  }
  (void)up_ports;

  // Links: scale-up, NICs (all planes' ports of one NIC aggregated), leaf and pod trunks per path.
  const double nic = c.fabric.nic_bandwidth, lat = c.fabric.latency;
  const double port = nic / l.planes;
  l.su_base = add_scale_up(c, f, 0);
  l.nic_base = static_cast<int>(f.links().size());
  for (int a = 0; a < l.acc; ++a)
    f.add_link({"nic" + str(a), nic, lat, LinkKind::nic});
  std::vector<int> leaf_nics(static_cast<size_t>(l.leaves), 0);
  for (int a = 0; a < l.acc; ++a)
    ++leaf_nics[static_cast<size_t>(l.leaf_of(a))];
  std::vector<int> pod_nics(static_cast<size_t>(l.pods), 0);
  for (int x = 0; x < l.leaves; ++x)
    pod_nics[static_cast<size_t>(l.pod_of_leaf(x))] += leaf_nics[static_cast<size_t>(x)];
  auto trunk_name = [&](const char* what, int i, int s) {
    std::string name = what;
    name += str(i);
    if (!l.ideal) {
      name += '.';
      name += str(s);
    }
    return name;
  };
  l.leaf_up_base = static_cast<int>(f.links().size());
  if (l.tiers >= 2)
    for (int x = 0; x < l.leaves; ++x)
      for (int s = 0; s < l.paths; ++s)
        f.add_link({trunk_name("leafup", x, s), leaf_nics[static_cast<size_t>(x)] * nic / o1 / l.paths, lat,
                    LinkKind::leaf_uplink});
  l.pod_up_base = static_cast<int>(f.links().size());
  if (l.tiers == 3)
    for (int q = 0; q < l.pods; ++q)
      for (int s = 0; s < l.paths; ++s)
        f.add_link({trunk_name("podup", q, s), pod_nics[static_cast<size_t>(q)] * nic / (o1 * o2) / l.paths, lat,
                    LinkKind::pod_uplink});

  // Graph: every plane's switches explicit; a (pod, path) spine block and a path's core block stand for
  // as many identical switches as their ports need.
  auto cables = [&](double bw) { return static_cast<int>(std::ceil(bw / port - 1e-9)); };
  const int spine_down_ports = l.tiers == 3 ? std::max(1, static_cast<int>(radix * o2 / (1.0 + o2))) : radix;
  for (int q = 0; q < l.planes; ++q) {
    std::vector<int> leaf_v(static_cast<size_t>(l.leaves));
    for (int x = 0; x < l.leaves; ++x)
      leaf_v[static_cast<size_t>(x)] = f.add_vertex({VertexKind::leaf, x, 1, q, 1, radix});
    for (int a = 0; a < l.acc; ++a)
      f.add_edge(a, leaf_v[static_cast<size_t>(l.leaf_of(a))], l.nic_base + a, port);
    if (l.tiers < 2)
      continue;
    std::vector<int> core_v(static_cast<size_t>(l.paths), -1);
    if (l.tiers == 3)
      for (int s = 0; s < l.paths; ++s) {
        long down = 0;
        for (int pod = 0; pod < l.pods; ++pod)
          down += cables(pod_nics[static_cast<size_t>(pod)] * nic / (o1 * o2) / l.paths / l.planes);
        int sw = static_cast<int>((down + radix - 1) / radix);
        core_v[static_cast<size_t>(s)] = f.add_vertex({VertexKind::core, s, 3, q, sw, radix});
      }
    for (int pod = 0; pod < l.pods; ++pod)
      for (int s = 0; s < l.paths; ++s) {
        long down = 0;
        const int first = pod * l.leaves_per_pod, last = std::min(l.leaves, first + l.leaves_per_pod);
        for (int x = first; x < last; ++x)
          down += cables(leaf_nics[static_cast<size_t>(x)] * nic / o1 / l.paths / l.planes);
        int sw = static_cast<int>((down + spine_down_ports - 1) / spine_down_ports);
        int v = f.add_vertex({VertexKind::spine, pod * l.paths + s, 2, q, sw, radix});
        for (int x = first; x < last; ++x) {
          double bw = leaf_nics[static_cast<size_t>(x)] * nic / o1 / l.paths / l.planes;
          f.add_edge(leaf_v[static_cast<size_t>(x)], v, l.leaf_up_base + x * l.paths + s, bw, cables(bw));
        }
        if (l.tiers == 3) {
          double bw = pod_nics[static_cast<size_t>(pod)] * nic / (o1 * o2) / l.paths / l.planes;
          f.add_edge(v, core_v[static_cast<size_t>(s)], l.pod_up_base + pod * l.paths + s, bw, cables(bw));
        }
      }
  }
  f.set_router(std::make_shared<ClosRouter>(l));
  f.set_load_balance(nic, balance == "ecmp" && l.tiers > 1, w, qps);

  auto& sum = f.summary_mut();
  sum.pods = l.pods;
  sum.planes = l.planes;
  sum.ecmp_paths = ecmp;
  sum.load_balance = l.tiers > 1 ? balance : "";
  if (l.tiers >= 2)
    sum.oversubscription.push_back(o1);
  if (l.tiers == 3)
    sum.oversubscription.push_back(o2);
  double bis = nic;
  if (l.tiers == 3 && l.pods > 1)
    bis = nic / (o1 * o2);
  else if (l.tiers >= 2 && l.groups > 1)
    bis = nic / o1;
  f.set_structural_bisection(l.acc > 1 ? bis : 0);
  if (l.tiers >= 2)
    sum.notes.push_back(l.ideal ? "trunks: the cables of a tier aggregated per switch (ideal ECMP / adaptive routing)"
                                : "ECMP: each flow hashed (src, dst) onto one of " + str(l.paths) + " spine paths");
  if (l.planes > 1)
    sum.notes.push_back(str(l.planes) +
                        " planes: each NIC port on its own plane; links aggregate the planes "
                        "(exact when every flow is spread evenly over the ports, as NCCL channels are)");
  if (supernode)
    sum.notes.push_back("supernodes of " + str(supernode_nodes) +
                        " nodes, non-blocking inside; top tier a non-blocking block");
}

BuildFn clos_builder(ClosKind type)
{
  return [type](const scenario::Cluster& c, Params& p, Fabric& f) { build_clos(type, c, p, f); };
}

const ParamSpec ecmp{
    "ecmp_paths", "int", 0,
    "0: ideal load balancing, each tier's cables one trunk; k: each flow hashed onto one of k spine paths"};
const ParamSpec qps{"qps_per_connection", "int", 1,
                    "RDMA queue pairs per ring connection, each hashed on its own (NCCL_IB_QPS_PER_CONNECTION, "
                    "default 1); with load_balance ecmp each connection is this many balls"};
const ParamSpec uplink{"uplink_bandwidth", "bandwidth", "nic_bandwidth / planes",
                       "speed of one switch-to-switch cable above the leaves, a whole multiple of the NIC port "
                       "(MegaScale: 400Gbps over 200G NICs); a spine reaches one leaf per such cable"};
const ParamSpec balance{
    "load_balance", "string", "spray",
    "spray: packet spraying / adaptive routing, an even split; ecmp: each flow hashed onto one cable of a "
    "trunk, colliding flows share it (not the default yet: its reduced-fidelity proof fails with expert "
    "all-to-alls on the hashed trunks, docs/fabrics.md)"};

} // namespace

FabricModel fat_tree_model()
{
  return {"fat_tree",
          "folded Clos of 1-3 tiers; all NICs of a node on one leaf",
          {"tiers", "oversubscription", "switch_radix"},
          {ecmp, balance, qps, uplink},
          clos_builder(ClosKind::fat_tree),
          true};
}

FabricModel rail_optimized_model()
{
  return {"rail_optimized",
          "folded Clos of 1-3 tiers; NIC k of every node of a group on rail leaf k (Xingmai, HPN, MegaScale, DGX "
          "SuperPOD)",
          {"tiers", "oversubscription", "switch_radix"},
          {ecmp,
           balance,
           qps,
           uplink,
           {"planes", "int", 1, "network planes; each NIC's ports spread over them (Alibaba HPN: 2)"}},
          clos_builder(ClosKind::rail_optimized)};
}

FabricModel supernode_model()
{
  return {"supernode",
          "Sunway-style: non-blocking fat tree inside supernodes, oversubscribed tier between them",
          {"switch_radix"},
          {ecmp,
           balance,
           qps,
           uplink,
           {"supernode_size", "int", 256, "nodes per supernode (Sunway: 256)"},
           {"upper_oversubscription", "ratio", "16:3", "down:up ratio of the tier between supernodes (Sunway: 16:3)"}},
          clos_builder(ClosKind::supernode)};
}

} // namespace trainsim::topology
