#pragma once

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
  int accelerator(RankCoord c) const { return c.tp + tp_ * (c.dp + dp_ * c.pp); }
  RankCoord coord(int accelerator) const
  {
    return {accelerator % tp_, (accelerator / tp_) % dp_, accelerator / (tp_ * dp_)};
  }
  int tp() const { return tp_; }
  int dp() const { return dp_; }
  int pp() const { return pp_; }

private:
  int tp_, dp_, pp_;
};

} // namespace trainsim::scenario
