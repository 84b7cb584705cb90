#include "trainsim/workload/LayerOps.hpp"

namespace trainsim::workload {

// Multi-token prediction (DeepSeek-V3 arXiv:2412.19437 section 2.2), on the last pipeline stage: per depth,
// RMSNorm of the main model's last hidden state and of the next token's embedding, their concatenation
// projected 2h -> h, one transformer block (a MoE layer in a MoE model, with its all-to-alls), and the
// output head shared with the main model (final norm, logits, cross entropy).

std::vector<Kernel> LayerOps::mtp_forward() const
{
  const double h = s_.model.hidden_size, T = tokens_, e = bytes_;
  std::vector<Kernel> k{{KernelClass::memory, 0.0, 2 * tokens_ * h * e},      // embedding of the shifted tokens
                        {KernelClass::memory, 0.0, 2 * 2 * tokens_ * h * e}}; // the two RMSNorms
  cast(k, 2 * T * h, true);
  k.push_back(linear(T, 2 * h / s_.parallelism.tp, h)); // the projection (row-parallel over tp)
  for (const auto& x : s_.model.moe.enabled() ? moe_forward() : forward())
    k.push_back(x);
  for (const auto& x : logits_forward())
    k.push_back(x);
  return k;
}

std::vector<Kernel> LayerOps::mtp_backward() const
{
  const double h = s_.model.hidden_size, T = tokens_, e = bytes_;
  const bool moe = s_.model.moe.enabled();
  std::vector<Kernel> k = moe ? moe_recompute() : recompute();
  for (const auto& x : moe ? moe_backward() : backward())
    k.push_back(x);
  for (const auto& x : logits_backward())
    k.push_back(x);
  const Kernel proj = linear(T, 2 * h / s_.parallelism.tp, h);
  Kernel data = proj; // data and weight gradients of the projection
  data.n = proj.k;
  data.k = proj.n;
  k.push_back(data);
  k.push_back(weight_gradient(proj));
  k.push_back({KernelClass::memory, 0.0, 2 * 2 * 2 * tokens_ * h * e}); // the norms' backward
  return k;
}

void add_mtp(ChunkCost& cc, const scenario::Scenario& s, const LayerOps& ops, const Efficiency& eff)
{
  const int depth = s.model.mtp_depth;
  for (int d = 0; d < depth; ++d) {
    add_kernels(cc.forward, ops.mtp_forward(), eff);
    add_kernels(cc.backward, ops.mtp_backward(), eff);
  }
  if (depth > 0 && s.model.moe.enabled()) {
    const EpTraffic ep = ops.moe_ep_traffic();
    add_traffic(cc.forward.ep, ep, depth);
    add_traffic(cc.backward.ep, ep, depth * (s.training.recompute == scenario::Recompute::full ? 2 : 1));
  }
  if (depth > 0 && s.parallelism.tp > 1) { // a layer's TP traffic, blocking (the module's GEMMs are its own)
    const TpTraffic tp = ops.layer_tp_traffic();
    add_traffic(cc.forward.tp, tp, depth);
    add_traffic(cc.backward.tp, ops.layer_tp_backward().total(), depth);
    if (s.training.recompute == scenario::Recompute::full)
      add_traffic(cc.backward.tp, tp, depth);
  }
}

} // namespace trainsim::workload
