#include "trainsim/workload/Sharding.hpp"

#include <algorithm>
#include <cmath>

#include "trainsim/workload/Memory.hpp"

namespace trainsim::workload {

namespace {

/// DeepSpeed's release rule at the forward/backward turn (PartitionedParameterCoordinator): a gathered
/// parameter is not released when the modules run before its next use hold fewer than
/// stage3_max_reuse_distance parameters. With one chunk run forward then backward, the piece at forward
/// position i is next used after the pieces behind it twice (their forward, then their backward): kept when
/// 2 * (parameters after it) < max_reuse_distance, and while the resident total stays within
/// stage3_max_live_parameters. Returns the parameters kept.
double keep_for_backward(const scenario::Parallelism::DeepSpeedZero& z, const std::vector<double>& pieces,
                         std::vector<char>& gather, double window)
{
  double after = 0, kept = 0;
  for (size_t k = pieces.size(); k-- > 0;) {
    if (2.0 * after >= z.max_reuse_distance || kept + pieces[k] + window > z.max_live_parameters)
      break;
    gather[k] = 0;
    kept += pieces[k];
    after += pieces[k];
  }
  return kept;
}

} // namespace

ShardPlan shard_plan(const scenario::Scenario& s, const ModelShape& shape, int stage)
{
  const auto& p = s.parallelism;
  ShardPlan plan;
  plan.shard = p.shard_ranks();
  plan.shard_replicas = std::max(1, s.grad_replicas() / plan.shard);
  plan.prefetch = p.zero_prefetch;
  double total = 0;
  for (int c = 0; c < p.chunks(); ++c) {
    std::vector<double> pieces;
    for (double u : zero3_units(s, shape, stage, c)) {
      const int n = p.zero ? std::max(1, static_cast<int>(std::ceil(u / p.zero->prefetch_bucket))) : 1;
      for (int i = 0; i < n; ++i)
        pieces.push_back(u / n);
    }
    for (double x : pieces) {
      plan.largest = std::max(plan.largest, x);
      total += x;
    }
    plan.backward_gather.emplace_back(pieces.size(), p.reshard_after_forward ? 1 : 0);
    plan.pieces.push_back(std::move(pieces));
  }
  if (!p.reshard_after_forward) {
    plan.held = total; // SHARD_GRAD_OP: every unit stays gathered from its forward to its backward
  } else if (p.zero) {
    // The prefetch loop adds the next pieces while fewer than prefetch_bucket_size parameters are in flight.
    const double layer = shape.layer_params / p.tp;
    const double piece = layer / std::max(1.0, std::ceil(layer / p.zero->prefetch_bucket));
    plan.prefetch = std::max(1, static_cast<int>(std::ceil(p.zero->prefetch_bucket / piece)));
    plan.reduce_bucket = p.zero->reduce_bucket;
    const double window = (1.0 + plan.prefetch) * plan.largest;
    plan.held = window + keep_for_backward(*p.zero, plan.pieces.front(), plan.backward_gather.front(), window);
  } else {
    plan.held = (1.0 + plan.prefetch) * plan.largest; // the unit computing and those prefetched
  }
  plan.held = std::min(plan.held, total);
  return plan;
}

} // namespace trainsim::workload
