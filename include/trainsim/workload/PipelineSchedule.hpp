#pragma once
#include "trainsim/core/Errors.hpp"

#include <string>
#include <vector>

namespace trainsim::workload {

/// What a pipeline step computes: a forward pass, a whole backward pass, or (zero-bubble schedules, Qi et
/// al. 2024) the backward split into its input-gradient part B and its weight-gradient part W.
enum class StepKind { forward, backward, backward_input, backward_weight };

/// One pass of one micro-batch through one model chunk on a pipeline rank.
struct PipelineStep {
  bool forward = true;
  int microbatch = 0;
  int chunk = 0; ///< model chunk (virtual stage = chunk * pp + stage)
  StepKind kind = StepKind::forward;
  /// DualPipe: this forward runs overlapped with the backward that follows it (an F&B chunk pair: each
  /// pass's all-to-all and pipeline transfers run beside the other's compute, DeepSeek-V3 Fig. 4).
  bool overlapped = false;
};

/// Megatron-LM's 1F1B order for `stage` (warm-up forwards, steady one-forward-one-backward, cool-down
/// backwards); the interleaved variant when vpp > 1. Throws core::InvalidArgument on bad arguments.
std::vector<PipelineStep> one_f_one_b(int pp, int vpp, int stage, int microbatches);

/// The pipeline schedules by name (/parallelism/schedule): 1f1b, interleaved, zb-h1, zb-v, dualpipe.
const std::vector<std::string>& schedule_names();
/// Whether a schedule splits the backward into B and W steps.
bool splits_backward(const std::string& schedule);

/// Qi et al. 2024's ZB-H1 order for `stage` (vpp 1): 1F1B's warm-up forwards and F/B alternation with the
/// backward split into B (input gradient) and W (weight gradient), stage s's W passes lagging its B passes
/// by s and filling the cool-down. Throws core::InvalidArgument on bad arguments.
std::vector<PipelineStep> zb_h1(int pp, int stage, int microbatches);

/// Qi et al. 2024's ZB-V order for `stage` (arXiv:2401.10241, its ZB-V section; the handcrafted V
/// schedule of sail-sg/zero-bubble-pipeline-parallelism): two chunks per rank in a V, chunk 0 virtual stage
/// `stage` (the micro-batch walking down the ranks), chunk 1 virtual stage 2 pp - 1 - `stage` (walking back
/// up, the loss on rank 0); 2 (pp - stage) - 1 warm-up forwards of chunk 0, then `stage` pairs of chunk 1 and
/// chunk 0 forwards, pp - `stage` rounds of a chunk 1 forward, B and W, the steady F B W of both chunks, the
/// cool-down B passes and the deferred W passes last. Needs pp >= 2 and m >= 2 pp - 1. Throws
/// core::InvalidArgument on bad arguments.
std::vector<PipelineStep> zb_v(int pp, int stage, int microbatches);

/// DeepSeek-V3's DualPipe order for `stage` (arXiv:2412.19437 sec. 3.2.1; the order of deepseek-ai/DualPipe's
/// `DualPipe.step`, its 8 phases): `m` micro-batches, m/2 entering at rank 0 (chunk 0) and m/2 at rank
/// pp - 1 (chunk 1, micro-batches numbered from 0 in each direction); the steady state runs forward and
/// backward chunks of the two directions as overlapped pairs (PipelineStep::overlapped), the first and last
/// backward passes split into B and W (zero bubble). Needs pp even and m even with m >= 2 pp. Throws
/// core::InvalidArgument on bad arguments.
std::vector<PipelineStep> dualpipe(int pp, int stage, int microbatches);

/// The step order of every stage under `schedule`. Throws core::InvalidArgument on an unknown schedule.
std::vector<std::vector<PipelineStep>> schedule_orders(const std::string& schedule, int pp, int vpp, int microbatches);

/// Micro-batch activations a stage holds at its peak under the schedule, in units of one micro-batch's
/// activations of the whole stage (all its chunks): 1F1B min(pp - stage, m); interleaved adds
/// (pp - 1) / vpp; zb-h1 pp on every stage (the first stage's 1F1B peak, Qi et al. 2024 sec. 2.1); zb-v 2 pp
/// chunk activations on every rank, i.e. pp micro-batches of the whole rank (1F1B's first stage); dualpipe
/// pp + 1 chunks' activations (DeepSeek-V3 Table 2), (pp + 1) / 2 of the rank's two chunks.
double in_flight_microbatches(const std::string& schedule, int pp, int vpp, int stage, long microbatches);

/// The bubble fraction of a step the schedule's closed form predicts, for equal stages with per-stage,
/// per-micro-batch forward `f`, input-gradient backward `b` and weight-gradient backward `w` (a chunk's
/// share with vpp > 1 is f/vpp, ...): bubble / (bubble + m (f + b + w)), with bubble
///   1f1b, interleaved: (p - 1)(f + b + w) / vpp   (interleaved, equal passes: (p-1)/(v m + p - 1))
///   zb-h1:             (p - 1)(f + b - w)          (Qi et al. 2024 Table 2; DeepSeek-V3 Table 2's ZB1P)
///   zb-v:              max((p-1) b, 2 (p-1)(b - w), (p-1)(2f - b) - (f - b), (p-1) w - (w - max(f, b))) / 2
///                      with f, b, w of the rank's two chunks (a chunk's pass is half): the makespan of its
///                      order minus the busy time, exact for b >= f; (p - 1) f / 2 (the last rank's start, one
///                      chunk forward per rank) when f = b = w, where the paper, not counting the start (its
///                      optimizer post-validation overlaps it with the previous step), reports zero
///   dualpipe:          (p/2 - 1)(F&B + B - 3W)     (DeepSeek-V3 Table 2, B the whole backward b + w, F&B an
///                      overlapped pair counted as f + b + w): (p/2 - 1)(f + 2b - w), with f, b, w per chunk
/// each at least 0. Uneven stages (`imbalance` x: the busiest stage's time over the mean stage's, above 1):
/// the busiest stage paces the steady state, so a step lasts bubble + m x t and the mean stage idles besides
/// for m (x - 1) t: (bubble + m (x - 1) t) / (bubble + m x t), t = f + b + w.
double bubble_closed_form(const std::string& schedule, int pp, int vpp, long microbatches, double f, double b, double w,
                          double imbalance = 1);

} // namespace trainsim::workload
