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
  return s;
}

double ModelShape::model_flops_per_step(const scenario::Scenario& sc) const
{
  const double per_seq = sc.model.layers * layer_forward_flops + logits_forward_flops;
  return 3.0 * per_seq * static_cast<double>(sc.training.global_batch_size);
}

double ModelShape::hardware_flops_per_step(const scenario::Scenario& sc) const
{
  double extra = 0;
  if (sc.training.recompute == Recompute::full)
    extra = sc.model.layers * layer_forward_flops;
  else if (sc.training.recompute == Recompute::selective && sc.training.attention == scenario::Attention::standard)
    extra = sc.model.layers * attention_core_forward_flops;
  return model_flops_per_step(sc) + extra * static_cast<double>(sc.training.global_batch_size);
}

} // namespace trainsim::workload
