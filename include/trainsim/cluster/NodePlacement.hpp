#pragma once
#include <string>
#include <vector>

namespace trainsim::topology {
class Fabric;
}

namespace trainsim::cluster {

/// Where a job's nodes go in its pool (docs/cluster.md, "Jobs sharing the fabric"). `none`: the job does not
/// share a simulation with others (its step time is its own, as on a fabric of its own) and takes the
/// lowest-numbered free nodes.
enum class PlacementPolicy { none, packed, spread, topology_aware, nodes };

/// /jobs/N/placement: a policy name, or {"nodes": ["0-7", "16"]} (explicit node ranges of the pool).
struct PlacementSpec {
  PlacementPolicy policy = PlacementPolicy::none;
  std::vector<int> nodes; ///< `nodes`: the pool's nodes, in the job's node order
};

/// packed, spread, topology_aware (the names /jobs/N/placement takes besides {"nodes": [...]}).
std::vector<std::string> placement_names();
const char* to_string(PlacementPolicy p);

/// A pool's nodes as the placement sees them: each node's first-tier switch (of its NIC 0) and pod.
struct NodeTopology {
  std::vector<int> leaf, pod;
  static NodeTopology of(const topology::Fabric& fabric);
};

/// The nodes a job of `count` nodes takes under `spec` among the pool's `free` ones (free[n] != 0), in the
/// job's node order; empty when it cannot be placed now (explicit nodes not all free, too few free nodes).
///  - packed (and none): the lowest-numbered free nodes (they fill leaves and pods in order);
///  - spread: one node per pod in turn (per leaf on fabrics of one pod), lowest first in each;
///  - topology_aware: the fewest leaves, then pods: one leaf if one holds it (the fullest that does), else one
///    pod (the fullest that does, its leaves fullest first), else pods by free nodes, most first.
std::vector<int> place_nodes(const PlacementSpec& spec, int count, const std::vector<char>& free,
                             const NodeTopology& topo);

/// "0-5,12,14-15": sorted ranges of nodes (for reports and keys).
std::string node_ranges(std::vector<int> nodes);
/// Parses one range "3" or "0-7" (throws core::ConfigError at `pointer`).
std::vector<int> parse_node_range(const std::string& text, int pool_nodes, const std::string& pointer);

} // namespace trainsim::cluster
