#pragma once
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::workload {

/// Multi-head latent attention (DeepSeek-V2 arXiv:2405.04434 section 2.1, DeepSeek-V3 arXiv:2412.19437
/// section 2.1.1): the query goes h -> q_lora_rank -> heads x (nope + rope); keys and values share one
/// latent h -> kv_lora_rank (plus the shared rope key) -> heads x (nope + v); the output heads x v -> h.

/// Weights of one layer's attention projections (no norms).
double mla_attention_weights(const scenario::Mla& a, double hidden, double heads);
/// Query/key and value dimensions per head.
inline double mla_qk_head_dim(const scenario::Mla& a)
{
  return a.qk_nope_head_dim + a.qk_rope_head_dim;
}
/// Forward FLOPs of the attention core (Q K^T over qk dims, A V over v dims) for one sequence, full s^2
/// (the MFU convention; causal kernels run half).
double mla_core_forward_flops(const scenario::Mla& a, double heads, double seq);
/// Activations one MLA layer keeps per token, in bytes per hidden element: the part sharded over the
/// tensor-parallel ranks (per head) and the replicated latents.
struct MlaActivations {
  double sharded = 0;
  double replicated = 0;
};
MlaActivations mla_activation_units(const scenario::Scenario& s);

} // namespace trainsim::workload
