#pragma once
#include <vector>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/workload/Efficiency.hpp"
#include "trainsim/workload/ModelShape.hpp"

namespace trainsim::workload {

/// Tensor-parallel communication of one pass: collectives and the bytes each rank sends in them.
struct TpTraffic {
  int collectives = 0;   ///< number of collectives (each costs ring steps of latency)
  double ring_bytes = 0; ///< bytes one rank sends over the ring, summed over the collectives
  int ring_steps = 0;    ///< ring steps summed over the collectives
};

/// Tensor-parallel collectives of a layer's pass that run beside GEMMs of the same layer, on another stream
/// (Megatron-LM's LinearWithGradAccumulationAndAsyncCommunication, Transformer Engine's userbuffers): they
/// hide up to those GEMMs' time, which they slow while both run (tp_overlap_gemm_slowdown).
struct TpOverlap {
  TpTraffic traffic;
  std::vector<Kernel> gemms;    ///< the GEMMs they run beside (of one layer)
  bool weight_gradient = false; ///< the GEMMs are weight gradients (a zero-bubble schedule's W step runs them)
};

/// Tensor-parallel communication of one layer's pass (docs/architecture.md#tensor-parallel-communication):
/// blocking collectives, and those beside GEMMs.
struct TpPlan {
  TpTraffic blocking;
  std::vector<TpOverlap> beside;
  TpTraffic total() const; ///< everything moved, blocking or not
};

/// TpOverlap over a group of layers: the traffic and the seconds of the GEMMs it runs beside.
struct TpBeside {
  TpTraffic traffic;
  double gemm_s = 0;
  bool weight_gradient = false;
};

/// Expert-parallel all-to-all traffic of a pass: dispatch and combine of each MoE layer.
struct EpTraffic {
  int all_to_alls = 0; ///< number of all-to-alls (each costs a latency)
  double bytes = 0;    ///< bytes one rank sends to the other members of its expert-parallel group, summed
  /// Node-limited routing (moe.max_nodes_per_token): of `bytes`, those sent over the NIC, one copy per
  /// target node to the member of the same local index there; the rest goes over the scale-up fabric (the
  /// node's own copies and the forwarding of the received ones). 0 with every copy sent directly.
  double nic_bytes = 0;
  bool node_limited = false;
};

/// Context-parallel ring exchange of one pass: K/V (and in backward dK/dV) chunks sent to the CP ring
/// neighbour, overlapped with the fused attention kernels (part of compute_s).
struct CpTraffic {
  double bytes = 0;       ///< bytes one rank sends to its neighbour, summed over the ring steps
  int steps = 0;          ///< ring steps (cp-1 per layer and pass)
  double attention_s = 0; ///< attention compute the exchange overlaps with (included in compute_s)
  /// cp_comm_type "all_gather": ring all-gathers and reduce-scatters run before the attention, exposed
  /// (attention_s 0: nothing beside them).
  bool blocking = false;
};

/// Cost of one pass (forward or backward) of a group of layers for one micro-batch on one TP rank.
struct PassCost {
  double compute_s = 0;
  double flops = 0; ///< hardware FLOPs executed
  int kernels = 0;
  TpTraffic tp;                    ///< blocking tensor-parallel traffic
  std::vector<TpBeside> tp_beside; ///< tensor-parallel traffic beside GEMMs (their seconds are part of compute_s)
  EpTraffic ep;
  CpTraffic cp;
  TpTraffic tp_total() const; ///< tp and tp_beside's traffic
};

/// Per-micro-batch costs of one model chunk (a contiguous group of layers on one pipeline rank).
struct ChunkCost {
  PassCost forward;
  PassCost backward; ///< including recompute
};

/// Kernel lists of one transformer layer on one TP rank, from the model, batch and parallelism.
class LayerOps {
public:
  LayerOps(const scenario::Scenario& s, const ModelShape& shape);
  std::vector<Kernel> forward() const;
  std::vector<Kernel> backward() const;
  /// What recompute re-runs before backward (empty for none).
  std::vector<Kernel> recompute() const;
  std::vector<Kernel> logits_forward() const;
  std::vector<Kernel> logits_backward() const;
  std::vector<Kernel> embedding_forward() const;
  std::vector<Kernel> embedding_backward() const;
  /// TP traffic of one layer forward (all of layer_tp_forward()).
  TpTraffic layer_tp_traffic() const;
  /// The TP communication of a dense layer's forward and backward (without recompute), as Megatron-LM runs it
  /// (docs/architecture.md#tensor-parallel-communication); `moe`: a MoE layer's (its experts' collectives
  /// block, both ways).
  TpPlan layer_tp_forward(bool moe = false) const;
  TpPlan layer_tp_backward(bool moe = false) const;
  /// A MoE layer (attention, router, dispatch, routed and shared experts, combine) on one rank; the
  /// routed experts' work is that of the busiest expert-parallel rank.
  std::vector<Kernel> moe_forward() const;
  std::vector<Kernel> moe_backward() const;
  std::vector<Kernel> moe_recompute() const;
  /// One multi-token prediction module (src/workload/Mtp.cpp): block, projection and shared head.
  std::vector<Kernel> mtp_forward() const;
  std::vector<Kernel> mtp_backward() const; ///< with its recompute
  /// All-to-all traffic of one MoE layer forward (backward moves the same volume).
  EpTraffic moe_ep_traffic() const;
  /// The fused attention kernels of one layer (part of forward() and backward()), which context-parallel
  /// KV exchange overlaps with; empty with unfused attention.
  std::vector<Kernel> attention_forward() const;
  std::vector<Kernel> attention_backward() const;
  /// Context parallel: bytes one rank sends to its ring neighbour per ring step of one layer's forward
  /// (its K and V chunk); backward sends K, V and their gradients, twice this. 0 when cp is 1.
  double cp_kv_bytes() const;

private:
  std::vector<Kernel> attention_block(bool fp8_casts) const;
  /// `routed`: a MoE layer's routed experts (their GEMMs are not pipelined with the TP collectives).
  void mlp_block(std::vector<Kernel>& k, double tokens, double ffn, bool fp8_casts, bool routed = false) const;
  /// FP8: the cast of a GEMM input of `elems` elements (when `fp8_casts` and precision fp8).
  void cast(std::vector<Kernel>& k, double elems, bool fp8_casts) const;
  std::vector<Kernel> moe_layer(bool fp8_casts) const;
  /// moe.max_nodes_per_token: the all-to-all's NIC and scale-up shares (EpTraffic::nic_bytes).
  void node_limited_traffic(EpTraffic& tr) const;
  /// Token copies the busiest expert-parallel rank's experts process per micro-batch.
  double routed_tokens() const;
  std::vector<Kernel> attention_core_forward() const;
  /// Bytes an FP8 cast of `elems` 16-bit elements moves (with the transposed copy; blockwise: the scales).
  double cast_bytes(double elems) const;
  /// Output widths of the attention block's FP8 GEMMs (their output gradients are cast in backward).
  std::vector<double> attention_gemm_outputs() const;
  /// Multi-head latent attention (src/workload/Mla.cpp): the projections and core, after the input norm's cast.
  void mla_projections(std::vector<Kernel>& k, bool fp8_casts) const;
  /// MLA's up-projections (and the rope/assembly of Q and K they feed).
  void mla_up_projections(std::vector<Kernel>& k, bool fp8_casts) const;
  std::vector<Kernel> mla_core_forward() const;
  /// Selective recompute's layernorm and mla_up_proj modules (training.recompute_modules).
  void selective_modules(std::vector<Kernel>& k) const;
  std::vector<Kernel> layer_forward(bool fp8_casts) const;
  /// A linear layer's GEMM: FP8 (Transformer Engine) with precision fp8, else 16-bit.
  Kernel linear(double m, double k, double n) const;
  /// The same for a tensor-parallel layer's GEMM beside a TP collective: with tp_comm_overlap, tp row chunks.
  Kernel tp_linear(double m, double k, double n) const;
  /// The tensor-parallel linear layers of the attention block (column-parallel QKV, row-parallel projection)
  /// and of a dense MLP (column-parallel FC1, row-parallel FC2), as the kernel lists run them.
  Kernel qkv_gemm() const;
  Kernel proj_gemm() const;
  Kernel fc1_gemm(double tokens, double ffn, bool chunked) const;
  Kernel fc2_gemm(double tokens, double ffn, bool chunked) const;
  TpPlan tp_plan(bool backward, bool moe) const;
  bool fp8_ = false;
  int tp_chunks_ = 1;
  const scenario::Scenario& s_;
  const ModelShape& shape_;
  double tokens_ = 0, tokens_sp_ = 0, bytes_ = 2, gemm_bytes_ = 2, dropout_ = 0;
};

/// The weight-gradient GEMM of a forward GEMM (k x n, reduced over its m rows, never chunked).
Kernel weight_gradient(const Kernel& forward);
/// The data-gradient GEMM of a forward GEMM (m x k, over n; chunked as the forward).
Kernel data_gradient(const Kernel& forward);
/// Accumulates kernels into a PassCost using the efficiency model.
void add_kernels(PassCost& cost, const std::vector<Kernel>& kernels, const Efficiency& eff);
void add_traffic(TpTraffic& into, const TpTraffic& t, int times = 1);
/// Adds `times` layers' plan to a pass cost: the blocking traffic, and each overlap with its GEMMs' seconds.
void add_tp_plan(PassCost& into, const TpPlan& plan, const Efficiency& eff, int times);
void add_traffic(EpTraffic& into, const EpTraffic& t, int times = 1);
/// The last stage's multi-token prediction modules (model.mtp_depth), their all-to-alls and TP traffic.
void add_mtp(ChunkCost& cc, const scenario::Scenario& s, const LayerOps& ops, const Efficiency& eff);

} // namespace trainsim::workload
