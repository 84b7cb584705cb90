#include "trainsim/workload/ModelShape.hpp"

namespace trainsim::workload {

using scenario::Activation;
using scenario::Recompute;

ModelShape ModelShape::of(const scenario::Model& m)
{
  ModelShape s;
  const double h = m.hidden_size, f = m.ffn_hidden_size, seq = m.seq_length;
  s.head_dim = h / m.attention_heads;
  s.kv_dim = m.kv_heads * s.head_dim;
  const bool gelu = m.activation == Activation::gelu;
  s.mlp_matrices = m.activation == Activation::swiglu ? 3 : 2; // GELU and squared ReLU: fc1, fc2
  const double attn_w = h * (h + 2 * s.kv_dim) + h * h;
  const double mlp_w = s.mlp_matrices * h * f;
  // GPT (GELU) layers carry biases and two LayerNorms (weight+bias); Llama layers two RMSNorm weights.
  // Nemotron (squared ReLU): no biases, two LayerNorms with weight and bias.
  const double extras = gelu ? (h + 2 * s.kv_dim) + h + f + h + 4 * h : m.activation == Activation::swiglu ? 2 * h : 4 * h;
  s.layer_params = attn_w + mlp_w + extras;
  s.embedding_params = static_cast<double>(m.vocab_size) * h;
  s.total_params = m.layers * s.layer_params + s.embedding_params + (gelu ? seq * h + 2 * h : h);
  s.attention_core_forward_flops = 4.0 * seq * seq * h;
  s.layer_forward_flops = 2.0 * seq * (attn_w + mlp_w) + s.attention_core_forward_flops;
  s.logits_forward_flops = 2.0 * seq * h * m.vocab_size;
  s.dense_layers = m.layers;
  s.active_params = s.total_params;
  if (m.moe.enabled()) {
    const auto& e = m.moe;
    const double fe = e.expert_ffn_hidden_size;
    const double expert_w = s.mlp_matrices * h * fe; // one expert (no biases)
    const double router_w = h * e.experts;
    s.expert_params = e.experts * expert_w;
    s.moe_layer_params = s.layer_params - mlp_w - (gelu ? f + h : 0.0) + router_w + e.shared_experts * expert_w + s.expert_params;
    s.moe_layers = m.layers - e.first_dense_layers;
    s.dense_layers = e.first_dense_layers;
    s.total_params += s.moe_layers * (s.moe_layer_params - s.layer_params);
    s.active_params = s.total_params - s.moe_layers * (e.experts - e.top_k) * expert_w;
    s.moe_layer_forward_flops = 2.0 * seq * (attn_w + router_w + (e.top_k + e.shared_experts) * expert_w) +
                                s.attention_core_forward_flops;
  }
  return s;
}

double ModelShape::model_flops_per_step(const scenario::Scenario& sc) const
{
  const double per_seq = layers_forward_flops() + logits_forward_flops;
  return 3.0 * per_seq * static_cast<double>(sc.training.global_batch_size);
}

double ModelShape::hardware_flops_per_step(const scenario::Scenario& sc) const
{
  double extra = 0;
  if (sc.training.recompute == Recompute::full)
    extra = layers_forward_flops();
  else if (sc.training.recompute == Recompute::selective && sc.training.attention == scenario::Attention::standard)
    extra = sc.model.layers * attention_core_forward_flops;
  return model_flops_per_step(sc) + extra * static_cast<double>(sc.training.global_batch_size);
}

} // namespace trainsim::workload
