#pragma once
#include <memory>
#include <utility>
#include <vector>

namespace trainsim::scenario {

/// Coordinates of a rank in the 3-D parallel grid.
struct RankCoord {
  int tp = 0;
  int dp = 0;
  int pp = 0;
};

/// Where the ranks of the parallelism run: Megatron-LM's default rank order, tensor-parallel ranks fastest
/// (inside a node), then data-parallel, then pipeline stages; rank r runs on accelerator r. A function of
/// /parallelism alone, so it lives in `scenario`; topology, workload and sim name it topology::Placement.
class Placement {
public:
  Placement(int tp, int dp, int pp) : tp_(tp), dp_(dp), pp_(pp) {}
  /// A job placed on nodes of a larger, shared fabric (`trainsim cluster`, docs/cluster.md): its node k (ranks
  /// k*per_node .. k*per_node+per_node-1 in the order above) is the fabric's node nodes[k].
  Placement(int tp, int dp, int pp, std::vector<int> nodes, int per_node)
      : tp_(tp), dp_(dp), pp_(pp), per_node_(per_node),
        nodes_(std::make_shared<const std::vector<int>>(std::move(nodes)))
  {
  }
  int accelerator(RankCoord c) const
  {
    const int r = c.tp + tp_ * (c.dp + dp_ * c.pp);
    return nodes_ ? (*nodes_)[static_cast<size_t>(r / per_node_)] * per_node_ + r % per_node_ : r;
  }
  /// The rank coordinates of an accelerator of an unmapped placement (rank r on accelerator r).
  RankCoord coord(int accelerator) const
  {
    return {accelerator % tp_, (accelerator / tp_) % dp_, accelerator / (tp_ * dp_)};
  }
  /// Whether ranks run on nodes of a shared fabric (the constructor with `nodes`).
  bool mapped() const { return nodes_ != nullptr; }
  int tp() const { return tp_; }
  int dp() const { return dp_; }
  int pp() const { return pp_; }

private:
  int tp_, dp_, pp_;
  int per_node_ = 1;
  std::shared_ptr<const std::vector<int>> nodes_; ///< null: rank r on accelerator r
};

} // namespace trainsim::scenario
