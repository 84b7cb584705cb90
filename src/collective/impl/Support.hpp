#pragma once
#include <string>
#include <vector>

#include "trainsim/collective/Collective.hpp"

// Reasons shared by several algorithms' why_unsupported (src/collective/impl only).
namespace trainsim::collective::impl {

/// An all_to_all-only algorithm's reason: empty for all_to_all, else which algorithms to use instead.
inline std::string all_to_all_only(const std::string& name, CollectiveKind kind)
{
  if (kind == CollectiveKind::all_to_all)
    return "";
  return name + " is an all_to_all algorithm, not " + to_string(kind) +
         "; use ring, double_binary_tree, halving_doubling, hierarchical or in_network";
}

/// Empty when every node holds as many of the group's members as the first (Topology::nodes), else why `name`
/// needs it.
inline std::string uneven_members(const std::string& name, const std::vector<std::vector<int>>& nodes)
{
  const size_t L = nodes.front().size();
  for (const auto& n : nodes)
    if (n.size() != L)
      return name + " needs the same number of group members on every node (found " + std::to_string(L) + " and " +
             std::to_string(n.size()) + ")";
  return "";
}

} // namespace trainsim::collective::impl
