#include "trainsim/workload/Memory.hpp"

#include <algorithm>
#include <cstdio>

#include "trainsim/core/Errors.hpp"

namespace trainsim::workload {

using scenario::Attention;
using scenario::Recompute;

double stage_params_per_rank(const scenario::Scenario& s, const ModelShape& shape, int stage)
{
  const auto& p = s.parallelism;
  const double layers = static_cast<double>(s.model.layers) / p.pp;
  double params = layers * shape.layer_params / p.tp;
  if (stage == 0)
    params += shape.embedding_params / p.tp;
  if (stage == p.pp - 1 && p.pp > 1)
    params += shape.embedding_params / p.tp; // tied output layer, a copy on the last stage
  return params;
}

namespace {

/// Activation bytes of one layer for one micro-batch on one TP rank.
double layer_activation_bytes(const scenario::Scenario& s, const ModelShape& shape)
{
  const double t = s.parallelism.tp, b = s.training.micro_batch_size, sq = s.model.seq_length;
  const double h = s.model.hidden_size, f = s.model.ffn_hidden_size, a = s.model.attention_heads;
  const double sbh = sq / s.parallelism.cp * b * h; // context parallel: seq/cp tokens per rank
  const bool drop = s.model.dropout > 0;
  const bool sp = s.parallelism.sequence_parallel;
  if (s.training.recompute == Recompute::full)
    return 2.0 * sbh / (sp ? t : 1.0); // only the layer input is kept
  // Units of sbh bytes (2-byte activations, 1-byte dropout masks), after Korthikanti et al. Table 2.
  const double kv = shape.kv_dim / h;
  // FP8 (Transformer Engine): the inputs of the FP8 GEMMs are saved for the weight gradient as FP8, 1 byte.
  const double g = s.training.precision == scenario::Precision::fp8 ? 1 : 2;
  const double attn_sharded = 2 /*Q*/ + 2 * kv /*K*/ + 2 * kv /*V*/ + g /*proj input*/;
  const double mlp_sharded = (shape.mlp_matrices == 2) ? 2 * f / h + g * f / h : 4 * f / h + g * f / h;
  const double replicated = 4 /*norm inputs*/ + g /*QKV input*/ + g /*fc1 input*/ + (drop ? 2 : 0) /*masks*/;
  double per = (attn_sharded + mlp_sharded) / t + replicated / (sp ? t : 1.0);
  double core = 0;
  if (s.training.attention == Attention::standard && s.training.recompute == Recompute::none)
    core = (drop ? 5.0 : 2.0) * a * sq * sq * b / t; // scores, softmax output, dropout mask and output
  return per * sbh + core;
}

} // namespace

MemoryBreakdown estimate_memory(const scenario::Scenario& s, const ModelShape& shape, const scenario::Calibration& cal)
{
  const auto& p = s.parallelism;
  const long m = s.micro_batches_per_replica();
  MemoryBreakdown worst;
  const double per_layer = layer_activation_bytes(s, shape);
  const double layers_per_stage = static_cast<double>(s.model.layers) / p.pp;
  for (int stage = 0; stage < p.pp; ++stage) {
    MemoryBreakdown mb;
    mb.stage = stage;
    const double params = stage_params_per_rank(s, shape, stage);
    mb.weights = 2.0 * params;   // bf16/fp16 model weights
    // FP8: Transformer Engine caches an FP8 copy of each linear layer's weights and its transpose (1 + 1
    // bytes) beside the 16-bit weights; with FP8 primary weights that cache is all there is of them.
    if (s.training.precision == scenario::Precision::fp8 && !s.training.fp8_params)
      mb.weights += 2.0 * layers_per_stage * shape.layer_params / p.tp;
    mb.gradients = 4.0 * params; // fp32 main gradients (accumulated across micro-batches)
    mb.optimizer = 12.0 * params / (p.zero_stage >= 1 ? s.grad_replicas() : 1); // fp32 master weights, Adam m and v
    if (p.zero_stage >= 1 && s.training.grad_reduce_bytes < 4) {
      // Megatron-core distributed optimizer with 16-bit gradient reduction: the gradient buffer has the
      // reduce type; each rank keeps fp32 master weights, Adam m and v of its shard (its fp32 gradient
      // shard is a transient of the optimizer step, inside the workspace).
      mb.gradients = s.training.grad_reduce_bytes * params;
    }
    // 1F1B: stage s holds min(pp - s, m) micro-batches; interleaving adds (pp-1)/(pp*vpp) of a round.
    double in_flight = std::min<double>(p.pp - stage, static_cast<double>(m));
    if (p.vpp > 1)
      in_flight = std::min<double>(static_cast<double>(m), (p.pp - stage) + (p.pp - 1.0) / p.vpp);
    mb.activations = per_layer * layers_per_stage * in_flight;
    if (s.training.recompute == Recompute::full) {
      // The layer being recomputed holds its full activations once.
      scenario::Scenario none = s;
      none.training.recompute = Recompute::none;
      mb.activations += layer_activation_bytes(none, shape);
    }
    if (stage == p.pp - 1) // fp32 logits and their gradient
      mb.activations += 2.0 * 4.0 * s.training.micro_batch_size * s.model.seq_length / p.cp *
                        static_cast<double>(s.model.vocab_size) / p.tp;
    mb.workspace = cal.workspace_bytes;
    mb.capacity = s.cluster.accelerator.memory_bytes * cal.memory_usable_fraction;
    if (stage == 0 || mb.total() > worst.total())
      worst = mb;
  }
  return worst;
}

std::string MemoryBreakdown::describe() const
{
  char buf[256];
  const double g = 1073741824.0;
  std::snprintf(buf, sizeof buf,
                "weights %.1f GiB + gradients %.1f GiB + optimizer %.1f GiB + activations %.1f GiB + workspace %.1f GiB = %.1f GiB",
                weights / g, gradients / g, optimizer / g, activations / g, workspace / g, total() / g);
  return buf;
}

void check_fits(const MemoryBreakdown& m, const scenario::Scenario& s)
{
  if (m.total() <= m.capacity)
    return;
  char cap[64];
  std::snprintf(cap, sizeof cap, "%.1f GiB", m.capacity / 1073741824.0);
  throw core::InfeasibleError("/parallelism", "out of memory on pipeline stage " + std::to_string(m.stage) + ": " +
                                                  m.describe() + " exceeds the usable " + cap + " of " +
                                                  s.cluster.accelerator.id +
                                                  "; raise tp or pp, use recompute" +
                                                  (s.parallelism.zero_stage == 0 ? std::string(", zero_stage 1") : std::string()) +
                                                  " or a smaller micro_batch_size");
}

} // namespace trainsim::workload
