#include "trainsim/cluster/NodePlacement.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "trainsim/core/Errors.hpp"
#include "trainsim/topology/Fabric.hpp"

namespace trainsim::cluster {

std::vector<std::string> placement_names()
{
  return {"packed", "spread", "topology_aware"};
}

const char* to_string(PlacementPolicy p)
{
  switch (p) {
  case PlacementPolicy::none:
    return "none";
  case PlacementPolicy::packed:
    return "packed";
  case PlacementPolicy::spread:
    return "spread";
  case PlacementPolicy::topology_aware:
    return "topology_aware";
  case PlacementPolicy::nodes:
    return "nodes";
  }
  return "none";
}

NodeTopology NodeTopology::of(const topology::Fabric& fabric)
{
  NodeTopology t;
  for (int n = 0; n < fabric.nodes(); ++n) {
    const int leaf = fabric.leaf_of(n * fabric.accelerators_per_node());
    t.leaf.push_back(leaf);
    t.pod.push_back(fabric.pod_of_leaf(leaf));
  }
  return t;
}

namespace {

/// The free nodes of each group (a leaf or a pod), ascending, in group order.
std::vector<std::vector<int>> free_by(const std::vector<int>& group, const std::vector<char>& free)
{
  std::map<int, std::vector<int>> by;
  for (size_t n = 0; n < free.size(); ++n)
    if (free[n])
      by[group[n]].push_back(static_cast<int>(n));
  std::vector<std::vector<int>> out;
  for (auto& [g, nodes] : by)
    out.push_back(std::move(nodes));
  return out;
}

/// Groups fullest first (most free nodes; ties by group order).
void fullest_first(std::vector<std::vector<int>>& groups)
{
  std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

/// The group that holds `count` with the fewest free nodes (best fit; ties by group order), or null.
const std::vector<int>* best_fit(const std::vector<std::vector<int>>& groups, int count)
{
  const std::vector<int>* best = nullptr;
  for (const auto& g : groups)
    if (static_cast<int>(g.size()) >= count && (best == nullptr || g.size() < best->size()))
      best = &g;
  return best;
}

std::vector<int> spread(int count, const std::vector<char>& free, const NodeTopology& topo)
{
  const bool pods = std::set<int>(topo.pod.begin(), topo.pod.end()).size() > 1;
  auto groups = free_by(pods ? topo.pod : topo.leaf, free);
  std::vector<int> out;
  for (size_t round = 0; static_cast<int>(out.size()) < count; ++round) {
    bool any = false;
    for (const auto& g : groups)
      if (round < g.size() && static_cast<int>(out.size()) < count) {
        out.push_back(g[round]);
        any = true;
      }
    if (!any)
      return {};
  }
  return out;
}

std::vector<int> topology_aware(int count, const std::vector<char>& free, const NodeTopology& topo)
{
  const auto leaves = free_by(topo.leaf, free);
  if (const auto* leaf = best_fit(leaves, count))
    return std::vector<int>(leaf->begin(), leaf->begin() + count);
  std::vector<int> out;
  auto take_pod = [&](const std::vector<int>& pod_nodes) { // the pod's leaves, fullest first
    std::vector<char> in_pod(free.size(), 0);
    for (int n : pod_nodes)
      in_pod[static_cast<size_t>(n)] = 1;
    auto leaves = free_by(topo.leaf, in_pod);
    fullest_first(leaves);
    for (const auto& l : leaves)
      for (int n : l)
        if (static_cast<int>(out.size()) < count)
          out.push_back(n);
  };
  auto pods = free_by(topo.pod, free);
  if (const auto* pod = best_fit(pods, count)) {
    take_pod(*pod);
    return out;
  }
  fullest_first(pods);
  for (const auto& p : pods)
    take_pod(p);
  return static_cast<int>(out.size()) == count ? out : std::vector<int>();
}

} // namespace

std::vector<int> place_nodes(const PlacementSpec& spec, int count, const std::vector<char>& free,
                             const NodeTopology& topo)
{
  const long available = std::count_if(free.begin(), free.end(), [](char c) { return c != 0; });
  if (count <= 0 || available < count)
    return {};
  switch (spec.policy) {
  case PlacementPolicy::nodes:
    for (int n : spec.nodes)
      if (n < 0 || static_cast<size_t>(n) >= free.size() || !free[static_cast<size_t>(n)])
        return {};
    return spec.nodes;
  case PlacementPolicy::spread:
    return spread(count, free, topo);
  case PlacementPolicy::topology_aware:
    return topology_aware(count, free, topo);
  case PlacementPolicy::none:
  case PlacementPolicy::packed:
    break;
  }
  std::vector<int> out;
  for (size_t n = 0; n < free.size() && static_cast<int>(out.size()) < count; ++n)
    if (free[n])
      out.push_back(static_cast<int>(n));
  return out;
}

std::string node_ranges(std::vector<int> nodes)
{
  std::sort(nodes.begin(), nodes.end());
  std::string out;
  for (size_t i = 0; i < nodes.size();) {
    size_t k = i;
    while (k + 1 < nodes.size() && nodes[k + 1] == nodes[k] + 1)
      ++k;
    out += (out.empty() ? "" : ",") + std::to_string(nodes[i]);
    if (k > i)
      out += "-" + std::to_string(nodes[k]);
    i = k + 1;
  }
  return out;
}

std::vector<int> parse_node_range(const std::string& text, int pool_nodes, const std::string& pointer)
{
  auto bad = [&](const std::string& why) {
    return core::ConfigError(pointer, "\"" + text + "\": " + why +
                                          "; write a node \"3\" or a range \"0-7\" of the pool's "
                                          "nodes 0-" +
                                          std::to_string(pool_nodes - 1));
  };
  auto number = [&](const std::string& s) {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw bad("not a node number");
    return std::stoi(s);
  };
  const auto dash = text.find('-');
  const int first = number(text.substr(0, dash));
  const int last = dash == std::string::npos ? first : number(text.substr(dash + 1));
  if (last < first)
    throw bad("the range ends before it starts");
  if (last >= pool_nodes)
    throw bad("beyond the pool");
  std::vector<int> out;
  for (int n = first; n <= last; ++n)
    out.push_back(n);
  return out;
}

} // namespace trainsim::cluster
