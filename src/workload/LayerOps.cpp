#include "trainsim/workload/LayerOps.hpp"

#include <algorithm>

#include "trainsim/workload/Mla.hpp"

namespace trainsim::workload {

using scenario::Attention;
using scenario::Precision;
using scenario::Recompute;

namespace {

Kernel gemm(double m, double k, double n, double elem_bytes)
{
  return {KernelClass::gemm, 2.0 * m * k * n, (m * k + k * n + m * n) * elem_bytes, m, k, n};
}
Kernel memory(double bytes)
{
  return {KernelClass::memory, 0.0, bytes};
}
std::vector<Kernel> doubled(std::vector<Kernel> ks)
{
  // Backward of a GEMM is two GEMMs of the same FLOPs and bytes, the data gradient (m x k, over n; chunked as
  // the forward with tp_comm_overlap) and the weight gradient (k x n, over m); elementwise backward kernels
  // read about twice what the forward one did.
  std::vector<Kernel> out;
  for (const auto& k : ks) {
    if (k.cls == KernelClass::memory) {
      out.push_back({k.cls, 0.0, 2.0 * k.bytes});
    } else if (k.cls == KernelClass::gemm || k.cls == KernelClass::fp8_gemm) {
      out.push_back(data_gradient(k));
      out.push_back(weight_gradient(k));
    } else {
      out.push_back(k);
      out.push_back(k);
    }
  }
  return out;
}

} // namespace

Kernel weight_gradient(const Kernel& forward)
{
  Kernel w = forward;
  w.m = forward.k;
  w.k = forward.m;
  w.row_chunks = 1; // the weight gradient reduces over the gathered rows: one GEMM
  return w;
}

Kernel data_gradient(const Kernel& forward)
{
  Kernel d = forward;
  d.n = forward.k;
  d.k = forward.n;
  return d;
}

LayerOps::LayerOps(const scenario::Scenario& s, const ModelShape& shape) : s_(s), shape_(shape)
{
  // Context parallel: each rank holds seq/cp tokens of every sequence.
  tokens_ = static_cast<double>(s.training.micro_batch_size) * s.model.seq_length / s.parallelism.cp;
  tokens_sp_ = s.parallelism.sequence_parallel ? tokens_ / s.parallelism.tp : tokens_;
  bytes_ = 2;
  fp8_ = s.training.precision == Precision::fp8;
  gemm_bytes_ = fp8_ ? 1 : 2;
  dropout_ = s.model.dropout;
  // tp_comm_overlap (Transformer Engine userbuffers): the GEMMs beside a TP all-gather or reduce-scatter are
  // pipelined with it as tp GEMMs of 1/tp of the rows each.
  tp_chunks_ = s.parallelism.tp_comm_overlap ? s.parallelism.tp : 1;
}

Kernel LayerOps::linear(double m, double k, double n) const
{
  if (!fp8_)
    return gemm(m, k, n, gemm_bytes_);
  // Transformer Engine FP8 GEMM: FP8 operands, 16-bit output.
  return {KernelClass::fp8_gemm, 2.0 * m * k * n, (m * k + k * n) * 1.0 + m * n * bytes_, m, k, n};
}

Kernel LayerOps::tp_linear(double m, double k, double n) const
{
  Kernel g = linear(m, k, n);
  g.row_chunks = tp_chunks_;
  return g;
}

Kernel LayerOps::qkv_gemm() const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size;
  const double kv_per_rank = std::max(1.0, s_.model.kv_heads / t) * shape_.head_dim;
  return tp_linear(tokens_, h, h / t + 2 * kv_per_rank);
}

Kernel LayerOps::proj_gemm() const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size;
  return tp_linear(tokens_, h / t, h);
}

Kernel LayerOps::fc1_gemm(double tokens, double ffn, bool chunked) const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size, n = (shape_.mlp_matrices - 1) * ffn / t;
  return chunked ? tp_linear(tokens, h, n) : linear(tokens, h, n);
}

Kernel LayerOps::fc2_gemm(double tokens, double ffn, bool chunked) const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size;
  return chunked ? tp_linear(tokens, ffn / t, h) : linear(tokens, ffn / t, h);
}

std::vector<Kernel> LayerOps::attention_core_forward() const
{
  const double t = s_.parallelism.tp, b = s_.training.micro_batch_size, sq = s_.model.seq_length;
  const double h = s_.model.hidden_size;
  const double heads = s_.model.attention_heads / t;
  const double keys = s_.model.attended_keys(); // a sliding window: only the band of width w is computed
  const double score_elems = b * heads * sq * keys;
  if (s_.model.mla)
    return mla_core_forward();
  if (s_.training.attention == Attention::flash) {
    // Fused causal attention skips the masked half of the score matrix; reads Q, K, V, writes O. With
    // context parallelism each rank's queries (seq/cp tokens, causally load-balanced chunks) meet the
    // K and V of every rank in turn: 1/cp of the causal work, and cp blocks of K and V read.
    const double cp = s_.parallelism.cp;
    // Causal query-key pairs: sq^2 / 2; with a window of w < sq keys, sq w - w^2 / 2 (the band).
    const double kv = std::max(1.0, s_.model.kv_heads / t) * shape_.head_dim;
    const double pairs = keys < sq ? sq * keys - 0.5 * keys * keys : 0.5 * sq * sq;
    return {{KernelClass::attention, 4.0 * b * pairs * h / t / cp, tokens_ * (2 * h / t + 2 * kv * cp) * bytes_}};
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

std::vector<Kernel> LayerOps::attention_block(bool fp8_casts) const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size;
  const double T = tokens_, Tsp = tokens_sp_, e = bytes_;
  std::vector<Kernel> k;
  k.push_back(memory(2 * Tsp * h * e)); // input norm
  cast(k, T * h, fp8_casts);
  if (s_.model.mla) {
    mla_projections(k, fp8_casts);
  } else {
    k.push_back(qkv_gemm());
    for (const auto& a : attention_core_forward())
      k.push_back(a);
    cast(k, T * h / t, fp8_casts);
    k.push_back(proj_gemm());
  }
  if (s_.model.parallel_block) // the MLP reads the same normalised input; one residual add after both
    return k;
  // dropout (with its mask) and residual add
  k.push_back(memory(Tsp * h * (dropout_ > 0 ? 5 * e + 1 : 3 * e)));
  k.push_back(memory(2 * Tsp * h * e)); // post-attention norm
  return k;
}

void LayerOps::cast(std::vector<Kernel>& k, double elems, bool fp8_casts) const
{
  // FP8 (Transformer Engine): each FP8 GEMM's input is cast to FP8 with its amax, writing a row-major
  // and a transposed copy (the latter for the weight-gradient GEMM): read 2 bytes, write 2 per element.
  if (fp8_casts && fp8_)
    k.push_back(memory(cast_bytes(elems)));
}

double LayerOps::cast_bytes(double elems) const
{
  // Fine-grained (blockwise) scaling, DeepSeek-V3 section 3.3.2: one fp32 scale per 1x128 tile of each copy.
  return elems * (bytes_ + 2.0 + (s_.training.fp8_blockwise ? 2.0 * 4.0 / 128.0 : 0.0));
}

void LayerOps::mlp_block(std::vector<Kernel>& k, double tokens, double ffn, bool fp8_casts, bool routed) const
{
  const double t = s_.parallelism.tp, h = s_.model.hidden_size, e = bytes_;
  cast(k, tokens * h, fp8_casts && !s_.model.parallel_block); // parallel block: the QKV input's cast serves
  const bool chunked = !routed; // the routed experts' GEMMs run outside the TP-overlap pipeline
  k.push_back(fc1_gemm(tokens, ffn, chunked));
  k.push_back(memory(tokens * ffn / t * e * (shape_.mlp_matrices == 3 ? 3 : 2))); // bias-GELU, squared ReLU or SwiGLU
  cast(k, tokens * ffn / t, fp8_casts);
  k.push_back(fc2_gemm(tokens, ffn, chunked));
}

std::vector<Kernel> LayerOps::layer_forward(bool fp8_casts) const
{
  const double h = s_.model.hidden_size, e = bytes_;
  std::vector<Kernel> k = attention_block(fp8_casts);
  // Parallel block: fc1 reads the QKV GEMM's (already cast) input; the residual add sums x and both branches
  // (read three, write one; dropout and its mask on each branch).
  mlp_block(k, tokens_, s_.model.ffn_hidden_size, fp8_casts);
  if (s_.model.parallel_block)
    k.push_back(memory(tokens_sp_ * h * (dropout_ > 0 ? 8 * e + 2 : 4 * e)));
  else
    k.push_back(memory(tokens_sp_ * h * (dropout_ > 0 ? 5 * e + 1 : 3 * e)));
  return k;
}

std::vector<Kernel> LayerOps::forward() const
{
  return layer_forward(true);
}

std::vector<Kernel> LayerOps::backward() const
{
  std::vector<Kernel> out = doubled(layer_forward(false));
  if (fp8_) {
    // The output gradient of each FP8 GEMM is cast (with its transpose) before the data- and
    // weight-gradient GEMMs.
    const double t = s_.parallelism.tp, h = s_.model.hidden_size, f = s_.model.ffn_hidden_size;
    std::vector<double> outs = attention_gemm_outputs();
    outs.insert(outs.end(), {(shape_.mlp_matrices - 1) * f / t, h});
    for (double n : outs)
      out.push_back(memory(cast_bytes(tokens_ * n)));
  }
  // Fused attention backward recomputes the scores: about 2.5x its forward FLOPs, not 2x.
  if (s_.training.attention == Attention::flash) {
    Kernel fa = attention_core_forward().front();
    out.push_back({KernelClass::attention, 0.5 * fa.flops, 0.0});
  }
  return out;
}

std::vector<Kernel> LayerOps::moe_layer(bool fp8_casts) const
{
  const auto& moe = s_.model.moe;
  const double h = s_.model.hidden_size, e = bytes_, fe = moe.expert_ffn_hidden_size;
  std::vector<Kernel> k = attention_block(fp8_casts);
  // Router: logits over every expert in fp32 (a 16-bit GEMM), softmax and top-k; then permute the copies.
  k.push_back(gemm(tokens_sp_, h, moe.experts, bytes_));
  k.push_back(memory(tokens_sp_ * moe.experts * 4.0 * 3));
  k.push_back(memory(2 * tokens_sp_ * moe.top_k * h * e)); // permute for dispatch
  // Token copies this expert-parallel rank's experts get: its group's tokens x top_k / ep on average,
  // load_imbalance times that on the busiest rank. The experts are sharded over tp as well as ep
  // (Megatron's default expert tensor parallelism): each TP rank computes its slice for every copy.
  mlp_block(k, routed_tokens(), fe, fp8_casts, true);
  k.push_back(memory(2 * tokens_sp_ * moe.top_k * h * e)); // unpermute and weighted combine
  if (moe.shared_experts > 0)
    mlp_block(k, tokens_, moe.shared_experts * fe, fp8_casts);
  k.push_back(memory(tokens_sp_ * h * (dropout_ > 0 ? 5 * e + 1 : 3 * e)));
  return k;
}

double LayerOps::routed_tokens() const
{
  return tokens_ * s_.model.moe.top_k * s_.model.moe.busiest_load();
}

std::vector<Kernel> LayerOps::moe_forward() const
{
  return moe_layer(true);
}

std::vector<Kernel> LayerOps::moe_backward() const
{
  std::vector<Kernel> out = doubled(moe_layer(false));
  if (fp8_) {
    // Output-gradient casts before each FP8 GEMM's backward: attention's two, the routed and shared experts'.
    const auto& moe = s_.model.moe;
    const double t = s_.parallelism.tp, h = s_.model.hidden_size, fe = moe.expert_ffn_hidden_size;
    for (double n : attention_gemm_outputs())
      out.push_back(memory(cast_bytes(tokens_ * n)));
    for (auto [tokens, ffn] : {std::pair<double, double>{routed_tokens(), fe}, {tokens_, moe.shared_experts * fe}})
      if (tokens > 0 && ffn > 0)
        for (double n : {(shape_.mlp_matrices - 1) * ffn / t, h})
          out.push_back(memory(cast_bytes(tokens * n)));
  }
  if (s_.training.attention == Attention::flash) {
    Kernel fa = attention_core_forward().front();
    out.push_back({KernelClass::attention, 0.5 * fa.flops, 0.0});
  }
  return out;
}

std::vector<Kernel> LayerOps::moe_recompute() const
{
  if (s_.training.recompute == Recompute::full)
    return moe_forward();
  std::vector<Kernel> k = recompute();
  if (s_.training.recompute == Recompute::selective && s_.training.recompute_modules.moe_act) {
    // moe_act: every expert's activation function runs again (read its kept input, write the output) and
    // the output is cast again for the down-projection's weight gradient.
    const auto& moe = s_.model.moe;
    const double t = s_.parallelism.tp, fe = moe.expert_ffn_hidden_size;
    for (auto [tokens, ffn] : {std::pair<double, double>{routed_tokens(), fe}, {tokens_, moe.shared_experts * fe}})
      if (tokens > 0 && ffn > 0) {
        k.push_back(memory(tokens * ffn / t * bytes_ * (shape_.mlp_matrices == 3 ? 3 : 2)));
        cast(k, tokens * ffn / t, true);
      }
  }
  return k;
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
  if (moe.max_nodes_per_token)
    node_limited_traffic(tr);
  return tr;
}

void LayerOps::node_limited_traffic(EpTraffic& tr) const
{
  // DeepSeek-V3 section 3.2.2: a token's experts lie on at most M nodes; its dispatch crosses the NIC once
  // per remote target node (to the member of the same local index), which forwards it over NVLink to the
  // experts there; combine reverses it. Balanced routing, N nodes of G members each, D = min(M, N, top_k)
  // target nodes per token, the own node among them with probability D/N: per token D (N-1)/N copies over
  // the NIC and top_k (G-1)/G over NVLink (the own node's top_k/N and the forwarded (N-1)/N top_k of them).
  const auto& moe = s_.model.moe;
  const double ep = s_.parallelism.ep, span = ep * s_.parallelism.tp;
  const double N = std::max(1.0, span / s_.cluster.accelerators_per_node), G = ep / N;
  const double D = std::min({static_cast<double>(*moe.max_nodes_per_token), N, static_cast<double>(moe.top_k)});
  const double per_copy =
      s_.model.hidden_size * (moe.dispatch_bytes + bytes_) * moe.busiest_load() * tokens_ / s_.parallelism.tp;
  tr.node_limited = true;
  tr.nic_bytes = per_copy * D * (N - 1) / N;
  tr.bytes = tr.nic_bytes + per_copy * moe.top_k * (G - 1) / G;
}

std::vector<Kernel> LayerOps::attention_forward() const
{
  if (s_.training.attention != Attention::flash)
    return {};
  return attention_core_forward();
}

std::vector<Kernel> LayerOps::attention_backward() const
{
  if (s_.training.attention != Attention::flash)
    return {};
  Kernel fa = attention_core_forward().front();
  return {fa, fa, {KernelClass::attention, 0.5 * fa.flops, 0.0}};
}

double LayerOps::cp_kv_bytes() const
{
  if (s_.parallelism.cp <= 1)
    return 0.0;
  const double kv_per_rank =
      std::max(1.0, s_.model.kv_heads / static_cast<double>(s_.parallelism.tp)) * shape_.head_dim;
  return tokens_ * 2.0 * kv_per_rank * bytes_; // this rank's K and V, 16-bit
}

std::vector<Kernel> LayerOps::recompute() const
{
  switch (s_.training.recompute) {
  case Recompute::none:
    return {};
  case Recompute::full:
    return forward();
  case Recompute::selective: {
    // Flash attention already recomputes its core in backward: recomputing core_attn adds nothing.
    std::vector<Kernel> k;
    if (s_.training.recompute_modules.core_attn && s_.training.attention != Attention::flash)
      k = attention_core_forward();
    selective_modules(k);
    return k;
  }
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
  return layer_tp_forward().total();
}

TpPlan LayerOps::layer_tp_forward(bool moe) const
{
  return tp_plan(false, moe);
}

TpPlan LayerOps::layer_tp_backward(bool moe) const
{
  return tp_plan(true, moe);
}

TpPlan LayerOps::tp_plan(bool backward, bool moe) const
{
  // Megatron-LM (megatron/core/tensor_parallel/layers.py, mappings.py; Korthikanti et al. 2022, sec. 4.2.2):
  // per pair of a column-parallel linear (QKV, FC1: its input copied or, with sequence parallelism,
  // all-gathered) and a row-parallel one (projection, FC2: its output all-reduced or reduce-scattered).
  // Forward: one all-reduce, or an all-gather before the column GEMM and a reduce-scatter after the row GEMM
  // (with tp_comm_overlap each pipelined with its GEMM). Backward without sequence parallelism: the column
  // linear's input gradient is all-reduced, beside its weight-gradient GEMM (--async-tensor-model-parallel-
  // allreduce, default since September 2021) or after it (tp_async_allreduce false). With sequence
  // parallelism (1.5x the forward's volume): the row linear's output gradient is all-gathered (the backward
  // of the reduce-scatter; blocking, pipelined with its data-gradient GEMM under tp_comm_overlap), the column
  // linear all-gathers its input again (only the sequence shard was saved) beside its data-gradient GEMM and
  // reduce-scatters the input gradient beside its weight-gradient GEMM (as Transformer Engine's bulk overlaps).
  TpPlan plan;
  const int t = s_.parallelism.tp;
  if (t == 1)
    return plan;
  const double msg = tokens_ * s_.model.hidden_size * bytes_; // full activation tensor
  const TpTraffic gather{1, (t - 1.0) / t * msg, t - 1};      // an all-gather or a reduce-scatter
  const TpTraffic reduce{1, 2.0 * (t - 1.0) / t * msg, 2 * (t - 1)};
  const bool sp = s_.parallelism.sequence_parallel, ovl = s_.parallelism.tp_comm_overlap;
  const bool async = s_.parallelism.tp_async_allreduce;
  auto block = [&](const TpTraffic& tr) { add_traffic(plan.blocking, tr); };
  auto beside = [&](const TpTraffic& tr, std::vector<Kernel> gemms, bool weight = false) {
    plan.beside.push_back({tr, std::move(gemms), weight});
  };
  auto apply = [](std::vector<Kernel> ks, Kernel (*f)(const Kernel&)) {
    for (auto& k : ks)
      k = f(k);
    return ks;
  };
  // A pair whose collectives block both ways with the forward's volume (the MoE token dispatcher's
  // all-gather and reduce-scatter, whose backwards are each other; MLA's projections).
  auto fixed = [&]() {
    if (sp) {
      block(gather);
      block(gather);
    } else {
      block(reduce);
    }
  };
  auto pair = [&](const std::vector<Kernel>& col, const std::vector<Kernel>& row) {
    if (!backward) {
      if (!sp)
        block(reduce);
      else if (!ovl)
        fixed();
      else {
        beside(gather, col);
        beside(gather, row);
      }
    } else if (!sp) {
      if (async)
        beside(reduce, apply(col, weight_gradient), true);
      else
        block(reduce);
    } else {
      if (ovl)
        beside(gather, apply(row, data_gradient));
      else
        block(gather);
      beside(gather, apply(col, data_gradient));
      beside(gather, apply(col, weight_gradient), true);
    }
  };
  const double ffn = s_.model.ffn_hidden_size;
  if (s_.model.parallel_block) { // attention and MLP side by side: one collective for both of each kind
    if (moe || s_.model.mla)
      fixed();
    else
      pair({qkv_gemm(), fc1_gemm(tokens_, ffn, true)}, {proj_gemm(), fc2_gemm(tokens_, ffn, true)});
    return plan;
  }
  if (s_.model.mla)
    fixed();
  else
    pair({qkv_gemm()}, {proj_gemm()});
  if (moe)
    fixed();
  else
    pair({fc1_gemm(tokens_, ffn, true)}, {fc2_gemm(tokens_, ffn, true)});
  return plan;
}

TpTraffic TpPlan::total() const
{
  TpTraffic tr = blocking;
  for (const auto& o : beside)
    add_traffic(tr, o.traffic);
  return tr;
}

TpTraffic PassCost::tp_total() const
{
  TpTraffic tr = tp;
  for (const auto& o : tp_beside)
    add_traffic(tr, o.traffic);
  return tr;
}

void add_tp_plan(PassCost& into, const TpPlan& plan, const Efficiency& eff, int times)
{
  if (times <= 0)
    return;
  add_traffic(into.tp, plan.blocking, times);
  for (const auto& o : plan.beside) {
    TpBeside b;
    add_traffic(b.traffic, o.traffic, times);
    for (const auto& k : o.gemms)
      b.gemm_s += eff.time(k) * times;
    b.weight_gradient = o.weight_gradient;
    into.tp_beside.push_back(b);
  }
}

void add_kernels(PassCost& cost, const std::vector<Kernel>& kernels, const Efficiency& eff)
{
  for (const auto& k : kernels) {
    cost.compute_s += eff.time(k);
    cost.flops += k.flops;
    cost.kernels += 1;
  }
}

void add_traffic(EpTraffic& into, const EpTraffic& t, int times)
{
  into.all_to_alls += t.all_to_alls * times;
  into.bytes += t.bytes * times;
  into.nic_bytes += t.nic_bytes * times;
  into.node_limited = into.node_limited || t.node_limited;
}

void add_traffic(TpTraffic& into, const TpTraffic& t, int times)
{
  into.collectives += t.collectives * times;
  into.ring_bytes += t.ring_bytes * times;
  into.ring_steps += t.ring_steps * times;
}

} // namespace trainsim::workload
