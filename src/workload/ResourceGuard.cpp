#include "trainsim/workload/ResourceGuard.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/Memory.hpp"
#include "trainsim/workload/ModelShape.hpp"

namespace trainsim::workload {

namespace {

std::string gib(double bytes)
{
  char buf[64];
  if (bytes >= 1e12 * 1073741824.0)
    std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / 1073741824.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / 1073741824.0);
  return buf;
}

std::string duration(double s)
{
  char buf[64];
  if (s < 120)
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 7200)
    std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  else if (s < 2 * 86400)
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  else
    std::snprintf(buf, sizeof buf, "%.3g days", s / 86400);
  return buf;
}

std::string count(double x)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, x < 1e6 ? "%.0f" : "%.3g", x);
  return buf;
}

/// The tp_comm ops beside GEMMs one pass runs at most (Program.cpp push_compute_and_tp): one per group of
/// collectives beside GEMMs, for the dense and the MoE layers (full recompute: the forward's again). Besides
/// them a pass has one blocking tp_comm op.
double tp_beside_ops_per_pass(const scenario::Scenario& s, const ModelShape& shape, bool backward)
{
  if (s.parallelism.tp <= 1)
    return 0;
  const LayerOps ops(s, shape);
  const bool full = s.training.recompute == scenario::Recompute::full;
  double n = 0;
  for (bool moe : {false, true}) {
    if (moe && !s.model.moe.enabled())
      continue;
    n += static_cast<double>(ops.layer_tp_forward(moe).beside.size()) * (!backward || full ? 1 : 0);
    n += backward ? static_cast<double>(ops.layer_tp_backward(moe).beside.size()) : 0.0;
  }
  return n;
}

} // namespace

std::string ResourceEstimate::describe() const
{
  return "about " + gib(memory_bytes) + " of memory and " + duration(seconds) + " (" + count(hosts) + " hosts, " +
         count(links) + " links, " + count(ops) + " program ops per step, " + count(activities) +
         " simulated activities)";
}

ResourceEstimate estimate_resources(const scenario::Scenario& s, const ResourceCosts& c)
{
  // Everything in doubles: the point is to estimate scenarios too large for integer arithmetic.
  const auto& p = s.parallelism;
  const double tp = p.tp, pp = p.pp, dp = s.grad_replicas(), vpp = p.vpp; // dp: replicas, dp*cp
  const double mb = static_cast<double>(s.micro_batches_per_replica());
  const double steps = s.simulation.steps;
  ResourceEstimate e;
  e.hosts = static_cast<double>(s.cluster.nodes) * s.cluster.accelerators_per_node;
  e.links = 3.0 * e.hosts; // scale-up + NIC per accelerator, at most one switch trunk per two accelerators above
  // Fidelity (docs/performance.md): full simulates every replica and every tensor-parallel rank's
  // transfers; reduced one replica and, where rails are symmetric (the usual case; otherwise up to tp
  // times more ring flows), one rail of the data-parallel rings, before identical ring flows are elided.
  const bool full = s.simulation.fidelity == "full" ||
                    (s.simulation.fidelity == "auto" && e.hosts <= scenario::full_fidelity_max_accelerators);
  const double replicas = full ? dp : 1, rails = full ? tp : 1, tp_flows = full ? tp : 1;
  e.actors = pp * replicas + (dp > 1 ? pp : 0);

  // One representative rank per stage runs 2*mb*vpp passes (forward and backward of every chunk); each
  // pass is a compute, its TP ring shares (tp > 1: tp_ops_per_pass, the mean of a forward and a backward) and
  // a pipeline receive and send (pp > 1).
  const double passes = 2.0 * mb * vpp;
  const ModelShape shape = ModelShape::of(s.model);
  const double blocking = tp > 1 ? 1 : 0, beside_b = tp_beside_ops_per_pass(s, shape, true);
  const double beside = 0.5 * (tp_beside_ops_per_pass(s, shape, false) + beside_b);
  const double ops_per_pass = 1.0 + blocking + beside + (pp > 1 ? 2 : 0);
  // ring shares + latency (beside GEMMs: + the GEMMs and their rest), pipeline comms + recv latency
  const double acts_per_pass = 1.0 + (blocking + beside) * (tp_flows + 1) + 2 * beside + (pp > 1 ? tp_flows + 2 : 0);
  double ops = 0, acts = 0;
  // Stages differ only by the embedding and output layers: the busiest of the first, a middle and the last
  // stage, times pp, bounds the whole.
  const int stages = p.pp;
  for (int stage : {0, stages / 2, stages - 1}) {
    double buckets = 0;
    if (dp > 1) {
      const double chunk_bytes = stage_params_per_rank(s, shape, stage) / vpp * s.training.grad_reduce_bytes;
      buckets = vpp * std::max(1.0, std::ceil(chunk_bytes / p.grad_bucket_bytes));
      if (p.zero_stage == 2) // every micro-batch's backward reduce-scatters its buckets
        buckets *= mb;
      if (p.zero_stage == 3) // per unit (layer): an all-gather each pass, a reduce-scatter each backward
        buckets = 3.0 * mb * s.model.layers / pp;
    }
    const double flows_per_collective = dp > 1 ? rails * dp : 0; // one aggregated ring flow per member
    const double gather = (p.zero_stage >= 1 && dp > 1) ? 1 : 0;
    // Each gradient bucket splits the last backward pass of a chunk: its share of compute (and TP ring) plus
    // the hand-over to the data-parallel stream.
    const double per_bucket_ops = 2.0 + blocking + beside_b,
                 per_bucket_acts = 1.0 + (blocking + beside_b) * (tp_flows + 1) + 2 * beside_b;
    const double stage_ops = passes * ops_per_pass + buckets * per_bucket_ops + 3;
    const double stage_acts = replicas * (passes * acts_per_pass + buckets * per_bucket_acts + 2) +
                              (buckets + gather) * (flows_per_collective + 1);
    ops = std::max(ops, stage_ops);
    acts = std::max(acts, stage_acts);
  }
  e.ops = ops * pp;
  e.activities = acts * pp * steps;

  // Memory: the fabric and the SimGrid platform, the stage programs, and the pipeline mailboxes and pending
  // sends of one step (every pass's send stays live until the end of the step).
  const double pipeline_live = pp > 1 ? pp * passes * replicas * tp_flows : 0;
  e.memory_bytes = c.base_bytes + e.hosts * c.bytes_per_host + e.links * c.bytes_per_link + e.ops * c.bytes_per_op +
                   pipeline_live * c.bytes_per_activity;
  // SimGrid 3.32's cost per activity grows with the activities in flight (finished ones are removed from
  // a shared list by linear search): measured here about 20 us with ~100 in flight, 60-120 us with
  // 1,500-2,000 (full fidelity at 1,536-1,920 accelerators); reduced fidelity keeps tens in flight.
  const double in_flight = full ? replicas * tp : pp;
  e.seconds = e.hosts * c.seconds_per_host + e.activities * c.seconds_per_activity * (1.0 + in_flight / 500.0);
  return e;
}

ResourceLimits limits_of(const scenario::Scenario& s)
{
  ResourceLimits l;
  if (s.simulation.max_memory_bytes)
    l.memory_bytes = *s.simulation.max_memory_bytes;
  if (s.simulation.max_time_s)
    l.seconds = *s.simulation.max_time_s;
  return l;
}

void check_resources(const scenario::Scenario& s, const ResourceLimits& limits)
{
  const ResourceEstimate e = estimate_resources(s);
  const bool memory = !(e.memory_bytes <= limits.memory_bytes);
  const bool time = !(e.seconds <= limits.seconds);
  if (!memory && !time)
    return;
  std::string what =
      memory ? "memory limit of " + gib(limits.memory_bytes) : "time limit of " + duration(limits.seconds);
  if (memory && time)
    what = "memory limit of " + gib(limits.memory_bytes) + " and the time limit of " + duration(limits.seconds);
  throw core::InfeasibleError(
      "/simulation", "simulating this scenario would need " + e.describe() + ", over the " + what + "; " +
                         (s.simulation.fidelity == "full" ? std::string("use reduced fidelity (--fidelity reduced), ")
                                                          : std::string()) +
                         "simulate fewer steps, shrink the cluster or the global batch, or raise the limit with " +
                         (memory ? "/simulation/max_memory or --max-memory" : "/simulation/max_time or --max-time") +
                         (memory && time ? " (and /simulation/max_time or --max-time)" : ""));
}

} // namespace trainsim::workload
