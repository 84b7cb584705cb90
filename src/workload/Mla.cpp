#include "trainsim/workload/Mla.hpp"

namespace trainsim::workload {

double mla_attention_weights(const scenario::Mla& a, double h, double heads)
{
  const double qk = mla_qk_head_dim(a);
  const double q = a.q_lora_rank > 0 ? h * a.q_lora_rank + a.q_lora_rank * heads * qk : h * heads * qk;
  const double kv =
      h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank * heads * (a.qk_nope_head_dim + a.v_head_dim);
  return q + kv + heads * a.v_head_dim * h;
}

double mla_core_forward_flops(const scenario::Mla& a, double heads, double seq)
{
  return 2.0 * seq * seq * heads * (mla_qk_head_dim(a) + a.v_head_dim);
}

} // namespace trainsim::workload

// LayerOps members for MLA and the selective recompute modules (declared in LayerOps.hpp).

#include <algorithm>

#include "trainsim/workload/LayerOps.hpp"

namespace trainsim::workload {

namespace {

Kernel memory_kernel(double bytes)
{
  return {KernelClass::memory, 0.0, bytes};
}

} // namespace

std::vector<double> LayerOps::attention_gemm_outputs() const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size;
  if (!s_.model.mla) {
    const double kv_per_rank = std::max(1.0, s_.model.kv_heads / t) * shape_.head_dim;
    return {h / t + 2 * kv_per_rank, h};
  }
  const auto& a = *s_.model.mla;
  const double H = s_.model.attention_heads / t, qk = mla_qk_head_dim(a);
  std::vector<double> n;
  n.push_back((a.q_lora_rank > 0 ? a.q_lora_rank : H * qk) + a.kv_lora_rank + a.qk_rope_head_dim); // down
  if (a.q_lora_rank > 0)
    n.push_back(H * qk);
  n.push_back(H * (a.qk_nope_head_dim + a.v_head_dim));
  n.push_back(h);
  return n;
}

void LayerOps::mla_projections(std::vector<Kernel>& k, bool fp8_casts) const
{
  // Megatron-core's MLA: the down-projections are replicated on the tensor-parallel ranks, the
  // up-projections column-parallel over the heads, the output projection row-parallel.
  const auto& a = *s_.model.mla;
  const double t = s_.parallelism.tp, h = s_.model.hidden_size, T = tokens_, e = bytes_;
  const double H = s_.model.attention_heads / t, ql = a.q_lora_rank, kvl = a.kv_lora_rank;
  const double q_down = ql > 0 ? ql : H * mla_qk_head_dim(a);
  k.push_back(linear(T, h, q_down + kvl + a.qk_rope_head_dim)); // q and kv down-projections, one GEMM
  k.push_back(memory_kernel(2 * T * (ql + kvl) * e));           // RMSNorm of the latents
  mla_up_projections(k, fp8_casts);
  for (const auto& c : attention_core_forward())
    k.push_back(c);
  cast(k, T * H * a.v_head_dim, fp8_casts);
  k.push_back(linear(T, H * a.v_head_dim, h));
}

void LayerOps::mla_up_projections(std::vector<Kernel>& k, bool fp8_casts) const
{
  const auto& a = *s_.model.mla;
  const double t = s_.parallelism.tp, T = tokens_, e = bytes_;
  const double H = s_.model.attention_heads / t, qk = mla_qk_head_dim(a), dr = a.qk_rope_head_dim;
  cast(k, T * (a.q_lora_rank + a.kv_lora_rank), fp8_casts);
  if (a.q_lora_rank > 0)
    k.push_back(linear(T, a.q_lora_rank, H * qk));
  k.push_back(linear(T, a.kv_lora_rank, H * (a.qk_nope_head_dim + a.v_head_dim)));
  // Rotary embedding of the query's and the shared key's rope parts, and K assembled per head (nope + rope).
  k.push_back(memory_kernel(2 * T * (H + 1) * dr * e + 2 * T * H * qk * e));
}

std::vector<Kernel> LayerOps::mla_core_forward() const
{
  const auto& a = *s_.model.mla;
  const double t = s_.parallelism.tp, b = s_.training.micro_batch_size, sq = s_.model.seq_length, e = bytes_;
  const double H = s_.model.attention_heads / t, qk = mla_qk_head_dim(a), dv = a.v_head_dim;
  if (s_.training.attention == scenario::Attention::flash) {
    // Fused causal attention over per-head Q, K (qk dims) and V (v dims): reads them, writes O.
    const double cp = s_.parallelism.cp;
    return {
        {KernelClass::attention, 0.5 * 2.0 * b * sq * sq * H * (qk + dv) / cp, tokens_ * H * (2 * qk + 2 * dv) * e}};
  }
  const double score_elems = b * H * sq * sq;
  std::vector<Kernel> k;
  k.push_back({KernelClass::batched_gemm, 2.0 * score_elems * qk, score_elems * e + 2 * tokens_ * H * qk * e});
  k.push_back(memory_kernel(2.0 * score_elems * e));
  if (dropout_ > 0)
    k.push_back(memory_kernel(score_elems * (2.0 * e + 1.0)));
  k.push_back({KernelClass::batched_gemm, 2.0 * score_elems * dv, score_elems * e + 2 * tokens_ * H * dv * e});
  return k;
}

void LayerOps::selective_modules(std::vector<Kernel>& k) const
{
  const auto& mods = s_.training.recompute_modules;
  const double h = s_.model.hidden_size, e = bytes_;
  if (mods.layernorm) {
    // The input and post-attention norms (and MLA's latent norms) are re-run, their outputs re-cast to FP8:
    // the GEMM inputs were not kept.
    for (int i = 0; i < 2; ++i) {
      k.push_back(memory_kernel(2 * tokens_sp_ * h * e));
      cast(k, tokens_ * h, true);
    }
    if (s_.model.mla)
      k.push_back(memory_kernel(2 * tokens_ * (s_.model.mla->q_lora_rank + s_.model.mla->kv_lora_rank) * e));
  }
  if (mods.mla_up_proj && s_.model.mla)
    mla_up_projections(k, true);
}

} // namespace trainsim::workload

namespace trainsim::workload {

MlaActivations mla_activation_units(const scenario::Scenario& s)
{
  // Per token, in bytes per hidden element (Memory.cpp's units of s*b*h bytes). Kept for backward: the
  // latents before their norms (16-bit) and after (the up-projections' FP8 or 16-bit inputs), the shared rope
  // key; per head Q, K (qk dims) and V for the attention backward unless the up-projections are recomputed
  // (then only the latents are kept: the compressed KV); the output projection's input.
  const auto& a = *s.model.mla;
  const auto& t = s.training;
  const double h = s.model.hidden_size, heads = s.model.attention_heads, qk = mla_qk_head_dim(a);
  const double g = t.precision == scenario::Precision::fp8 ? 1 : 2;
  const bool selective = t.recompute == scenario::Recompute::selective;
  const bool up = selective && t.recompute_modules.mla_up_proj, norm = selective && t.recompute_modules.layernorm;
  MlaActivations out;
  out.sharded = ((up ? 0.0 : 2.0 * heads * (2 * qk + a.v_head_dim)) + g * heads * a.v_head_dim) / h;
  const double latents = a.q_lora_rank + a.kv_lora_rank;
  out.replicated = (2.0 * latents + 2.0 * a.qk_rope_head_dim + (norm ? 0.0 : g * latents)) / h;
  return out;
}

} // namespace trainsim::workload
