#include "trainsim/workload/Program.hpp"

#include <algorithm>
#include <cmath>

#include "trainsim/workload/Dvfs.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"

namespace trainsim::workload {

using scenario::Recompute;

namespace {

std::string tag(char dir, int mb, int chunk, int dst)
{
  return std::string(1, dir) + std::to_string(mb) + "." + std::to_string(chunk) + ">" + std::to_string(dst);
}

/// Per-micro-batch cost of every chunk of one stage.
std::vector<ChunkCost> chunk_costs(const scenario::Scenario& s, const LayerOps& ops, const Efficiency& eff, int stage)
{
  const auto& p = s.parallelism;
  const int layers = s.model.layers / (p.pp * p.vpp);
  PassCost layer_f, layer_b;
  add_kernels(layer_f, ops.forward(), eff);
  add_kernels(layer_b, ops.recompute(), eff);
  add_kernels(layer_b, ops.backward(), eff);
  TpTraffic tp = ops.layer_tp_traffic();
  // Context parallel: every layer's attention exchanges K/V chunks with the CP ring neighbour (cp-1 steps
  // in forward; K/V and dK/dV in backward), overlapped with the attention blocks as Transformer Engine does.
  CpTraffic cp_f, cp_b;
  if (p.cp > 1) {
    PassCost af, ab;
    add_kernels(af, ops.attention_forward(), eff);
    add_kernels(ab, ops.attention_backward(), eff);
    cp_f = {ops.cp_kv_bytes() * (p.cp - 1) * layers, (p.cp - 1) * layers, af.compute_s * layers};
    cp_b = {2.0 * ops.cp_kv_bytes() * (p.cp - 1) * layers, (p.cp - 1) * layers, ab.compute_s * layers};
    if (s.training.recompute == Recompute::full) { // the recomputed forward exchanges K/V again
      cp_b.bytes += cp_f.bytes;
      cp_b.steps += cp_f.steps;
      cp_b.attention_s += cp_f.attention_s;
    }
  }
  std::vector<ChunkCost> out(static_cast<size_t>(p.vpp));
  for (int c = 0; c < p.vpp; ++c) {
    ChunkCost& cc = out[static_cast<size_t>(c)];
    cc.forward.compute_s = layer_f.compute_s * layers;
    cc.forward.flops = layer_f.flops * layers;
    cc.backward.compute_s = layer_b.compute_s * layers;
    cc.backward.flops = layer_b.flops * layers;
    add_traffic(cc.forward.tp, tp, layers);
    add_traffic(cc.backward.tp, tp, layers * (s.training.recompute == Recompute::full ? 2 : 1));
    cc.forward.cp = cp_f;
    cc.backward.cp = cp_b;
    const int virtual_stage = c * p.pp + stage;
    if (virtual_stage == 0) {
      add_kernels(cc.forward, ops.embedding_forward(), eff);
      add_kernels(cc.backward, ops.embedding_backward(), eff);
    }
    if (virtual_stage == p.pp * p.vpp - 1) {
      add_kernels(cc.forward, ops.logits_forward(), eff);
      add_kernels(cc.backward, ops.logits_backward(), eff);
    }
  }
  return out;
}

void push_compute_and_tp(StageProgram& prog, const PassCost& cost, Pass pass, int mb, int chunk, double fraction)
{
  const bool cp = cost.cp.steps > 0;
  Op c{OpKind::compute, pass, (cost.compute_s - (cp ? cost.cp.attention_s : 0.0)) * fraction};
  c.microbatch = mb;
  c.chunk = chunk;
  prog.ops.push_back(c);
  prog.compute_s += c.seconds;
  if (cp) {
    Op r{OpKind::cp_comm, pass, cost.cp.attention_s * fraction};
    r.bytes = cost.cp.bytes * fraction;
    r.steps = std::max(1, static_cast<int>(std::lround(cost.cp.steps * fraction)));
    r.microbatch = mb;
    r.chunk = chunk;
    prog.ops.push_back(r);
    prog.compute_s += r.seconds;
  }
  if (cost.tp.ring_bytes > 0) {
    Op t{OpKind::tp_comm, pass};
    t.bytes = cost.tp.ring_bytes * fraction;
    t.steps = static_cast<int>(std::lround(cost.tp.ring_steps * fraction));
    t.microbatch = mb;
    t.chunk = chunk;
    prog.ops.push_back(t);
  }
}

} // namespace

namespace {

Workload build_at_clock(const scenario::Scenario& s, const scenario::Calibration& cal, double clock)
{
  Workload w;
  w.shape = ModelShape::of(s.model);
  w.memory = estimate_memory(s, w.shape, cal);
  check_fits(w.memory, s);
  w.model_flops_per_step = w.shape.model_flops_per_step(s);
  w.hardware_flops_per_step = w.shape.hardware_flops_per_step(s);
  w.microbatches = s.micro_batches_per_replica();
  const auto& p = s.parallelism;
  w.grad_collective = p.zero_stage >= 1 ? GradCollective::reduce_scatter : GradCollective::all_reduce;

  // FP8 runs only the linear layers' GEMMs at the FP8 peak (Transformer Engine); attention, batched
  // GEMMs and the logits stay 16-bit.
  const auto& acc = s.cluster.accelerator;
  const bool fp8 = s.training.precision == scenario::Precision::fp8;
  const double peak16 = fp8 ? (acc.peak(scenario::Precision::bf16) > 0 ? acc.peak(scenario::Precision::bf16)
                                                                       : acc.peak(scenario::Precision::fp16))
                            : acc.peak(s.training.precision);
  const Efficiency eff(peak16 > 0 ? peak16 : acc.peak(s.training.precision), acc.memory_bandwidth, cal, clock,
                       fp8 ? acc.peak(scenario::Precision::fp8) : 0.0);
  const LayerOps ops(s, w.shape);
  const double act_bytes = static_cast<double>(s.training.micro_batch_size) * s.model.seq_length *
                           s.model.hidden_size * 2.0 / p.tp; // scatter/gather across the TP ranks' NICs
  const int m = static_cast<int>(w.microbatches);
  const int vstages = p.pp * p.vpp;
  for (int stage = 0; stage < p.pp; ++stage) {
    StageProgram prog;
    prog.stage = stage;
    const auto costs = chunk_costs(s, ops, eff, stage);
    // Gradient buckets per chunk (reduced once the chunk's last backward has produced them).
    const double chunk_params = stage_params_per_rank(s, w.shape, stage) / p.vpp;
    const double chunk_grad_bytes = chunk_params * s.training.grad_reduce_bytes;
    const int buckets = s.grad_replicas() > 1 ? std::max(1, static_cast<int>(std::ceil(chunk_grad_bytes / p.grad_bucket_bytes))) : 0;
    std::vector<Op> deferred_buckets;
    for (const auto& st : one_f_one_b(p.pp, p.vpp, stage, m)) {
      const int v = st.chunk * p.pp + stage;
      const ChunkCost& cost = costs[static_cast<size_t>(st.chunk)];
      if (st.forward) {
        if (v > 0) {
          const int src = (v - 1) % p.pp;
          prog.ops.push_back(Op{OpKind::recv, Pass::forward, 0, act_bytes, 0, src, st.microbatch, st.chunk,
                                tag('f', st.microbatch, st.chunk, stage)});
        }
        push_compute_and_tp(prog, cost.forward, Pass::forward, st.microbatch, st.chunk, 1.0);
        if (v < vstages - 1) {
          const int dst = (v + 1) % p.pp;
          const int dst_chunk = (v + 1) / p.pp;
          prog.ops.push_back(Op{OpKind::send, Pass::forward, 0, act_bytes, 0, dst, st.microbatch, st.chunk,
                                tag('f', st.microbatch, dst_chunk, dst)});
        }
      } else {
        if (v < vstages - 1) {
          const int src = (v + 1) % p.pp;
          prog.ops.push_back(Op{OpKind::recv, Pass::backward, 0, act_bytes, 0, src, st.microbatch, st.chunk,
                                tag('b', st.microbatch, st.chunk, stage)});
        }
        const bool last_of_chunk = st.microbatch == m - 1;
        if (last_of_chunk && buckets > 0) {
          // Buckets fill as the backward pass walks the chunk's layers.
          for (int b = 0; b < buckets; ++b) {
            push_compute_and_tp(prog, cost.backward, Pass::backward, st.microbatch, st.chunk, 1.0 / buckets);
            Op g{OpKind::grad_bucket, Pass::backward, 0, chunk_grad_bytes / buckets};
            g.chunk = st.chunk;
            if (p.overlap_grad_reduce)
              prog.ops.push_back(g);
            else
              deferred_buckets.push_back(g);
          }
        } else {
          push_compute_and_tp(prog, cost.backward, Pass::backward, st.microbatch, st.chunk, 1.0);
        }
        if (v > 0) {
          const int dst = (v - 1) % p.pp;
          const int dst_chunk = (v - 1) / p.pp;
          prog.ops.push_back(Op{OpKind::send, Pass::backward, 0, act_bytes, 0, dst, st.microbatch, st.chunk,
                                tag('b', st.microbatch, dst_chunk, dst)});
        }
      }
    }
    for (const auto& g : deferred_buckets)
      prog.ops.push_back(g);
    if (buckets > 0)
      prog.ops.push_back(Op{OpKind::grad_wait, Pass::step});
    // Adam, memory-bound: fp32 params, grads, m, v read and written, a bf16 copy written, grad-norm pass.
    const double opt_params = stage_params_per_rank(s, w.shape, stage) / (p.zero_stage >= 1 ? s.grad_replicas() : 1);
    const double opt_time = opt_params * 34.0 / (s.cluster.accelerator.memory_bandwidth * cal.memory_efficiency);
    prog.ops.push_back(Op{OpKind::optimizer, Pass::step, opt_time});
    prog.compute_s += opt_time;
    if (p.zero_stage >= 1 && s.grad_replicas() > 1) {
      // Updated parameters are all-gathered in their storage type: 16-bit, or FP8 for the linear layers'
      // weights with FP8 primary weights.
      const double params = stage_params_per_rank(s, w.shape, stage);
      const double fp8 = s.training.fp8_params ? static_cast<double>(s.model.layers) / p.pp * w.shape.layer_params / p.tp : 0.0;
      Op g{OpKind::param_gather, Pass::step, 0, (params - fp8) * 2.0 + fp8};
      g.steps = p.overlap_param_gather ? 1 : 0; // 1: overlapped with the next step's forward (not waited here)
      prog.ops.push_back(g);
    }
    w.stages.push_back(std::move(prog));
  }
  return w;
}

} // namespace

double compute_state_utilisation(const scenario::Scenario& s, const Workload& w)
{
  double compute_s = 0;
  for (const auto& st : w.stages)
    for (const auto& op : st.ops)
      if (op.kind == OpKind::compute || op.kind == OpKind::cp_comm)
        compute_s += op.seconds;
  compute_s /= static_cast<double>(std::max<size_t>(1, w.stages.size()));
  const double per_rank = w.hardware_flops_per_step / static_cast<double>(s.cluster.total_accelerators());
  const double peak = s.cluster.accelerator.peak(s.training.precision) * w.clock;
  return compute_s > 0 && peak > 0 ? per_rank / (compute_s * peak) : 0.0;
}

Workload build_workload(const scenario::Scenario& s, const scenario::Calibration& cal)
{
  // Power caps and DVFS states slow the compute-bound part of every kernel (Efficiency); the clock under
  // a cap depends on the compute-state activity, which is taken from the nominal-clock program.
  Workload w = build_at_clock(s, cal, 1.0);
  w.compute_activity = compute_activity(s.power, cal, compute_state_utilisation(s, w));
  const double f = running_clock(s.cluster.accelerator, s.power, w.compute_activity);
  if (f < 1.0) {
    w = build_at_clock(s, cal, f);
    w.clock = f;
    w.compute_activity = compute_activity(s.power, cal, compute_state_utilisation(s, w));
  }
  return w;
}

} // namespace trainsim::workload
