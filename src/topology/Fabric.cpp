#include "trainsim/topology/Fabric.hpp"

#include <algorithm>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/connected_components.hpp>

#include "trainsim/core/Errors.hpp"

namespace trainsim::topology {

using core::ConfigError;
using scenario::FabricType;

const char* to_string(LinkKind k)
{
  switch (k) {
  case LinkKind::scale_up: return "scale_up";
  case LinkKind::nic: return "nic";
  case LinkKind::leaf_uplink: return "leaf_uplink";
  case LinkKind::pod_uplink: return "pod_uplink";
  }
  return "?";
}

Fabric Fabric::build(const scenario::Cluster& c)
{
  Fabric f;
  f.type_ = c.fabric.type;
  f.per_node_ = c.accelerators_per_node;
  f.nodes_ = c.nodes;
  f.accelerators_ = static_cast<int>(c.total_accelerators());
  f.tiers_ = c.fabric.tiers;
  const int radix = c.fabric.switch_radix;
  const double o = c.fabric.oversubscription;
  // Leaf ports split between down- and uplinks by the oversubscription ratio.
  const int down_ports = std::max(1, static_cast<int>(radix * o / (1.0 + o)));
  if (f.tiers_ == 1) {
    if (f.accelerators_ > radix)
      throw ConfigError("/cluster/fabric/tiers", "1 tier with switch_radix " + std::to_string(radix) +
                                                     " connects at most " + std::to_string(radix) + " NICs, but the cluster has " +
                                                     std::to_string(f.accelerators_) + "; use tiers 2 or 3 or a larger switch_radix");
    f.nodes_per_leaf_ = f.nodes_;
  } else if (f.type_ == FabricType::fat_tree) {
    if (down_ports < f.per_node_)
      throw ConfigError("/cluster/fabric/switch_radix", std::to_string(radix) + " leaves " + std::to_string(down_ports) +
                                                            " downlinks, fewer than the " + std::to_string(f.per_node_) +
                                                            " NICs of one node; raise switch_radix");
    f.nodes_per_leaf_ = down_ports / f.per_node_;
  } else {
    f.nodes_per_leaf_ = down_ports; // one NIC of each node per rail leaf
  }
  f.nodes_per_leaf_ = std::min(f.nodes_per_leaf_, f.nodes_);
  const int groups = (f.nodes_ + f.nodes_per_leaf_ - 1) / f.nodes_per_leaf_;
  const int rails = f.type_ == FabricType::rail_optimized && f.tiers_ > 1 ? f.per_node_ : 1;
  f.leaves_ = groups * rails;
  // A pod is what one tier-2 switch layer joins: radix/2 leaves (whole rail groups for rail fabrics).
  if (f.tiers_ == 3) {
    int groups_per_pod = std::max(1, (radix / 2) / rails);
    f.leaves_per_pod_ = groups_per_pod * rails;
    f.pods_ = (f.leaves_ + f.leaves_per_pod_ - 1) / f.leaves_per_pod_;
    if (f.pods_ > radix)
      throw ConfigError("/cluster/fabric/switch_radix", "3 tiers of radix " + std::to_string(radix) + " join at most " +
                                                            std::to_string(radix) + " pods, the cluster needs " +
                                                            std::to_string(f.pods_) + "; raise switch_radix");
  } else {
    f.leaves_per_pod_ = f.leaves_;
    f.pods_ = 1;
    if (f.tiers_ == 2 && f.leaves_ > radix)
      throw ConfigError("/cluster/fabric/tiers", "2 tiers of radix " + std::to_string(radix) + " join at most " +
                                                     std::to_string(radix) + " leaf switches, the cluster needs " +
                                                     std::to_string(f.leaves_) + "; use tiers 3 or a larger switch_radix");
  }
  f.build_links(c);
  f.build_graph();
  return f;
}

int Fabric::leaf_of(int acc) const
{
  int group = node_of(acc) / nodes_per_leaf_;
  if (type_ == FabricType::rail_optimized && tiers_ > 1)
    return group * per_node_ + acc % per_node_;
  return group;
}

void Fabric::build_links(const scenario::Cluster& c)
{
  const double nic = c.fabric.nic_bandwidth;
  const double lat = c.fabric.latency;
  links_.reserve(static_cast<size_t>(2 * accelerators_ + leaves_ + pods_));
  scale_up_base_ = 0;
  for (int a = 0; a < accelerators_; ++a)
    links_.push_back({"su" + std::to_string(a), c.scale_up.bandwidth, c.scale_up.latency, LinkKind::scale_up});
  nic_base_ = static_cast<int>(links_.size());
  for (int a = 0; a < accelerators_; ++a)
    links_.push_back({"nic" + std::to_string(a), nic, lat, LinkKind::nic});
  leaf_up_base_ = static_cast<int>(links_.size());
  // Trunk capacity: the NIC capacity under the leaf divided by the oversubscription ratio.
  const double o = c.fabric.oversubscription;
  // NICs under each leaf (the last rail group may be partial).
  std::vector<double> leaf_nics(static_cast<size_t>(leaves_), 0.0);
  for (int a = 0; a < accelerators_; ++a)
    leaf_nics[static_cast<size_t>(leaf_of(a))] += 1;
  if (tiers_ >= 2)
    for (int l = 0; l < leaves_; ++l)
      links_.push_back({"leafup" + std::to_string(l), leaf_nics[static_cast<size_t>(l)] * nic / o, lat, LinkKind::leaf_uplink});
  pod_up_base_ = static_cast<int>(links_.size());
  if (tiers_ == 3) {
    std::vector<double> pod_nics(static_cast<size_t>(pods_), 0.0);
    for (int l = 0; l < leaves_; ++l)
      pod_nics[static_cast<size_t>(pod_of_leaf(l))] += leaf_nics[static_cast<size_t>(l)];
    for (int p = 0; p < pods_; ++p)
      links_.push_back({"podup" + std::to_string(p), pod_nics[static_cast<size_t>(p)] * nic / o, lat, LinkKind::pod_uplink});
  }
  bisection_per_accelerator_ = (tiers_ >= 2 && leaves_ > 1) ? nic / o : nic;
}

void Fabric::build_graph()
{
  // Vertices: accelerators, one scale-up switch per node, leaves, one spine block per pod, one core block.
  const int v_su = accelerators_;
  const int v_leaf = v_su + nodes_;
  const int v_spine = v_leaf + leaves_;
  const int v_core = v_spine + (tiers_ >= 2 ? pods_ : 0);
  const int n = v_core + (tiers_ == 3 ? 1 : 0);
  graph_ = Graph(static_cast<size_t>(n));
  for (int a = 0; a < accelerators_; ++a)
    graph_[a] = {VertexKind::accelerator, a};
  for (int i = 0; i < nodes_; ++i)
    graph_[v_su + i] = {VertexKind::scale_up_switch, i};
  for (int l = 0; l < leaves_; ++l)
    graph_[v_leaf + l] = {VertexKind::leaf, l};
  for (int a = 0; a < accelerators_; ++a) {
    boost::add_edge(a, v_su + node_of(a), EdgeProps{scale_up_base_ + a}, graph_);
    boost::add_edge(a, v_leaf + leaf_of(a), EdgeProps{nic_base_ + a}, graph_);
  }
  if (tiers_ >= 2) {
    for (int p = 0; p < pods_; ++p)
      graph_[v_spine + p] = {VertexKind::spine, p};
    for (int l = 0; l < leaves_; ++l)
      boost::add_edge(v_leaf + l, v_spine + pod_of_leaf(l), EdgeProps{leaf_up_base_ + l}, graph_);
  }
  if (tiers_ == 3) {
    graph_[v_core] = {VertexKind::core, 0};
    for (int p = 0; p < pods_; ++p)
      boost::add_edge(v_spine + p, v_core, EdgeProps{pod_up_base_ + p}, graph_);
  }
  std::vector<int> component(boost::num_vertices(graph_));
  int count = boost::connected_components(graph_, component.data());
  if (count != 1)
    throw core::Error("internal: generated fabric is not connected (" + std::to_string(count) + " components)");
}

void Fabric::route(int src, int dst, std::vector<Hop>& out) const
{
  if (node_of(src) == node_of(dst)) {
    out.push_back({scale_up_base_ + src, true});
    out.push_back({scale_up_base_ + dst, false});
    return;
  }
  out.push_back({nic_base_ + src, true});
  int ls = leaf_of(src), ld = leaf_of(dst);
  if (ls != ld) {
    out.push_back({leaf_up_base_ + ls, true});
    int ps = pod_of_leaf(ls), pd = pod_of_leaf(ld);
    if (ps != pd) {
      out.push_back({pod_up_base_ + ps, true});
      out.push_back({pod_up_base_ + pd, false});
    }
    out.push_back({leaf_up_base_ + ld, false});
  }
  out.push_back({nic_base_ + dst, false});
}

FabricSummary Fabric::summary() const
{
  FabricSummary s;
  s.accelerators = accelerators_;
  s.nodes = nodes_;
  s.leaves = leaves_;
  s.pods = pods_;
  s.links = static_cast<long>(links_.size());
  s.bisection_bandwidth_per_accelerator = bisection_per_accelerator_;
  s.diameter_hops = nodes_ == 1 ? 2 : tiers_ == 1 || leaves_ == 1 ? 2 : (pods_ > 1 ? 6 : 4);
  return s;
}

} // namespace trainsim::topology
