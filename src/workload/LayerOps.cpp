#include "trainsim/workload/LayerOps.hpp"

#include <algorithm>

namespace trainsim::workload {

using scenario::Attention;
using scenario::Precision;
using scenario::Recompute;

namespace {

Kernel gemm(double m, double k, double n, double elem_bytes)
{
  return {KernelClass::gemm, 2.0 * m * k * n, (m * k + k * n + m * n) * elem_bytes};
}
Kernel memory(double bytes)
{
  return {KernelClass::memory, 0.0, bytes};
}
std::vector<Kernel> doubled(std::vector<Kernel> ks)
{
  // Backward of a GEMM is two GEMMs of the same size (data and weight gradients); elementwise
  // backward kernels read about twice what the forward one did.
  std::vector<Kernel> out;
  for (const auto& k : ks) {
    if (k.cls == KernelClass::memory) {
      out.push_back({k.cls, 0.0, 2.0 * k.bytes});
    } else {
      out.push_back(k);
      out.push_back(k);
    }
  }
  return out;
}

} // namespace

LayerOps::LayerOps(const scenario::Scenario& s, const ModelShape& shape) : s_(s), shape_(shape)
{
  tokens_ = static_cast<double>(s.training.micro_batch_size) * s.model.seq_length;
  tokens_sp_ = s.parallelism.sequence_parallel ? tokens_ / s.parallelism.tp : tokens_;
  bytes_ = 2;
  gemm_bytes_ = s.training.precision == Precision::fp8 ? 1 : 2;
  dropout_ = s.model.dropout;
}

std::vector<Kernel> LayerOps::attention_core_forward() const
{
  const double t = s_.parallelism.tp, b = s_.training.micro_batch_size, sq = s_.model.seq_length;
  const double h = s_.model.hidden_size;
  const double heads = s_.model.attention_heads / t;
  const double score_elems = b * heads * sq * sq;
  if (s_.training.attention == Attention::flash) {
    // Fused causal attention skips the masked half of the score matrix; reads Q, K, V, writes O.
    const double kv = std::max(1.0, s_.model.kv_heads / t) * shape_.head_dim;
    return {{KernelClass::attention, 0.5 * 4.0 * b * sq * sq * h / t, tokens_ * (2 * h / t + 2 * kv) * bytes_}};
  }
  const double d = shape_.head_dim;
  std::vector<Kernel> k;
  k.push_back({KernelClass::batched_gemm, 2.0 * score_elems * d, score_elems * bytes_ + 2 * tokens_ * h / t * bytes_});
  k.push_back(memory(2.0 * score_elems * bytes_)); // fused scale-mask-softmax: read and write the scores
  if (dropout_ > 0)
    k.push_back(memory(score_elems * (2.0 * bytes_ + 1.0))); // attention dropout and its mask
  k.push_back({KernelClass::batched_gemm, 2.0 * score_elems * d, score_elems * bytes_ + 2 * tokens_ * h / t * bytes_});
  return k;
}

std::vector<Kernel> LayerOps::attention_block() const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size;
  const double T = tokens_, Tsp = tokens_sp_, e = bytes_;
  const double kv_per_rank = std::max(1.0, s_.model.kv_heads / t) * shape_.head_dim;
  std::vector<Kernel> k;
  k.push_back(memory(2 * Tsp * h * e)); // input norm
  k.push_back(gemm(T, h, h / t + 2 * kv_per_rank, gemm_bytes_));
  for (const auto& a : attention_core_forward())
    k.push_back(a);
  k.push_back(gemm(T, h / t, h, gemm_bytes_));
  // dropout (with its mask) and residual add
  k.push_back(memory(Tsp * h * (dropout_ > 0 ? 5 * e + 1 : 3 * e)));
  k.push_back(memory(2 * Tsp * h * e)); // post-attention norm
  return k;
}

void LayerOps::mlp_block(std::vector<Kernel>& k, double tokens, double ffn) const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size, e = bytes_;
  k.push_back(gemm(tokens, h, (shape_.mlp_matrices - 1) * ffn / t, gemm_bytes_));
  k.push_back(memory(tokens * ffn / t * e * (shape_.mlp_matrices == 2 ? 2 : 3))); // bias-GELU or SwiGLU
  k.push_back(gemm(tokens, ffn / t, h, gemm_bytes_));
}

std::vector<Kernel> LayerOps::forward() const
{
  const double h = s_.model.hidden_size, e = bytes_;
  std::vector<Kernel> k = attention_block();
  mlp_block(k, tokens_, s_.model.ffn_hidden_size);
  k.push_back(memory(tokens_sp_ * h * (dropout_ > 0 ? 5 * e + 1 : 3 * e)));
  return k;
}

std::vector<Kernel> LayerOps::moe_forward() const
{
  const auto& moe = s_.model.moe;
  const double h = s_.model.hidden_size, e = bytes_, fe = moe.expert_ffn_hidden_size;
  std::vector<Kernel> k = attention_block();
  // Router: logits over every expert in fp32, softmax and top-k; then permute the token copies.
  k.push_back(gemm(tokens_sp_, h, moe.experts, gemm_bytes_));
  k.push_back(memory(tokens_sp_ * moe.experts * 4.0 * 3));
  // Token copies this expert-parallel rank's experts get: its group's tokens x top_k / ep on average.
  const double routed = tokens_ * moe.top_k * moe.busiest_load();
  k.push_back(memory(2 * tokens_sp_ * moe.top_k * h * e)); // permute for dispatch
  // The routed experts run on the tokens they receive (experts sharded over tp as well as ep, Megatron's
  // default expert tensor parallelism: each TP rank computes its slice for every routed token).
  mlp_block(k, routed, fe);
  k.push_back(memory(2 * tokens_sp_ * moe.top_k * h * e)); // unpermute and weighted combine
  if (moe.shared_experts > 0)
    mlp_block(k, tokens_, moe.shared_experts * fe);
  k.push_back(memory(tokens_sp_ * h * (dropout_ > 0 ? 5 * e + 1 : 3 * e)));
  return k;
}

std::vector<Kernel> LayerOps::moe_backward() const
{
  std::vector<Kernel> out = doubled(moe_forward());
  if (s_.training.attention == Attention::flash) {
    Kernel fa = attention_core_forward().front();
    out.push_back({KernelClass::attention, 0.5 * fa.flops, 0.0});
  }
  return out;
}

std::vector<Kernel> LayerOps::moe_recompute() const
{
  return s_.training.recompute == Recompute::full ? moe_forward() : recompute();
}

EpTraffic LayerOps::moe_ep_traffic() const
{
  EpTraffic tr;
  const int ep = s_.parallelism.ep;
  if (ep == 1 || !s_.model.moe.enabled())
    return tr;
  const auto& moe = s_.model.moe;
  // Each rank dispatches its tokens' top-k copies (1/tp of the tokens per TP rank) and gets them back
  // combined; the share bound for its own experts stays local. The busiest rank receives load_imbalance
  // times the mean, and an all-to-all ends when its busiest member does.
  const double copies = tokens_ / s_.parallelism.tp * moe.top_k * moe.busiest_load();
  const double local = (ep - 1.0) / ep;
  tr.all_to_alls = 2;
  tr.bytes = copies * s_.model.hidden_size * (moe.dispatch_bytes + bytes_) * local;
  return tr;
}

std::vector<Kernel> LayerOps::backward() const
{
  std::vector<Kernel> out = doubled(forward());
  // Fused attention backward recomputes the scores: about 2.5x its forward FLOPs, not 2x.
  if (s_.training.attention == Attention::flash) {
    Kernel fa = attention_core_forward().front();
    out.push_back({KernelClass::attention, 0.5 * fa.flops, 0.0});
  }
  return out;
}

std::vector<Kernel> LayerOps::recompute() const
{
  switch (s_.training.recompute) {
  case Recompute::none: return {};
  case Recompute::full: return forward();
  case Recompute::selective:
    // Flash attention already recomputes its core in backward: selective recompute adds nothing.
    return s_.training.attention == Attention::flash ? std::vector<Kernel>{} : attention_core_forward();
  }
  return {};
}

std::vector<Kernel> LayerOps::logits_forward() const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size, v = s_.model.vocab_size;
  return {memory(2 * tokens_sp_ * h * bytes_), // final norm
          gemm(tokens_, h, v / t, gemm_bytes_),
          memory(tokens_ * v / t * (bytes_ + 3 * 4.0))}; // vocab-parallel cross entropy in fp32
}

std::vector<Kernel> LayerOps::logits_backward() const
{
  return doubled(logits_forward());
}

std::vector<Kernel> LayerOps::embedding_forward() const
{
  return {memory(2 * tokens_ * s_.model.hidden_size * bytes_)};
}

std::vector<Kernel> LayerOps::embedding_backward() const
{
  return doubled(embedding_forward());
}

TpTraffic LayerOps::layer_tp_traffic() const
{
  TpTraffic tr;
  const int t = s_.parallelism.tp;
  if (t == 1)
    return tr;
  const double msg = tokens_ * s_.model.hidden_size * bytes_; // full activation tensor
  // Two all-reduces per layer, or with sequence parallelism two all-gathers and two reduce-scatters:
  // the same ring volume, twice the collectives.
  if (s_.parallelism.sequence_parallel) {
    tr.collectives = 4;
    tr.ring_steps = 4 * (t - 1);
  } else {
    tr.collectives = 2;
    tr.ring_steps = 4 * (t - 1);
  }
  tr.ring_bytes = 2 * 2.0 * (t - 1) / t * msg;
  return tr;
}

void add_kernels(PassCost& cost, const std::vector<Kernel>& kernels, const Efficiency& eff)
{
  for (const auto& k : kernels) {
    cost.compute_s += eff.time(k);
    if (k.cls == KernelClass::gemm)
      cost.gemm_s += eff.time(k);
    cost.flops += k.flops;
    cost.kernels += 1;
  }
}

void add_traffic(EpTraffic& into, const EpTraffic& t, int times)
{
  into.all_to_alls += t.all_to_alls * times;
  into.bytes += t.bytes * times;
}

void add_traffic(TpTraffic& into, const TpTraffic& t, int times)
{
  into.collectives += t.collectives * times;
  into.ring_bytes += t.ring_bytes * times;
  into.ring_steps += t.ring_steps * times;
}

} // namespace trainsim::workload
