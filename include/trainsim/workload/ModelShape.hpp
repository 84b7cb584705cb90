#pragma once
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::workload {

/// Parameter and FLOP counts of a dense GPT/Llama-style transformer (whole model, no parallelism).
struct ModelShape {
  double head_dim = 0;
  double kv_dim = 0;           ///< kv_heads * head_dim
  double mlp_matrices = 2;     ///< 2 for GELU and squared ReLU (fc1, fc2), 3 for SwiGLU (gate, up, down)
  double layer_params = 0;     ///< weights and biases/norms of one layer
  double embedding_params = 0; ///< vocab * hidden (tied with the output layer)
  double total_params = 0;
  /// Mixture of experts (zero for dense models): one MoE layer's weights (attention, norms, router,
  /// shared and routed experts), the routed experts' share of them, and the parameters a token activates.
  double moe_layer_params = 0;
  double expert_params = 0; ///< routed experts of one MoE layer (sharded over expert-parallel ranks)
  double active_params = 0; ///< parameters one token uses (dense: total_params)
  int dense_layers = 0;     ///< layers with a dense FFN
  int moe_layers = 0;       ///< layers with a MoE FFN
  /// Active forward FLOPs of one MoE layer for one sequence (attention, router, shared and top-k experts).
  double moe_layer_forward_flops = 0;
  /// Multi-token prediction modules (model.mtp_depth): their own weights (block, projection, norms; the
  /// embedding and head are shared) and their forward FLOPs for one sequence, head included.
  double mtp_params = 0;
  double mtp_forward_flops = 0;
  /// Forward FLOPs of every layer for one sequence.
  double layers_forward_flops() const
  {
    return dense_layers * layer_forward_flops + moe_layers * moe_layer_forward_flops;
  }

  /// Forward FLOPs of one layer for one sequence (matmuls, full s^2 attention, the usual MFU convention).
  double layer_forward_flops = 0;
  /// Forward FLOPs of the attention core (QK^T and AV) of one layer for one sequence.
  double attention_core_forward_flops = 0;
  /// Forward FLOPs of the output logits for one sequence.
  double logits_forward_flops = 0;

  static ModelShape of(const scenario::Model& m);
  /// Model FLOPs of one training step: 3x forward (no recompute).
  double model_flops_per_step(const scenario::Scenario& s) const;
  /// The same with the attention core counted causally: each query meets only the keys before it (s^2 / 2
  /// pairs; with a window w < s, s w - w^2 / 2), as MegaScale and Llama 3 count it (docs/validation.md).
  double model_flops_per_step_causal(const scenario::Scenario& s) const;
  /// Hardware FLOPs of one step: model FLOPs plus what recompute adds (selective recompute adds the
  /// attention core only with unfused attention; fused attention recomputes inside its backward kernel).
  double hardware_flops_per_step(const scenario::Scenario& s) const;
};

} // namespace trainsim::workload
