#pragma once
#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::topology {

/// Which part of the fabric a link belongs to (also its tier for reporting).
enum class LinkKind { scale_up, nic, leaf_uplink, pod_uplink };
const char* to_string(LinkKind k);

/// A full-duplex link: `bandwidth` in each direction (bytes/s), `latency` per traversal (s).
struct LinkSpec {
  std::string name;
  double bandwidth = 0;
  double latency = 0;
  LinkKind kind = LinkKind::nic;
};

enum class VertexKind { accelerator, scale_up_switch, leaf, spine, core };

struct VertexProps {
  VertexKind kind = VertexKind::accelerator;
  int index = 0;
};
struct EdgeProps {
  int link = 0;
};
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, VertexProps, EdgeProps>;

/// One traversal of a link in a route; `up` is the direction from the lower to the higher tier.
struct Hop {
  int link = 0;
  bool up = true;
};

/// Summary figures of a generated fabric.
struct FabricSummary {
  long accelerators = 0;
  long nodes = 0;
  long leaves = 0;
  long pods = 0;
  long links = 0;
  double bisection_bandwidth_per_accelerator = 0; ///< bytes/s, per direction
  int diameter_hops = 0;                          ///< longest accelerator-to-accelerator route, in links
};

/// The cluster's fabric: every node a scale-up star of its accelerators; nodes joined by a fat tree or a
/// rail-optimized fabric. Switch-to-switch cables of one tier are aggregated into one trunk per switch
/// (ideal ECMP load balancing); oversubscription sets the trunk capacity. Routing is computed from the
/// structure, deterministically.
class Fabric {
public:
  static Fabric build(const scenario::Cluster& cluster);

  const std::vector<LinkSpec>& links() const { return links_; }
  const Graph& graph() const { return graph_; }
  int accelerators() const { return accelerators_; }
  int node_of(int accelerator) const { return accelerator / per_node_; }
  int leaf_of(int accelerator) const;
  int pod_of_leaf(int leaf) const { return leaf / leaves_per_pod_; }
  /// Appends the hops from accelerator `src` to accelerator `dst` (src != dst).
  void route(int src, int dst, std::vector<Hop>& out) const;
  FabricSummary summary() const;

private:
  void build_links(const scenario::Cluster& c);
  void build_graph();

  scenario::FabricType type_ = scenario::FabricType::fat_tree;
  int accelerators_ = 0;
  int per_node_ = 1;
  int nodes_ = 0;
  int tiers_ = 2;
  int nodes_per_leaf_ = 1; ///< fat tree: nodes under one leaf; rail: nodes in one rail group
  int leaves_ = 0;
  int leaves_per_pod_ = 1;
  int pods_ = 1;
  double bisection_per_accelerator_ = 0;
  // Link index bases.
  int scale_up_base_ = 0, nic_base_ = 0, leaf_up_base_ = 0, pod_up_base_ = 0;
  std::vector<LinkSpec> links_;
  Graph graph_;
};

} // namespace trainsim::topology
