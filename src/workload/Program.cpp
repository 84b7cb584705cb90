#include "trainsim/workload/Program.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/Dvfs.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"
#include "trainsim/workload/ProgramCheck.hpp"
#include "trainsim/workload/Sharding.hpp"

namespace trainsim::workload {

using scenario::Recompute;

namespace {

std::string tag(char dir, int mb, int chunk, int dst)
{
  return std::string(1, dir) + std::to_string(mb) + "." + std::to_string(chunk) + ">" + std::to_string(dst);
}

/// training.grad_accumulation "cast_add", DeepSpeed's BF16Optimizer (deepspeed/runtime/bf16_optimizer.py,
/// update_hp_grads, called by the pipeline engine after every micro-batch's backward):
/// `hp_grad.add_(lp.grad.to(fp32))` over the chunk's parameters: the cast reads 2 bytes and writes a 4-byte
/// temporary, the add reads it and the fp32 gradient and writes the sum: 18 bytes per parameter.
/// One memory-bound kernel per chunk (the per-tensor launches, two per parameter tensor, are left out).
Kernel cast_add_kernel(double params)
{
  Kernel k;
  k.cls = KernelClass::memory;
  k.bytes = 18.0 * params;
  return k;
}

/// Per-micro-batch cost of every chunk of one stage.
std::vector<ChunkCost> chunk_costs(const scenario::Scenario& s, const LayerOps& ops, const Efficiency& eff, int stage)
{
  const auto& p = s.parallelism;
  PassCost layer_f, layer_b;
  add_kernels(layer_f, ops.forward(), eff);
  add_kernels(layer_b, ops.recompute(), eff);
  add_kernels(layer_b, ops.backward(), eff);
  // Tensor-parallel communication per layer (LayerOps::tp_plan); full recompute runs the forward's again.
  const bool full = s.training.recompute == Recompute::full;
  const TpPlan tp_f = ops.layer_tp_forward(), tp_b = ops.layer_tp_backward();
  const TpPlan tp_mf = ops.layer_tp_forward(true), tp_mb = ops.layer_tp_backward(true);
  // Context parallel: every layer's attention exchanges K/V chunks with the CP ring neighbour (cp-1 steps
  // in forward; K/V and dK/dV in backward), overlapped with the attention blocks as Transformer Engine does.
  // cp_comm_type "all_gather" (TE's AttnFuncWithCPAndKVAllGather, Llama 3 section 3.3.2): the forward
  // all-gathers K and V (two ring all-gathers of cp-1 steps, (cp-1) x this rank's K/V sent), exposed before
  // attention; the backward gathers them again (TE saves only the local K and V) and reduce-scatters dK and dV
  // (two more of each): the same bytes as the ring, nothing beside them.
  CpTraffic cp_f, cp_b;
  if (p.cp > 1 && p.cp_comm_type == "all_gather") {
    cp_f = {ops.cp_kv_bytes() * (p.cp - 1), 2 * (p.cp - 1), 0.0, true};
    cp_b = {2.0 * ops.cp_kv_bytes() * (p.cp - 1), 4 * (p.cp - 1), 0.0, true};
    if (s.training.recompute == Recompute::full) { // the recomputed forward gathers K/V again
      cp_b.bytes += cp_f.bytes;
      cp_b.steps += cp_f.steps;
    }
  } else if (p.cp > 1) {
    PassCost af, ab;
    add_kernels(af, ops.attention_forward(), eff);
    add_kernels(ab, ops.attention_backward(), eff);
    // Per layer; scaled by each chunk's layer count below.
    cp_f = {ops.cp_kv_bytes() * (p.cp - 1), p.cp - 1, af.compute_s};
    cp_b = {2.0 * ops.cp_kv_bytes() * (p.cp - 1), p.cp - 1, ab.compute_s};
    if (s.training.recompute == Recompute::full) { // the recomputed forward exchanges K/V again
      cp_b.bytes += cp_f.bytes;
      cp_b.steps += cp_f.steps;
      cp_b.attention_s += cp_f.attention_s;
    }
  }
  std::vector<ChunkCost> out(static_cast<size_t>(p.chunks()));
  PassCost moe_f, moe_b;
  EpTraffic ep;
  if (s.model.moe.enabled()) {
    add_kernels(moe_f, ops.moe_forward(), eff);
    add_kernels(moe_b, ops.moe_recompute(), eff);
    add_kernels(moe_b, ops.moe_backward(), eff);
    ep = ops.moe_ep_traffic();
  }
  const int recompute_passes = s.training.recompute == Recompute::full ? 2 : 1;
  for (int c = 0; c < p.chunks(); ++c) {
    ChunkCost& cc = out[static_cast<size_t>(c)];
    const int layers = s.chunk_layers(stage, c).second;
    const int moe = stage_moe_layers(s, stage, c), dense = layers - moe;
    cc.forward.compute_s = layer_f.compute_s * dense + moe_f.compute_s * moe;
    cc.forward.flops = layer_f.flops * dense + moe_f.flops * moe;
    cc.backward.compute_s = layer_b.compute_s * dense + moe_b.compute_s * moe;
    cc.backward.flops = layer_b.flops * dense + moe_b.flops * moe;
    add_tp_plan(cc.forward, tp_f, eff, dense);
    add_tp_plan(cc.forward, tp_mf, eff, moe);
    add_tp_plan(cc.backward, tp_f, eff, full ? dense : 0);
    add_tp_plan(cc.backward, tp_mf, eff, full ? moe : 0);
    add_tp_plan(cc.backward, tp_b, eff, dense);
    add_tp_plan(cc.backward, tp_mb, eff, moe);
    add_traffic(cc.forward.ep, ep, moe);
    add_traffic(cc.backward.ep, ep, moe * recompute_passes);
    cc.forward.cp = {cp_f.bytes * layers, cp_f.steps * layers, cp_f.attention_s * layers, cp_f.blocking};
    cc.backward.cp = {cp_b.bytes * layers, cp_b.steps * layers, cp_b.attention_s * layers, cp_b.blocking};
    const int virtual_stage = s.virtual_stage(stage, c);
    if (virtual_stage == 0) {
      add_kernels(cc.forward, ops.embedding_forward(), eff);
      add_kernels(cc.backward, ops.embedding_backward(), eff);
    }
    if (virtual_stage == p.pp * p.vpp - 1) {
      add_kernels(cc.forward, ops.logits_forward(), eff);
      add_kernels(cc.backward, ops.logits_backward(), eff);
      add_mtp(cc, s, ops, eff);
    }
    if (s.training.grad_accumulation == "cast_add")
      add_kernels(cc.backward, {cast_add_kernel(stage_params_per_rank(s, ModelShape::of(s.model), stage, c))}, eff);
  }
  return out;
}

/// Zero-bubble schedules: the weight-gradient part W of each chunk's backward, per micro-batch. Every
/// linear layer's backward is a data-gradient and a weight-gradient GEMM of its forward GEMM's size
/// (LayerOps doubled()); W is the second of each (the output layer's too), the rest of the backward is B.
std::vector<double> chunk_weight_grad_s(const scenario::Scenario& s, const LayerOps& ops, const Efficiency& eff,
                                        int stage)
{
  auto gemms = [&](const std::vector<Kernel>& ks) {
    double t = 0;
    for (const auto& k : ks)
      if (k.cls == KernelClass::gemm || k.cls == KernelClass::fp8_gemm)
        t += eff.time(weight_gradient(k));
    return t;
  };
  const double layer = gemms(ops.forward()), moe = s.model.moe.enabled() ? gemms(ops.moe_forward()) : 0.0;
  const double logits = gemms(ops.logits_forward());
  std::vector<double> out;
  const auto& p = s.parallelism;
  for (int c = 0; c < p.chunks(); ++c) {
    const int layers = s.chunk_layers(stage, c).second, moe_layers = stage_moe_layers(s, stage, c);
    double w = layer * (layers - moe_layers) + moe * moe_layers;
    if (s.virtual_stage(stage, c) == p.pp * p.vpp - 1)
      w += logits;
    out.push_back(w);
  }
  return out;
}

PipelineSummary summarise_pipeline(const scenario::Scenario& s, const LayerOps& ops,
                                   const std::vector<Efficiency>& effs, int m)
{
  const auto& p = s.parallelism;
  PipelineSummary out;
  out.schedule = p.schedule;
  for (int v = 0; v < p.pp * p.vpp; ++v)
    out.layers_per_virtual_stage.push_back(s.chunk_layers(s.stage_of_virtual(v), s.chunk_of_virtual(v)).second);
  double busiest = 0, total = 0; // per stage: f + b + w per micro-batch
  for (int stage = 0; stage < p.pp; ++stage) {
    out.layers_per_stage.push_back(s.stage_layers(stage));
    const Efficiency& eff = effs[static_cast<size_t>(stage)]; // mixed pools: the stage's accelerator
    const auto costs = chunk_costs(s, ops, eff, stage);
    const auto w = chunk_weight_grad_s(s, ops, eff, stage);
    // DualPipe: a micro-batch runs one of the rank's two chunks, so its passes are per chunk (the mean).
    const double chunks_per_microbatch = p.dualpipe() ? 2.0 : 1.0, per = p.pp * chunks_per_microbatch;
    double t = 0;
    for (size_t c = 0; c < costs.size(); ++c) {
      out.forward_s += costs[c].forward.compute_s / per;
      out.backward_input_s += std::max(0.0, costs[c].backward.compute_s - w[c]) / per;
      out.backward_weight_s += w[c] / per;
      t += (costs[c].forward.compute_s + std::max(costs[c].backward.compute_s, w[c])) / chunks_per_microbatch;
    }
    busiest = std::max(busiest, t); // it paces the steady state of an uneven split
    total += t;
  }
  out.stage_imbalance = total > 0 ? busiest * p.pp / total : 1.0;
  out.bubble_closed_form = bubble_closed_form(p.schedule, p.pp, p.vpp, m, out.forward_s, out.backward_input_s,
                                              out.backward_weight_s, out.stage_imbalance);
  return out;
}

/// The 16-bit GEMMs of every stage's layers, output layer and MTP modules, for one micro-batch, summed into a
/// per-step, per-rank mean over the stages (Workload::gemm).
GemmSummary summarise_gemms(const scenario::Scenario& s, const LayerOps& ops, const Efficiency& eff, long m)
{
  GemmSummary g;
  g.ceiling = eff.ceiling().enabled();
  g.sm_count = eff.ceiling().sm_count;
  g.matmul_max_fraction = eff.ceiling().max_fraction;
  double flops = 0, at_peak = 0, cost = 0; // at_peak: sum of flops / fraction
  auto add = [&](const std::vector<Kernel>& ks, double times) {
    for (const auto& k : ks)
      if (k.cls == KernelClass::gemm && k.flops > 0 && times > 0) {
        flops += k.flops * times;
        at_peak += k.flops / eff.fraction(k) * times;
        cost += eff.shape_cost(k) * times;
      }
  };
  const double moe = s.model.moe.enabled() ? s.model.layers - s.model.moe.first_dense_layers : 0;
  for (const auto& ks : {ops.forward(), ops.recompute(), ops.backward()})
    add(ks, s.model.layers - moe);
  if (moe > 0)
    for (const auto& ks : {ops.moe_forward(), ops.moe_recompute(), ops.moe_backward()})
      add(ks, moe);
  add(ops.logits_forward(), 1);
  add(ops.logits_backward(), 1);
  for (int d = 0; d < s.model.mtp_depth; ++d) {
    add(ops.mtp_forward(), 1);
    add(ops.mtp_backward(), 1);
  }
  g.efficiency = at_peak > 0 ? flops / at_peak : 0.0;
  g.shape_cost_s = cost * static_cast<double>(m) / s.parallelism.pp;
  return g;
}

/// One pass's compute, TP and CP ops, or piece `piece` of the 1 / `fraction` equal pieces it is split into
/// (gradient buckets, ZeRO-3 units).
void push_compute_and_tp(StageProgram& prog, const PassCost& cost, Pass pass, int mb, int chunk, double fraction,
                         int piece = 0)
{
  // The GEMMs beside TP collectives run with them (each tp_comm op's seconds), out of the compute op.
  double overlapped = 0;
  for (const auto& o : cost.tp_beside)
    overlapped += o.traffic.ring_bytes > 0 ? o.gemm_s * fraction : 0.0;
  const bool cp = cost.cp.steps > 0;
  auto cp_op = [&] {
    Op r{OpKind::cp_comm, pass, cost.cp.attention_s * fraction};
    r.bytes = cost.cp.bytes * fraction;
    r.steps = std::max(1, static_cast<int>(std::lround(cost.cp.steps * fraction)));
    if (cost.cp.blocking) { // whole ring steps, the pass's in all: each piece its share, each step equal bytes
      const long steps = cost.cp.steps, pieces = std::lround(1.0 / fraction);
      r.steps = static_cast<int>(steps * (piece + 1) / pieces - steps * piece / pieces);
      r.bytes = cost.cp.bytes * r.steps / static_cast<double>(steps);
      if (r.steps == 0)
        return;
    }
    r.microbatch = mb;
    r.chunk = chunk;
    prog.ops.push_back(r);
    prog.compute_s += r.seconds;
  };
  if (cp && cost.cp.blocking) // all_gather: the K/V gathers (and dK/dV reduce-scatters) around the attention
    cp_op();
  Op c{OpKind::compute, pass, (cost.compute_s - (cp ? cost.cp.attention_s : 0.0)) * fraction - overlapped};
  c.microbatch = mb;
  c.chunk = chunk;
  prog.ops.push_back(c);
  prog.compute_s += c.seconds + overlapped;
  if (cp && !cost.cp.blocking)
    cp_op();
  auto tp_op = [&](const TpTraffic& tr, double seconds) {
    if (tr.ring_bytes <= 0)
      return;
    Op t{OpKind::tp_comm, pass, seconds};
    t.bytes = tr.ring_bytes * fraction;
    t.steps = std::max(1, static_cast<int>(std::lround(tr.ring_steps * fraction)));
    t.microbatch = mb;
    t.chunk = chunk;
    prog.ops.push_back(t);
  };
  tp_op(cost.tp, 0.0); // blocking
  for (const auto& o : cost.tp_beside)
    tp_op(o.traffic, o.gemm_s * fraction);
  if (cost.ep.bytes > 0) {
    Op a{OpKind::ep_comm, pass};
    a.bytes = cost.ep.bytes * fraction;
    a.nic_bytes = cost.ep.node_limited ? cost.ep.nic_bytes * fraction : -1.0;
    a.steps = static_cast<int>(std::lround(cost.ep.all_to_alls * fraction));
    a.microbatch = mb;
    a.chunk = chunk;
    prog.ops.push_back(a);
  }
}

/// ZeRO-3/FSDP: a pass runs piece by piece (ShardPlan: a unit, or a DeepSpeed bucket); each piece's
/// parameters are all-gathered first unless kept from forward (param_wait marks where; the prefetches are
/// placed below) and, in backward, its gradients reduce-scattered right after (DeepSpeed: once a reduce
/// bucket is full, and at the end of the pass; HSDP: then all-reduced across the shard's replicas).
void push_units(StageProgram& prog, const scenario::Scenario& s, const ShardPlan& shards, const PassCost& cost,
                Pass pass, int mb, int chunk)
{
  const auto& u = shards.pieces[static_cast<size_t>(chunk)];
  const auto& again = shards.backward_gather[static_cast<size_t>(chunk)];
  std::vector<Op> reduce;
  double pending = 0; // DeepSpeed: gradient elements in the reduce bucket
  auto reduce_grads = [&](double params) {
    Op g{OpKind::grad_bucket, Pass::backward, 0, params * s.training.grad_reduce_bytes};
    g.microbatch = mb;
    g.chunk = chunk;
    g.group = shards.shard_replicas > 1 ? DpGroup::shard : DpGroup::all;
    (s.parallelism.overlap_grad_reduce ? prog.ops : reduce).push_back(g);
    if (shards.shard_replicas > 1) { // HSDP: the shard's gradients across its replicas
      g.group = DpGroup::replica;
      g.bytes /= shards.shard;
      (s.parallelism.overlap_grad_reduce ? prog.ops : reduce).push_back(g);
    }
  };
  for (size_t i = 0; i < u.size(); ++i) {
    const size_t k = pass == Pass::forward ? i : u.size() - 1 - i; // backward walks the units in reverse
    if (pass == Pass::forward || again[k]) {
      Op wait{OpKind::param_wait, pass, 0, u[k] * 2.0};
      wait.microbatch = mb;
      wait.chunk = chunk;
      prog.ops.push_back(wait);
    }
    push_compute_and_tp(prog, cost, pass, mb, chunk, 1.0 / static_cast<double>(u.size()), static_cast<int>(i));
    if (pass == Pass::backward) {
      pending += u[k];
      if (shards.reduce_bucket <= 0 || pending >= shards.reduce_bucket || i + 1 == u.size()) {
        reduce_grads(pending);
        pending = 0;
      }
    }
  }
  prog.ops.insert(prog.ops.end(), reduce.begin(), reduce.end());
}

/// ZeRO-3 prefetch: the all-gather of the k-th unit execution of the step is issued before the compute of
/// execution k - depth (across passes and micro-batches, in program order, as DeepSpeed's recorded fetch
/// order or FSDP's forward/backward prefetch do); each param_wait then waits for its own all-gather.
void place_prefetches(StageProgram& prog, int depth)
{
  std::vector<double> bytes;
  for (const auto& op : prog.ops)
    if (op.kind == OpKind::param_wait)
      bytes.push_back(op.bytes);
  const size_t n = bytes.size();
  std::vector<Op> out;
  out.reserve(prog.ops.size() + n);
  size_t issued = 0, waits = 0;
  for (const auto& op : prog.ops) {
    if (op.kind == OpKind::param_wait) {
      ++waits;
      for (; issued < std::min(n, waits + static_cast<size_t>(depth)); ++issued) {
        Op g{OpKind::param_prefetch, op.pass, 0, bytes[issued]};
        g.microbatch = op.microbatch;
        g.chunk = op.chunk;
        out.push_back(g);
      }
      Op wait = op;
      wait.steps = static_cast<int>(waits);
      out.push_back(wait);
    } else {
      out.push_back(op);
    }
  }
  prog.ops = std::move(out);
}

} // namespace

namespace {

/// The distributed optimizer's all-gathers of the updated parameters with an interleaved pipeline (several
/// chunks), overlapped with the next step's forward (overlap_param_gather) and simulated in this step as its
/// steady state; `gathers[c]` holds chunk c's jobs. As Megatron-core's interleaved schedule does (its
/// param_sync_func, with the forward pre-hook's finish_param_sync waiting for a chunk's buckets): chunks 0 and 1
/// are dispatched at the start of the step, chunk c + 1 at chunk c's first forward (c >= 1), and a chunk's first
/// forward waits for its own parameters, so the first chunk's all-gather is exposed (MegaScale, NSDI'24
/// Section 3.2). The stream is the gradients' (one communicator): a wait with `steps` k leaves the last k
/// jobs pending.
void place_param_gathers(StageProgram& prog, const std::vector<std::vector<Op>>& gathers)
{
  const int chunks = static_cast<int>(gathers.size());
  const size_t none = prog.ops.size();
  std::vector<size_t> first(static_cast<size_t>(chunks), none);
  for (size_t i = 0; i < prog.ops.size(); ++i) {
    const Op& op = prog.ops[i];
    const bool computes = op.kind == OpKind::compute || op.kind == OpKind::tp_comm || op.kind == OpKind::ep_comm;
    if (computes && op.pass == Pass::forward && first[static_cast<size_t>(op.chunk)] == none)
      first[static_cast<size_t>(op.chunk)] = i;
  }
  std::vector<int> order(static_cast<size_t>(chunks));
  for (int c = 0; c < chunks; ++c)
    order[static_cast<size_t>(c)] = c;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return first[static_cast<size_t>(a)] < first[static_cast<size_t>(b)]; });
  auto jobs = [&](size_t j) -> const std::vector<Op>& { return gathers[static_cast<size_t>(order[j])]; };
  std::vector<Op> ops;
  ops.reserve(prog.ops.size() + 2 * static_cast<size_t>(chunks) * (jobs(0).size() + 1));
  size_t issued = 0;
  for (; issued < std::min<size_t>(2, order.size()); ++issued)
    ops.insert(ops.end(), jobs(issued).begin(), jobs(issued).end());
  size_t next = 0; // the next chunk (in first-forward order) whose parameters a forward waits for
  for (size_t i = 0; i < prog.ops.size(); ++i) {
    for (; next < order.size() && first[static_cast<size_t>(order[next])] == i; ++next) {
      Op wait{OpKind::grad_wait, Pass::forward};
      wait.chunk = order[next];
      wait.steps = issued > next + 1 ? static_cast<int>(jobs(next + 1).size()) : 0;
      ops.push_back(wait);
      if (issued == next + 1 && issued < order.size()) {
        ops.insert(ops.end(), jobs(issued).begin(), jobs(issued).end());
        ++issued;
      }
    }
    ops.push_back(prog.ops[i]);
  }
  prog.ops.swap(ops);
}

/// The ops after the last backward: the optimizer step and, with the distributed optimizer (ZeRO-1/2), the
/// all-gather of the updated parameters (interleaved and overlapped: per chunk, place_param_gathers).
void push_step_ops(StageProgram& prog, const scenario::Scenario& s, const Workload& w, const scenario::Calibration& cal,
                   int stage, double stage_params, double stage_expert)
{
  const auto& p = s.parallelism;
  const bool expert_dp = w.streams.expert_dp > 1;
  // Adam, memory-bound: fp32 params, grads, m, v read and written, a bf16 copy written, grad-norm pass.
  const double shards = p.zero_stage == 3 ? p.shard_ranks() : s.grad_replicas(); // HSDP: its shard group
  const double opt_params = (stage_params - stage_expert) / (p.zero_stage >= 1 ? shards : 1) +
                            stage_expert / (p.zero_stage >= 1 ? s.grad_replicas() / p.ep : 1);
  const double opt_time = opt_params * 34.0 / (s.stage_accelerator(stage).memory_bandwidth * cal.memory_efficiency);
  prog.ops.push_back(Op{OpKind::optimizer, Pass::step, opt_time});
  prog.compute_s += opt_time;
  if (p.zero_stage >= 1 && p.zero_stage < 3 && w.streams.grad) { // ZeRO-3 gathers before each use instead
    // Updated parameters are all-gathered in their storage type: 16-bit, or FP8 for the linear layers'
    // weights with FP8 primary weights. Routed experts' over their expert-data-parallel group.
    const double dense = stage_params - stage_expert;
    const double fp8 =
        s.training.fp8_params
            ? std::min(dense,
                       (s.stage_layers(stage) - stage_moe_layers(s, stage)) * w.shape.layer_params / p.tp +
                           stage_moe_layers(s, stage) * (w.shape.moe_layer_params - w.shape.expert_params) / p.tp)
            : 0.0;
    const double expert_bytes = s.training.fp8_params ? 1.0 : 2.0;
    // Interleaved and overlapped: one all-gather per chunk, before its first forward (place_param_gathers).
    // One chunk overlapped: at the end of the step, running beside the next step (not waited for by its
    // forward: docs/at-scale.md says why).
    const bool per_chunk = p.overlap_param_gather && p.chunks() > 1;
    std::vector<std::vector<Op>> gathers(static_cast<size_t>(per_chunk ? p.chunks() : 1));
    for (size_t c = 0; c < gathers.size(); ++c) {
      const int chunk = per_chunk ? static_cast<int>(c) : -1; // -1: the whole stage
      const double ex = per_chunk ? stage_expert_params_per_rank(s, w.shape, stage, chunk) : stage_expert;
      const double share =
          per_chunk && dense > 0 ? (stage_params_per_rank(s, w.shape, stage, chunk) - ex) / dense : 1.0;
      Op g{OpKind::param_gather, Pass::step, 0, ((dense - fp8) * 2.0 + fp8) * share};
      g.steps = p.overlap_param_gather ? 1 : 0; // 1: not waited here
      g.chunk = static_cast<int>(c);
      gathers[c].push_back(g);
      if (expert_dp && ex > 0) {
        g.bytes = ex * expert_bytes;
        g.expert = true;
        gathers[c].push_back(g);
      }
    }
    if (per_chunk)
      place_param_gathers(prog, gathers);
    else
      prog.ops.insert(prog.ops.end(), gathers[0].begin(), gathers[0].end());
  }
}

/// The calibration as it applies to one part: its 16-bit GEMMs at gemm_mamf_fraction of its own measured
/// best-shape rate and fused attention at its own fraction, where the catalogue has them (docs/calibration.md).
scenario::Calibration part_calibration(const scenario::Accelerator& acc, const scenario::Calibration& cal)
{
  scenario::Calibration own = cal;
  if (acc.attention_efficiency > 0)
    own.attention_efficiency = acc.attention_efficiency;
  if (cal.gemm_mamf_fraction > 0 && acc.matmul_max_fraction > 0)
    own.gemm_efficiency = cal.gemm_mamf_fraction * acc.matmul_max_fraction;
  return own;
}

/// FP8 runs only the linear layers' GEMMs at the FP8 peak (Transformer Engine); attention, batched GEMMs
/// and the logits stay 16-bit.
/// Mixed pools: the accelerator of pipeline stage `stage` (Scenario::stage_accelerator).
Efficiency efficiency_of(const scenario::Scenario& s, const scenario::Calibration& cal, double clock, int stage)
{
  const auto& acc = s.stage_accelerator(stage);
  const bool fp8 = s.training.precision == scenario::Precision::fp8;
  const double peak16 = fp8 ? (acc.peak(scenario::Precision::bf16) > 0 ? acc.peak(scenario::Precision::bf16)
                                                                       : acc.peak(scenario::Precision::fp16))
                            : acc.peak(s.training.precision);
  GemmCeiling ceiling; // /simulation/gemm_ceiling: the accelerator's shape-aware ceiling, where it has one
  if (s.simulation.gemm_ceiling)
    ceiling = {acc.sm_count, acc.matmul_max_fraction};
  return Efficiency(peak16 > 0 ? peak16 : acc.peak(s.training.precision), acc.memory_bandwidth,
                    part_calibration(acc, cal), clock, fp8 ? acc.peak(scenario::Precision::fp8) : 0.0, ceiling);
}

/// Per pipeline stage: mixed pools compute each stage on its pool's accelerator.
std::vector<Efficiency> stage_efficiencies(const scenario::Scenario& s, const scenario::Calibration& cal, double clock)
{
  std::vector<Efficiency> out;
  for (int stage = 0; stage < s.parallelism.pp; ++stage)
    out.push_back(efficiency_of(s, cal, clock, stage));
  return out;
}

/// The pipeline receive (`send` false) before a pass or the send after it: to the rank holding the next
/// virtual stage of the micro-batch's walk (forward) or the previous one (backward). A neighbour on this
/// same rank (the turn of a V placement) hands over in memory; DualPipe's chunk 1 walks the ranks down.
void push_transfer(StageProgram& prog, const scenario::Scenario& s, int stage, const PipelineStep& st, double bytes,
                   bool send)
{
  const auto& p = s.parallelism;
  const int u = s.virtual_stage(stage, st.chunk) + (st.forward == send ? 1 : -1);
  if (u < 0 || u >= p.pp * p.vpp)
    return;
  const int peer = p.dualpipe() ? (st.chunk == 0 ? u : p.pp - 1 - u) : s.stage_of_virtual(u);
  if (peer == stage)
    return;
  const char dir = st.forward ? 'f' : 'b';
  const Pass pass = st.forward ? Pass::forward : Pass::backward;
  if (send) {
    prog.ops.push_back(Op{OpKind::send, pass, 0, bytes, 0, peer, st.microbatch, st.chunk,
                          tag(dir, st.microbatch, p.dualpipe() ? st.chunk : s.chunk_of_virtual(u), peer)});
    prog.ops.back().blocking = p.pipeline_p2p == "blocking";
  } else {
    prog.ops.push_back(
        Op{OpKind::recv, pass, 0, bytes, 0, peer, st.microbatch, st.chunk, tag(dir, st.microbatch, st.chunk, stage)});
    prog.ops.back().blocking = p.pipeline_p2p == "blocking";
  }
}

/// pipeline_p2p "blocking", DeepSpeed's pipeline engine (deepspeed/runtime/pipe/schedule.py, TrainSchedule):
/// a step is 2 (m + p - 1) slots, stage s runs the forward of micro-batch i in slot 2 i + s and the backward
/// of j in slot 2 j + 2 p - 1 - s, and a pass's output is sent in the slot after it: a forward slot sends the
/// previous backward's gradient before it receives its activation, a backward slot receives its gradient
/// before it sends the previous forward's activation. So a forward's send waits for the next pass's receive
/// when the next slot holds backward j = i + s + 1 - p (the steady state); with blocking sends any other
/// order can deadlock. Sends of backwards, and of forwards before an empty slot, go at once.
bool sends_after_next_recv(const scenario::Scenario& s, int stage, const PipelineStep& st, long m)
{
  const auto& p = s.parallelism;
  if (p.pipeline_p2p != "blocking" || !st.forward || stage == p.pp - 1)
    return false;
  const long j = st.microbatch + stage + 1L - p.pp;
  return j >= 0 && j < m;
}

/// A pass's output send: at once, or (sends_after_next_recv) kept in `deferred` for the next pass.
void push_output_send(StageProgram& prog, const scenario::Scenario& s, int stage, const PipelineStep& st, double bytes,
                      long m, std::optional<PipelineStep>& deferred)
{
  if (sends_after_next_recv(s, stage, st, m))
    deferred = st;
  else
    push_transfer(prog, s, stage, st, bytes, true);
}

/// DeepSpeed's backward slot after its receive (RecvGrad): the deferred activation of the previous forward.
void push_deferred_send(StageProgram& prog, const scenario::Scenario& s, int stage, const PipelineStep& st,
                        double bytes, std::optional<PipelineStep>& deferred)
{
  if (!deferred)
    return;
  TRAINSIM_ASSERT(st.kind == StepKind::backward && st.microbatch == deferred->microbatch + stage + 1 - s.parallelism.pp,
                  "a deferred activation send precedes the backward of its TrainSchedule slot");
  push_transfer(prog, s, stage, *deferred, bytes, true);
  deferred.reset();
}

/// DualPipe's overlapped forward & backward pair (DeepSeek-V3 sec. 3.2.1, Fig. 4): both passes' inputs
/// received, then their compute and the expert-parallel all-to-alls of both run together (one ep_comm op
/// carrying the compute seconds: only what the all-to-alls take beyond the compute is exposed), then both
/// outputs sent. Without all-to-alls (a dense model) the two passes run one after the other.
void push_pair(StageProgram& prog, const scenario::Scenario& s, int stage, std::array<const PipelineStep*, 2> st,
               std::array<PassCost, 2> cost, double bytes)
{
  for (const auto* x : st)
    push_transfer(prog, s, stage, *x, bytes, false);
  if (cost[0].ep.bytes + cost[1].ep.bytes > 0 && cost[0].cp.steps + cost[1].cp.steps == 0) {
    Op a{OpKind::ep_comm, Pass::forward, cost[0].compute_s + cost[1].compute_s};
    for (const auto& c : cost) {
      a.bytes += c.ep.bytes;
      a.nic_bytes = c.ep.node_limited ? std::max(0.0, a.nic_bytes) + c.ep.nic_bytes : -1.0;
      a.steps += c.ep.all_to_alls;
    }
    a.microbatch = st[0]->microbatch;
    a.chunk = st[0]->chunk;
    prog.ops.push_back(a);
    prog.compute_s += a.seconds;
    for (int k = 0; k < 2; ++k) { // tensor-parallel traffic stays blocking, all of it
      PassCost tp_only;
      tp_only.tp = cost[static_cast<size_t>(k)].tp_total();
      if (tp_only.tp.ring_bytes > 0)
        push_compute_and_tp(prog, tp_only, k == 0 ? Pass::forward : Pass::backward,
                            st[static_cast<size_t>(k)]->microbatch, st[static_cast<size_t>(k)]->chunk, 1.0);
    }
  } else {
    push_compute_and_tp(prog, cost[0], Pass::forward, st[0]->microbatch, st[0]->chunk, 1.0);
    push_compute_and_tp(prog, cost[1], Pass::backward, st[1]->microbatch, st[1]->chunk, 1.0);
  }
  for (const auto* x : st)
    push_transfer(prog, s, stage, *x, bytes, true);
}

/// What compute_state_utilisation counts of an op: the compute it runs, or overlaps (tp_comm, cp_comm and
/// ep_comm with DualPipe: the compute they overlap with).
bool counts_as_compute(OpKind k)
{
  return k == OpKind::compute || k == OpKind::tp_comm || k == OpKind::cp_comm || k == OpKind::ep_comm;
}

/// Adds the counted seconds of `ops` to `sum`, in program order, and drops the ops (build_workload_figures).
void drain_compute_seconds(std::vector<Op>& ops, double& sum)
{
  for (const auto& op : ops)
    if (counts_as_compute(op.kind))
      sum += op.seconds;
  ops.clear();
}

/// A pipeline step's cost on one stage: its chunk's forward or backward, or the part of the backward a
/// zero-bubble schedule's B (without the weight-gradient GEMMs) or W step (those GEMMs alone) runs.
PassCost pass_cost(const std::vector<ChunkCost>& costs, const std::vector<double>& w_s, const PipelineStep& st)
{
  PassCost cost =
      st.forward ? costs[static_cast<size_t>(st.chunk)].forward : costs[static_cast<size_t>(st.chunk)].backward;
  const double w_part = w_s[static_cast<size_t>(st.chunk)];
  if (st.kind == StepKind::backward_input) { // B: the backward without its weight-gradient GEMMs
    cost.compute_s = std::max(0.0, cost.compute_s - w_part);
    // The collectives that ran beside the weight-gradient GEMMs (deferred to W) block in B.
    std::vector<TpBeside> kept;
    for (const auto& o : cost.tp_beside)
      if (o.weight_gradient)
        add_traffic(cost.tp, o.traffic);
      else
        kept.push_back(o);
    cost.tp_beside = std::move(kept);
  } else if (st.kind == StepKind::backward_weight) { // W: local GEMMs, no communication
    cost = PassCost{};
    cost.compute_s = w_part;
  }
  return cost;
}

/// The workload at a clock. With `compute_seconds`, the programs are not kept: as they are built, their ops
/// are added to *compute_seconds as compute_state_utilisation would sum them (same ops, same order) and
/// dropped, and w.stages stays empty (build_workload_figures).
Workload build_at_clock(const scenario::Scenario& s, const scenario::Calibration& cal, double clock,
                        double* compute_seconds = nullptr)
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

  const std::vector<Efficiency> effs = stage_efficiencies(s, cal, clock);
  const LayerOps ops(s, w.shape);
  // One rank's share of a micro-batch's boundary activations: its seq/cp tokens (context parallelism),
  // scattered/gathered across the TP ranks' NICs.
  const double act_bytes =
      static_cast<double>(s.training.micro_batch_size) * s.model.seq_length * s.model.hidden_size * 2.0 / p.tp / p.cp;
  const int m = static_cast<int>(w.microbatches);
  w.streams = plan_streams(s);
  const bool zero3 = w.streams.params;
  const auto orders = schedule_orders(p.schedule, p.pp, p.vpp, m);
  w.pipeline = summarise_pipeline(s, ops, effs, m);
  for (int stage = 0; stage < p.pp; ++stage) {
    StageProgram prog{stage, {}, 0.0};
    const Efficiency& eff = effs[static_cast<size_t>(stage)];
    const auto costs = chunk_costs(s, ops, eff, stage);
    const ShardPlan shards = zero3 ? shard_plan(s, w.shape, stage) : ShardPlan{};
    // Gradient buckets per chunk (reduced once the chunk's last backward has produced them).
    const double stage_expert = stage_expert_params_per_rank(s, w.shape, stage);
    const double stage_params = stage_params_per_rank(s, w.shape, stage);
    const double chunk_params = (stage_params - stage_expert) / p.chunks();
    const double chunk_grad_bytes = chunk_params * s.training.grad_reduce_bytes;
    // Routed experts' gradients reduce over their expert-data-parallel group (dp / ep ranks).
    const bool expert_dp = w.streams.expert_dp > 1;
    std::vector<double> chunk_expert_grad_bytes;
    for (int c = 0; c < p.chunks(); ++c)
      chunk_expert_grad_bytes.push_back(stage_expert_params_per_rank(s, w.shape, stage, c) *
                                        s.training.grad_reduce_bytes);
    const int buckets =
        w.streams.grad ? std::max(1, static_cast<int>(std::ceil(chunk_grad_bytes / p.grad_bucket_bytes))) : 0;
    std::vector<Op> deferred_buckets;
    // The backward's gradient buckets: they fill as the pass walks the chunk's layers (zero-bubble
    // schedules: as its W step does, which produces the weight gradients).
    auto push_with_buckets = [&](const PassCost& cost, int mb, int chunk) {
      std::vector<Op> pass_buckets;
      for (int b = 0; b < buckets; ++b) {
        push_compute_and_tp(prog, cost, Pass::backward, mb, chunk, 1.0 / buckets, b);
        Op g{OpKind::grad_bucket, Pass::backward, 0, chunk_grad_bytes / buckets};
        g.chunk = chunk;
        auto& into = p.overlap_grad_reduce ? prog.ops : (p.zero_stage == 2 ? pass_buckets : deferred_buckets);
        into.push_back(g);
        if (expert_dp && chunk_expert_grad_bytes[static_cast<size_t>(chunk)] > 0) {
          Op x = g;
          x.bytes = chunk_expert_grad_bytes[static_cast<size_t>(chunk)] / buckets;
          x.expert = true;
          into.push_back(x);
        }
      }
      prog.ops.insert(prog.ops.end(), pass_buckets.begin(), pass_buckets.end());
    };
    const auto w_s = chunk_weight_grad_s(s, ops, eff, stage);
    auto step_cost = [&](const PipelineStep& st) { return pass_cost(costs, w_s, st); };
    const auto& order = orders[static_cast<size_t>(stage)];
    std::optional<PipelineStep> deferred; // pipeline_p2p "blocking": a forward's send, issued in the next slot
    for (size_t i = 0; i < order.size(); ++i) {
      if (compute_seconds) // figures only: the ops so far are counted and dropped
        drain_compute_seconds(prog.ops, *compute_seconds);
      const auto& st = order[i];
      const PassCost cost = step_cost(st);
      // ZeRO-0/1 reduce the accumulated gradients once, after the chunk's last micro-batch (DualPipe: m/2
      // per chunk); ZeRO-2 keeps only a shard of them, so every micro-batch's backward reduce-scatters.
      auto reduce_now = [&](const PipelineStep& x) {
        return (x.microbatch == (p.dualpipe() ? m / 2 : m) - 1 || p.zero_stage == 2) && buckets > 0;
      };
      if (st.kind == StepKind::backward_weight) {
        if (reduce_now(st))
          push_with_buckets(cost, st.microbatch, st.chunk);
        else
          push_compute_and_tp(prog, cost, Pass::backward, st.microbatch, st.chunk, 1.0);
        continue;
      }
      if (st.overlapped && i + 1 < order.size()) { // DualPipe's F&B pair: this forward and the next backward
        const auto& bw = order[++i];
        push_pair(prog, s, stage, {&st, &bw}, {cost, step_cost(bw)}, act_bytes);
        if (reduce_now(bw)) // the gradients of the pair's backward (ZeRO-2), after it
          push_with_buckets(PassCost{}, bw.microbatch, bw.chunk);
        continue;
      }
      const Pass pass = st.forward ? Pass::forward : Pass::backward;
      push_transfer(prog, s, stage, st, act_bytes, false);
      push_deferred_send(prog, s, stage, st, act_bytes, deferred);
      if (zero3)
        push_units(prog, s, shards, cost, pass, st.microbatch, st.chunk);
      else if (st.kind == StepKind::backward && reduce_now(st))
        push_with_buckets(cost, st.microbatch, st.chunk);
      else
        push_compute_and_tp(prog, cost, pass, st.microbatch, st.chunk, 1.0);
      push_output_send(prog, s, stage, st, act_bytes, m, deferred);
    }
    TRAINSIM_ASSERT(!deferred, "every deferred activation send is issued");
    for (const auto& g : deferred_buckets)
      prog.ops.push_back(g);
    if (zero3)
      place_prefetches(prog, shards.prefetch);
    if (buckets > 0 || zero3)
      prog.ops.push_back(Op{OpKind::grad_wait, Pass::step});
    push_step_ops(prog, s, w, cal, stage, stage_params, stage_expert);
    if (compute_seconds)
      drain_compute_seconds(prog.ops, *compute_seconds);
    else
      w.stages.push_back(std::move(prog));
  }
  return w;
}

} // namespace

StreamPlan plan_streams(const scenario::Scenario& s)
{
  // Decided once, here: the simulator creates what these say (issue 16: it used to decide ZeRO-3's gathers
  // from dp alone, so a dp 1, cp 2 program's parameter prefetches found no stream and it crashed).
  StreamPlan plan;
  plan.grad = s.grad_replicas() > 1;
  plan.params = s.parallelism.zero_stage == 3 && plan.grad;
  plan.expert_dp = s.grad_replicas() / s.parallelism.ep;
  if (plan.params && s.parallelism.fsdp_shard_group > 0 && s.parallelism.fsdp_shard_group < s.grad_replicas())
    plan.shard = s.parallelism.fsdp_shard_group; // HSDP
  return plan;
}

namespace {

/// compute_state_utilisation from the summed compute seconds of every stage's ops.
double utilisation(const scenario::Scenario& s, const Workload& w, double compute_s)
{
  compute_s /= static_cast<double>(std::max(1, s.parallelism.pp)); // the stages' mean
  const double per_rank = w.hardware_flops_per_step / static_cast<double>(s.cluster.total_accelerators());
  const double peak = s.cluster.mean_peak(s.training.precision) * w.clock;
  return compute_s > 0 && peak > 0 ? per_rank / (compute_s * peak) : 0.0;
}

/// build_workload, or with `programs` false build_workload_figures.
Workload make_workload(const scenario::Scenario& s, const scenario::Calibration& cal, bool programs)
{
  // Power caps and DVFS states slow the compute-bound part of every kernel (Efficiency); the clock under
  // a cap depends on the compute-state activity, which is taken from the nominal-clock program.
  double sum = 0;
  Workload w = build_at_clock(s, cal, 1.0, programs ? nullptr : &sum);
  // Activity is utilisation over the GEMM rate of the cluster's part (pools: the first's).
  const scenario::Calibration own = part_calibration(s.cluster.accelerator, cal);
  w.compute_activity =
      compute_activity(s.power, own, programs ? compute_state_utilisation(s, w) : utilisation(s, w, sum));
  const double f = running_clock(s.cluster.accelerator, s.power, w.compute_activity);
  if (f < 1.0) {
    sum = 0;
    w = build_at_clock(s, cal, f, programs ? nullptr : &sum);
    w.clock = f;
    w.compute_activity =
        compute_activity(s.power, own, programs ? compute_state_utilisation(s, w) : utilisation(s, w, sum));
  }
  w.gemm = summarise_gemms(s, LayerOps(s, w.shape), efficiency_of(s, cal, w.clock, 0), w.microbatches);
  w.model_flops_per_step_causal = w.shape.model_flops_per_step_causal(s);
  return w;
}

} // namespace

double compute_state_utilisation(const scenario::Scenario& s, const Workload& w)
{
  double compute_s = 0;
  for (const auto& st : w.stages)
    for (const auto& op : st.ops)
      if (counts_as_compute(op.kind)) // tp_comm, ep_comm (DualPipe): the compute they overlap with
        compute_s += op.seconds;
  return utilisation(s, w, compute_s);
}

Workload build_workload(const scenario::Scenario& s, const scenario::Calibration& cal)
{
  Workload w = make_workload(s, cal, true);
  check_programs(s, w); // nothing the simulator cannot run leaves the workload
  return w;
}

Workload build_workload_figures(const scenario::Scenario& s, const scenario::Calibration& cal)
{
  return make_workload(s, cal, false);
}

} // namespace trainsim::workload
