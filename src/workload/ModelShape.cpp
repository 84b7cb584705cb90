#include "trainsim/workload/ModelShape.hpp"

#include "trainsim/workload/Mla.hpp"

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
  double attn_w = h * (h + 2 * s.kv_dim) + h * h;
  double attn_extras = 0; // MLA: the latents' RMSNorm weights
  // Scores and values over every key a query attends to (the MFU convention counts the full square; a sliding
  // window of w keys: seq x w).
  s.attention_core_forward_flops = 4.0 * seq * m.attended_keys() * h;
  if (m.mla) { // multi-head latent attention: its projections and its per-head dimensions
    attn_w = mla_attention_weights(*m.mla, h, m.attention_heads);
    attn_extras = m.mla->q_lora_rank + m.mla->kv_lora_rank;
    s.attention_core_forward_flops = mla_core_forward_flops(*m.mla, m.attention_heads, seq);
  }
  const double mlp_w = s.mlp_matrices * h * f;
  // GPT (GELU) layers carry biases and two LayerNorms (weight+bias); Llama layers two RMSNorm weights.
  // Nemotron (squared ReLU): no biases, two LayerNorms with weight and bias.
  double extras = gelu ? (h + 2 * s.kv_dim) + h + f + h + 4 * h : m.activation == Activation::swiglu ? 2 * h : 4 * h;
  if (m.parallel_block) // one normalisation feeds both branches (GPT-J, PaLM)
    extras -= m.activation == Activation::swiglu ? h : 2 * h;
  s.layer_params = attn_w + mlp_w + extras + attn_extras;
  s.embedding_params = static_cast<double>(m.vocab_size) * h;
  s.total_params = m.layers * s.layer_params + s.embedding_params + (gelu ? seq * h + 2 * h : h);
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
    s.moe_layer_params =
        s.layer_params - mlp_w - (gelu ? f + h : 0.0) + router_w + e.shared_experts * expert_w + s.expert_params;
    s.moe_layers = m.layers - e.first_dense_layers;
    s.dense_layers = e.first_dense_layers;
    s.total_params += s.moe_layers * (s.moe_layer_params - s.layer_params);
    s.active_params = s.total_params - s.moe_layers * (e.experts - e.top_k) * expert_w;
    s.moe_layer_forward_flops =
        2.0 * seq * (attn_w + router_w + (e.top_k + e.shared_experts) * expert_w) + s.attention_core_forward_flops;
  }
  if (m.mtp_depth > 0) {
    // Multi-token prediction (DeepSeek-V3 section 2.2): per depth one more transformer block (a MoE layer
    // in a MoE model), two RMSNorms and the projection of [h; embedding] (2h -> h), a final norm, and the
    // embedding and output head shared with the main model; not in total_params (671B excludes it).
    const bool moe = m.moe.enabled();
    const double proj = 2.0 * h * h;
    s.mtp_params = m.mtp_depth * ((moe ? s.moe_layer_params : s.layer_params) + proj + 3 * h);
    s.mtp_forward_flops = m.mtp_depth * ((moe ? s.moe_layer_forward_flops : s.layer_forward_flops) + 2.0 * seq * proj +
                                         s.logits_forward_flops);
  }
  return s;
}

double ModelShape::model_flops_per_step(const scenario::Scenario& sc) const
{
  const double per_seq = layers_forward_flops() + logits_forward_flops + mtp_forward_flops;
  return 3.0 * per_seq * static_cast<double>(sc.training.global_batch_size);
}

double ModelShape::model_flops_per_step_causal(const scenario::Scenario& sc) const
{
  const double seq = sc.model.seq_length, keys = sc.model.attended_keys();
  const double causal_share = (keys < seq ? seq * keys - 0.5 * keys * keys : 0.5 * seq * seq) / (seq * keys);
  const double attention_layers = sc.model.layers + sc.model.mtp_depth;
  const double masked = attention_layers * attention_core_forward_flops * (1.0 - causal_share);
  return model_flops_per_step(sc) - 3.0 * masked * static_cast<double>(sc.training.global_batch_size);
}

double ModelShape::hardware_flops_per_step(const scenario::Scenario& sc) const
{
  double extra = 0;
  if (sc.training.recompute == Recompute::full) // MTP: its block's forward too (not its head's)
    extra = layers_forward_flops() +
            sc.model.mtp_depth * (sc.model.moe.enabled() ? moe_layer_forward_flops : layer_forward_flops);
  else if (sc.training.recompute == Recompute::selective) {
    const auto& mods = sc.training.recompute_modules;
    if (mods.core_attn && sc.training.attention == scenario::Attention::standard)
      extra = sc.model.layers * attention_core_forward_flops;
    if (mods.mla_up_proj && sc.model.mla) { // the query and key/value up-projections' GEMMs
      const auto& a = *sc.model.mla;
      const double heads = sc.model.attention_heads;
      const double up = (a.q_lora_rank > 0 ? a.q_lora_rank * heads * mla_qk_head_dim(a) : 0.0) +
                        a.kv_lora_rank * heads * (a.qk_nope_head_dim + a.v_head_dim);
      extra += sc.model.layers * 2.0 * sc.model.seq_length * up;
    }
  }
  return model_flops_per_step(sc) + extra * static_cast<double>(sc.training.global_batch_size);
}

} // namespace trainsim::workload
