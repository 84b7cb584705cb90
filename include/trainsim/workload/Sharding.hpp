#pragma once
#include <vector>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/workload/ModelShape.hpp"

namespace trainsim::workload {

/// How one pipeline stage's ZeRO-3 / FSDP parameters are gathered, kept and reduced (docs/sharding.md).
/// Counts are parameters one TP rank holds unsharded.
struct ShardPlan {
  /// Per model chunk, in forward order: the parameters of each all-gather. FSDP (and the plain ZeRO-3
  /// schedule): one per unit (a transformer layer; the embedding joins the first, the tied output copy the
  /// last). DeepSpeed: each layer in ceil(params / prefetch_bucket_size) equal buckets.
  std::vector<std::vector<double>> pieces;
  /// Per chunk and piece: all-gathered again in backward (false: kept gathered from the forward pass:
  /// SHARD_GRAD_OP, or DeepSpeed's pieces reused within max_reuse_distance at the forward/backward turn).
  std::vector<std::vector<char>> backward_gather;
  int prefetch = 1;         ///< all-gathers in flight ahead of the piece computing
  double reduce_bucket = 0; ///< DeepSpeed: gradient elements per reduce-scatter; 0: one per piece (FSDP)
  double held = 0;          ///< gathered parameters resident at the peak (the unit or bucket computing, those
                            ///< prefetched, those kept for backward), at most the stage's parameters
  double largest = 0;       ///< the largest piece
  int shard = 1;            ///< ranks a parameter is sharded over (HSDP: fsdp_shard_group)
  int shard_replicas = 1;   ///< HSDP: replicas of each shard, across which the gradient shard is all-reduced
};

ShardPlan shard_plan(const scenario::Scenario& s, const ModelShape& shape, int stage);

} // namespace trainsim::workload
