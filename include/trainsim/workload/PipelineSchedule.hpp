#pragma once
#include <vector>

namespace trainsim::workload {

/// One pass of one micro-batch through one model chunk on a pipeline rank.
struct PipelineStep {
  bool forward = true;
  int microbatch = 0;
  int chunk = 0; ///< model chunk (virtual stage = chunk * pp + stage)
};

/// Megatron-LM's 1F1B order for `stage` (warm-up forwards, steady one-forward-one-backward, cool-down
/// backwards); the interleaved variant when vpp > 1. Throws std::invalid_argument on bad arguments.
std::vector<PipelineStep> one_f_one_b(int pp, int vpp, int stage, int microbatches);

} // namespace trainsim::workload
