#include "trainsim/workload/Memory.hpp"

#include <algorithm>
#include <cstdio>

#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/Mla.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"
#include "trainsim/workload/Sharding.hpp"

namespace trainsim::workload {

using scenario::Attention;
using scenario::Recompute;

int stage_moe_layers(const scenario::Scenario& s, int stage, int chunk)
{
  const auto& p = s.parallelism;
  if (!s.model.moe.enabled())
    return 0;
  int n = 0;
  for (int c = 0; c < p.chunks(); ++c) {
    if (chunk >= 0 && c != chunk)
      continue;
    const auto [first, count] = s.chunk_layers(stage, c);
    for (int l = first; l < first + count; ++l)
      n += s.model.is_moe_layer(l) ? 1 : 0;
  }
  return n;
}

double stage_expert_params_per_rank(const scenario::Scenario& s, const ModelShape& shape, int stage, int chunk)
{
  const auto& p = s.parallelism;
  const int last = p.pp * p.vpp - 1; // the virtual stage with the output layer and the MTP modules
  const bool mtp =
      (chunk < 0 ? s.holds_virtual(stage, last) : s.virtual_stage(stage, chunk) == last) && s.model.moe.enabled();
  const double layers = stage_moe_layers(s, stage, chunk) + (mtp ? s.model.mtp_depth : 0); // MTP: a MoE block each
  return layers * shape.expert_params / (static_cast<double>(p.ep) * p.tp);
}

double stage_params_per_rank(const scenario::Scenario& s, const ModelShape& shape, int stage, int chunk)
{
  const auto& p = s.parallelism;
  const double layers = chunk >= 0 ? s.chunk_layers(stage, chunk).second : s.stage_layers(stage);
  const int moe = stage_moe_layers(s, stage, chunk);
  double params = (layers - moe) * shape.layer_params / p.tp;
  params += moe * (shape.moe_layer_params - shape.expert_params) / p.tp;
  params += stage_expert_params_per_rank(s, shape, stage, chunk);
  for (int c = 0; c < p.chunks(); ++c) { // the virtual stages holding the embedding and the output layer
    if (chunk >= 0 && c != chunk)
      continue;
    const int v = s.virtual_stage(stage, c);
    if (v == 0)
      params += shape.embedding_params / p.tp;
    if (v == p.pp * p.vpp - 1 && p.pp > 1)
      params += shape.embedding_params / p.tp;          // tied output layer, a copy on the last stage
    if (v == p.pp * p.vpp - 1 && s.model.mtp_depth > 0) // MTP modules (their routed experts above)
      params += (shape.mtp_params - (s.model.moe.enabled() ? s.model.mtp_depth * shape.expert_params : 0.0)) / p.tp;
  }
  return params;
}

std::vector<double> zero3_units(const scenario::Scenario& s, const ModelShape& shape, int stage, int chunk)
{
  const auto& p = s.parallelism;
  const auto [first, layers] = s.chunk_layers(stage, chunk);
  std::vector<double> units;
  for (int l = first; l < first + layers; ++l)
    units.push_back(s.model.is_moe_layer(l) ? (shape.moe_layer_params - shape.expert_params) / p.tp +
                                                  shape.expert_params / (static_cast<double>(p.ep) * p.tp)
                                            : shape.layer_params / p.tp);
  if (units.empty())
    units.push_back(0.0);
  const int v = s.virtual_stage(stage, chunk);
  if (v == 0)
    units.front() += shape.embedding_params / p.tp;
  if (v == p.pp * p.vpp - 1 && p.pp > 1)
    units.back() += shape.embedding_params / p.tp; // tied output layer, a copy on the last stage
  return units;
}

namespace {

/// Activation bytes of one layer (with a MoE FFN when `moe`) for one micro-batch on one TP rank.
double layer_activation_bytes(const scenario::Scenario& s, const ModelShape& shape, bool moe = false)
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
  double attn_sharded = 2 /*Q*/ + 2 * kv /*K*/ + 2 * kv /*V*/ + g /*proj input*/;
  auto mlp_units = [&](double ffn) {
    return (shape.mlp_matrices == 2) ? 2 * ffn / h + g * ffn / h : 4 * ffn / h + g * ffn / h;
  };
  double mlp_sharded = mlp_units(f);
  double replicated = 4 /*norm inputs*/ + g /*QKV input*/ + g /*fc1 input*/ + (drop ? 2 : 0) /*masks*/;
  if (s.model.parallel_block) // one norm, whose output is both the QKV and the fc1 input
    replicated -= 2 + g;
  // DeepSeek-V3 features (docs/moe.md): MLA's latents instead of per-head K and V; recomputed norms.
  if (s.model.mla) {
    const MlaActivations mla = mla_activation_units(s);
    attn_sharded = mla.sharded;
    replicated += mla.replicated;
  }
  if (s.training.recompute == Recompute::selective && s.training.recompute_modules.layernorm)
    replicated -= 2 * g; // the norms' outputs (the QKV and fc1 inputs) are recomputed
  if (moe) {
    // Every token's copy routed to each of its top-k experts (on the busiest rank, load_imbalance times
    // the mean) keeps its permuted input and the expert's intermediate activations; shared experts are
    // a dense MLP of shared_experts x expert_ffn_hidden_size; the router keeps its fp32 probabilities.
    const auto& e = s.model.moe;
    const double routed = e.top_k * e.busiest_load();
    const double fe = e.expert_ffn_hidden_size;
    mlp_sharded = (routed + e.shared_experts) * mlp_units(fe);
    if (s.training.recompute == Recompute::selective && s.training.recompute_modules.moe_act) {
      // moe_act: the activation function's input is kept (the up-projection's output, 2 ffn wide with
      // SwiGLU), its output recomputed. DeepSeek-V3 (sec. 3.3.3) caches that input in FP8 with its
      // fine-grained (1x128) quantization: 1 byte with the blockwise recipe, else 16-bit.
      const double kept = s.training.fp8_blockwise ? 1 : 2;
      mlp_sharded = (routed + e.shared_experts) * (shape.mlp_matrices - 1) * fe / h * kept;
    }
    replicated += g * routed /*permuted expert inputs*/ + 4.0 * e.experts / h * 2 /*router logits, probabilities*/;
  }
  double per = (attn_sharded + mlp_sharded) / t + replicated / (sp ? t : 1.0);
  double core = 0;
  if (s.training.attention == Attention::standard && s.training.recompute == Recompute::none)
    core = (drop ? 5.0 : 2.0) * a * sq * s.model.attended_keys() * b / t; // scores, softmax, dropout mask, output
  return per * sbh + core;
}

} // namespace

MemoryBreakdown estimate_memory(const scenario::Scenario& s, const ModelShape& shape, const scenario::Calibration& cal)
{
  const auto& p = s.parallelism;
  const long m = s.micro_batches_per_replica();
  MemoryBreakdown worst;
  const double per_layer = layer_activation_bytes(s, shape);
  const double per_moe_layer = s.model.moe.enabled() ? layer_activation_bytes(s, shape, true) : per_layer;
  for (int stage = 0; stage < p.pp; ++stage) {
    MemoryBreakdown mb;
    mb.stage = stage;
    const double params = stage_params_per_rank(s, shape, stage);
    mb.weights = 2.0 * params; // bf16/fp16 model weights
    // FP8: Transformer Engine caches an FP8 copy of each linear layer's weights and its transpose (1 + 1
    // bytes) beside the 16-bit weights; with FP8 primary weights that cache is all there is of them.
    if (s.training.precision == scenario::Precision::fp8 && !s.training.fp8_params)
      mb.weights +=
          2.0 * (params - (s.holds_virtual(stage, 0) ? shape.embedding_params / p.tp : 0.0) -
                 (s.holds_virtual(stage, p.pp * p.vpp - 1) && p.pp > 1 ? shape.embedding_params / p.tp : 0.0));
    mb.gradients = 4.0 * params; // fp32 main gradients (accumulated across micro-batches)
    // fp32 master weights, Adam m and v; the distributed optimizer shards the routed experts' states over
    // their expert-data-parallel group (dp / ep ranks hold copies of the same experts).
    const double expert = stage_expert_params_per_rank(s, shape, stage);
    // HSDP: a parameter's states are sharded over its shard group only (replicated across the groups).
    const double replicas = p.zero_stage == 3 ? p.shard_ranks() : s.grad_replicas();
    mb.optimizer = 12.0 * (params - expert) / (p.zero_stage >= 1 ? replicas : 1) +
                   12.0 * expert / (p.zero_stage >= 1 ? replicas / p.ep : 1);
    if (p.zero_stage >= 1 && s.training.grad_reduce_bytes < 4) {
      // Megatron-core distributed optimizer with 16-bit gradient reduction: the gradient buffer has the
      // reduce type; each rank keeps fp32 master weights, Adam m and v of its shard (its fp32 gradient
      // shard is a transient of the optimizer step, inside the workspace).
      mb.gradients = s.training.grad_reduce_bytes * params;
    }
    if (p.zero_stage >= 2 && replicas > 1) {
      // ZeRO-2/3: each rank accumulates only its shard of the fp32 gradients; the unsharded gradients of
      // the buckets (ZeRO-3: units) being produced and reduce-scattered live only until reduced: two.
      double in_flight = 2.0 * p.grad_bucket_bytes;
      const ShardPlan sp = p.zero_stage == 3 ? shard_plan(s, shape, stage) : ShardPlan{};
      if (p.zero_stage == 3) // DeepSpeed: its reduce bucket and the gradients of the piece being produced
        in_flight =
            (sp.reduce_bucket > 0 ? sp.reduce_bucket + sp.largest : 2.0 * sp.largest) * s.training.grad_reduce_bytes;
      mb.gradients = 4.0 * params / replicas + std::min(in_flight, 4.0 * params * (1.0 - 1.0 / replicas));
      if (p.zero_stage == 3) {
        // ZeRO-3: the weights are sharded too; what the framework holds gathered (ShardPlan::held: the unit
        // or bucket computing, those prefetched, and those kept from forward to backward) is whole.
        mb.weights = 2.0 * params / replicas + std::min(2.0 * sp.held, 2.0 * params * (1.0 - 1.0 / replicas));
      }
    }
    // 1F1B: stage s holds min(pp - s, m) micro-batches; interleaving adds (pp-1)/(pp*vpp) of a round;
    // the zero-bubble schedules hold pp on every stage (PipelineSchedule.hpp).
    const double in_flight = in_flight_microbatches(p.schedule, p.pp, p.vpp, stage, m);
    const int moe_layers = stage_moe_layers(s, stage);
    const double layers_per_stage = s.stage_layers(stage);
    mb.activations = (per_layer * (layers_per_stage - moe_layers) + per_moe_layer * moe_layers) * in_flight;
    if (s.training.recompute == Recompute::full) {
      // The layer being recomputed holds its full activations once.
      scenario::Scenario none = s;
      none.training.recompute = Recompute::none;
      mb.activations += layer_activation_bytes(none, shape, moe_layers > 0);
    }
    if (s.holds_virtual(stage, p.pp * p.vpp - 1)) { // fp32 logits and their gradient (and the MTP modules')
      mb.activations += (1.0 + s.model.mtp_depth) * 2.0 * 4.0 * s.training.micro_batch_size * s.model.seq_length /
                        p.cp * static_cast<double>(s.model.vocab_size) / p.tp;
      if (s.model.mtp_depth > 0) // the MTP blocks of the micro-batch in flight
        mb.activations += s.model.mtp_depth * (s.model.moe.enabled() ? per_moe_layer : per_layer);
    }
    mb.workspace = cal.workspace_bytes;
    if (p.cp > 1 && p.cp_comm_type == "all_gather") {
      // The layer at hand's K and V gathered over the whole sequence, and in backward their full-sequence
      // gradients before the reduce-scatter (TE's k_ag, v_ag, dk, dv): a transient of one layer, 16-bit.
      const double kv = std::max(1.0, s.model.kv_heads / static_cast<double>(p.tp)) * shape.head_dim;
      mb.workspace += 2.0 * 2.0 * s.training.micro_batch_size * static_cast<double>(s.model.seq_length) * kv * 2.0;
    }
    mb.capacity = s.cluster.accelerator.memory_bytes * cal.memory_usable_fraction;
    if (s.cluster.mixed()) {               // each pool's memory holds its stages: the tightest one is reported
      for (int k : s.stage_pools(stage)) { // the pool of least memory of those the stage is on
        const double c = s.cluster.pools[static_cast<size_t>(k)].accelerator.memory_bytes * cal.memory_usable_fraction;
        if (mb.pool < 0 || c < mb.capacity) {
          mb.capacity = c;
          mb.pool = k;
        }
      }
      if (stage == 0 || mb.total() / mb.capacity > worst.total() / worst.capacity)
        worst = mb;
      continue;
    }
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
                "weights %.1f GiB + gradients %.1f GiB + optimizer %.1f GiB + activations %.1f GiB + workspace %.1f "
                "GiB = %.1f GiB",
                weights / g, gradients / g, optimizer / g, activations / g, workspace / g, total() / g);
  return buf;
}

void check_fits(const MemoryBreakdown& m, const scenario::Scenario& s)
{
  if (m.total() <= m.capacity)
    return;
  char cap[64];
  std::snprintf(cap, sizeof cap, "%.1f GiB", m.capacity / 1073741824.0);
  if (m.pool >= 0) { // mixed pools: the stage's pool, and the split that moves layers off it
    const auto& pool = s.cluster.pools[static_cast<size_t>(m.pool)];
    throw core::InfeasibleError("/cluster/pools/" + std::to_string(m.pool),
                                "out of memory on pipeline stage " + std::to_string(m.stage) + " (pool \"" + pool.name +
                                    "\"): " + m.describe() + " exceeds the usable " + cap + " of " +
                                    pool.accelerator.id +
                                    "; give the stage fewer layers (/parallelism/layer_split), raise tp or pp, "
                                    "use recompute or a smaller micro_batch_size");
  }
  throw core::InfeasibleError("/parallelism", "out of memory on pipeline stage " + std::to_string(m.stage) + ": " +
                                                  m.describe() + " exceeds the usable " + cap + " of " +
                                                  s.cluster.accelerator.id + "; raise tp or pp, use recompute" +
                                                  (s.parallelism.zero_stage < 3
                                                       ? ", zero_stage " + std::to_string(s.parallelism.zero_stage + 1)
                                                       : std::string()) +
                                                  " or a smaller micro_batch_size");
}

} // namespace trainsim::workload
