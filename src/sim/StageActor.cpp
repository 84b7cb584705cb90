#include "StageActor.hpp"

#include <algorithm>
#include <cmath>

#include <simgrid/plugins/energy.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include "Reuse.hpp"

namespace trainsim::sim {

namespace sg4 = simgrid::s4u;
using workload::OpKind;

namespace {

double now()
{
  return sg4::Engine::get_clock();
}

/// Relative change between two consecutive steps below which the step time is steady.
constexpr double steady_tolerance = 1e-4;

std::string mailbox_name(int replica, const std::string& tag)
{
  return std::to_string(replica) + "/" + tag;
}

/// A pipeline send not yet waited for by its sender, and the mailbox it went to.
struct PendingSend {
  sg4::CommPtr comm;
  sg4::Mailbox* mailbox;
};

/// Sends already received leave the pending list (their busy interval recorded). SimGrid 3.32 keeps every
/// activity an actor started in a list until that actor waits for it, and every completion of an activity
/// the actor waits on removes it from that list by linear search (CommImpl::finish): a step's thousands of
/// pipeline sends kept in the list made each receive cost more the longer the step (the wall time grew
/// quadratically in micro-batches). Comm::test() does not help: it finishes the s4u side, after which
/// wait() makes no simcall and the kernel entry stays. So a send is waited for (a simcall answered at once,
/// no simulated time) once its receiver has counted it delivered (`delivered`, per mailbox).
template <class Busy>
void retire_delivered(std::vector<PendingSend>& sends, std::unordered_map<sg4::Mailbox*, long>& delivered, Busy&& busy)
{
  size_t w = 0;
  for (size_t i = 0; i < sends.size(); ++i) {
    auto it = delivered.find(sends[i].mailbox);
    if (it != delivered.end() && it->second > 0) {
      --it->second;
      sends[i].comm->wait();
      busy(sends[i].comm->get_start_time(), sends[i].comm->get_finish_time());
      continue;
    }
    sends[w++] = std::move(sends[i]);
  }
  sends.resize(w);
}

/// The at-scale mechanisms within one step of one stage (docs/at-scale.md): the stage's compute slowdown
/// (its slowest rank), whose share of compute and optimizer time is reported apart as straggler time, and
/// the host overhead before each pass and before the optimizer.
struct AtScaleStep {
  double slow = 1.0;
  double slow_compute = 0, slow_optimizer = 0; ///< seconds the slowdown added to compute and optimizer ops
  int mb = -2, chunk = -1;
  workload::Pass pass = workload::Pass::step;
  bool step_done = false;
  workload::Op scaled;

  /// The op as run: compute-carrying ops take `slow` times their seconds.
  const workload::Op& slowed(const workload::Op& op)
  {
    const bool compute = op.kind == OpKind::compute || op.kind == OpKind::optimizer ||
                         (op.kind == OpKind::ep_comm && op.seconds > 0); // DualPipe: the pair's compute
    if (slow == 1.0 || op.seconds <= 0 || !(compute || op.kind == OpKind::tp_comm || op.kind == OpKind::cp_comm))
      return op;
    if (compute)
      (op.kind == OpKind::optimizer ? slow_optimizer : slow_compute) += op.seconds * (slow - 1);
    scaled = op;
    scaled.seconds *= slow;
    return scaled;
  }
  /// Host time before `op`: at the first compute op of a pass (the host launches it after the pipeline
  /// exchange synchronised it) and before the optimizer (the step's framework work and small all-reduces).
  double host_before(const workload::Op& op, const HostOverhead& h)
  {
    const bool computes = op.kind == OpKind::compute || (op.kind == OpKind::ep_comm && op.seconds > 0); // DualPipe pair
    if (computes && op.pass != workload::Pass::step && (op.microbatch != mb || op.chunk != chunk || op.pass != pass)) {
      mb = op.microbatch;
      chunk = op.chunk;
      pass = op.pass;
      return h.pass_s;
    }
    if (op.kind == OpKind::optimizer && !step_done) {
      step_done = true;
      return h.step_s;
    }
    return 0.0;
  }
};

const char* pass_label(workload::Pass p)
{
  return p == workload::Pass::step ? "step" : p == workload::Pass::forward ? "forward" : "backward";
}

} // namespace

double union_length(std::vector<std::pair<double, double>>& v)
{
  std::sort(v.begin(), v.end());
  double total = 0, start = 0, end = -1;
  bool open = false;
  for (const auto& [a, b] : v) {
    if (b <= a)
      continue;
    if (open && a <= end) {
      end = std::max(end, b);
      continue;
    }
    if (open)
      total += end - start;
    start = a;
    end = b;
    open = true;
  }
  if (open)
    total += end - start;
  return total;
}

void run_stage(SimContext& ctx, int stage, int replica)
{
  const auto& prog = ctx.workload.stages[static_cast<size_t>(stage)];
  const auto& pl = ctx.placement;
  const bool rep = replica == 0; // the representative rank whose breakdown is reported
  const int d = ctx.plan.replicas[static_cast<size_t>(replica)];
  const int tp = ctx.scenario.parallelism.tp;
  const int self = pl.accelerator({0, d, stage});
  const int tp_next = pl.accelerator({tp > 1 ? 1 : 0, d, stage});
  sg4::Host* host = ctx.platform.host(self);
  const double speed = host->get_speed();
  const double tp_latency = self == tp_next ? 0.0 : ctx.platform.route_latency(self, tp_next);
  // Full fidelity: every tensor-parallel rank of the replica sends its share to its ring successor.
  std::vector<std::pair<int, int>> tp_pairs;
  if (ctx.plan.full)
    for (int t = 0; t < tp; ++t)
      tp_pairs.emplace_back(pl.accelerator({t, d, stage}), pl.accelerator({(t + 1) % tp, d, stage}));
  else
    tp_pairs.emplace_back(self, tp_next);
  // Expert-parallel all-to-all: this replica's EP group is ep consecutive data-parallel indices; every
  // member sends each other member its share. Full fidelity: every TP rank of the replica sends its
  // shares (all replicas run, so every member's flows contend); reduced: the representative rank's
  // fan-out, which by symmetry ends when every member's does on links it does not share with others.
  const int ep = ctx.scenario.parallelism.ep;
  std::vector<std::pair<int, int>> ep_pairs;
  double ep_latency = 0;
  if (ep > 1) {
    const int first = d / ep * ep;
    for (int t = 0; t < (ctx.plan.full ? tp : 1); ++t)
      for (int j = first; j < first + ep; ++j)
        if (j != d) {
          const int from = pl.accelerator({t, d, stage}), to = pl.accelerator({t, j, stage});
          ep_pairs.emplace_back(from, to);
          ep_latency = std::max(ep_latency, ctx.platform.route_latency(from, to));
        }
  }
  // Node-limited routing (moe.max_nodes_per_token, docs/moe.md): the NIC share goes to the member of the same
  // local index on each other node of the group, the scale-up share to the other members of this node.
  std::vector<std::pair<int, int>> ep_nic_pairs, ep_local_pairs;
  if (ep > 1 && ctx.scenario.model.moe.max_nodes_per_token) {
    const int apn = ctx.scenario.cluster.accelerators_per_node, first = d / ep * ep;
    for (int t = 0; t < (ctx.plan.full ? tp : 1); ++t) {
      const int from = pl.accelerator({t, d, stage});
      for (int j = first; j < first + ep; ++j) {
        const int to = pl.accelerator({t, j, stage});
        if (j == d)
          continue;
        if (to / apn == from / apn)
          ep_local_pairs.emplace_back(from, to);
        else if (to % apn == from % apn)
          ep_nic_pairs.emplace_back(from, to);
      }
    }
  }
  // Context parallel: the combined data-parallel index d is dp_index*cp + cp_index (cp fastest); each rank
  // sends its K/V chunks to the next rank of its CP ring. Full fidelity: every tensor-parallel rank of the
  // replica sends to its counterpart (every simulated replica does, so the whole ring is loaded); reduced:
  // the representative pair.
  const int cp = ctx.scenario.parallelism.cp;
  std::vector<std::pair<int, int>> cp_pairs;
  if (cp > 1) {
    const int d_next = (d / cp) * cp + (d % cp + 1) % cp;
    for (int t = 0; t < (ctx.plan.full ? tp : 1); ++t)
      cp_pairs.emplace_back(pl.accelerator({t, d, stage}), pl.accelerator({t, d_next, stage}));
  }
  DpStream& stream = ctx.streams[static_cast<size_t>(stage)];
  StageBreakdown scratch;
  StageBreakdown& sum = rep ? ctx.sums[static_cast<size_t>(stage)] : scratch;
  std::vector<PendingSend> sends;
  static int token = 0; // mailbox payload when nothing travels with the message
  int pending_jobs = 0;
  auto hand_over = [&](collective::CollectiveKind kind, double bytes, bool expert,
                       workload::DpGroup group = workload::DpGroup::all) {
    if (rep)
      stream.jobs.push_back({kind, bytes, expert, group});
    stream.work[static_cast<size_t>(replica)]->release();
    ++pending_jobs;
  };
  auto wait_jobs = [&] {
    for (; pending_jobs > 0; --pending_jobs)
      stream.done[static_cast<size_t>(replica)]->acquire();
  };
  // ZeRO-3/FSDP parameter all-gathers: issued and finished this step (the stream runs them in order).
  int gathers_issued = 0, gathers_done = 0;
  auto busy = [&](const char* kind, double a, double b) {
    if (rep && b > a)
      ctx.busy[static_cast<size_t>(stage)][kind].emplace_back(a, b);
  };
  const auto grad_kind = ctx.workload.grad_collective == workload::GradCollective::all_reduce
                             ? collective::CollectiveKind::all_reduce
                             : collective::CollectiveKind::reduce_scatter;
  ReplayCache reuse(host, ctx.reuse,
                    !ctx.tp_alone.empty() && ctx.tp_alone[static_cast<size_t>(replica)][static_cast<size_t>(stage)]);
  auto* tp_busy = rep ? &ctx.busy[static_cast<size_t>(stage)]["tp"] : nullptr;
  for (int step = 0; step < ctx.steps_to_run; ++step) {
    const double e0 = sg_host_get_consumed_energy(host);
    TraceRecorder* rec = rep && ctx.trace != nullptr && ctx.trace->records(step) ? ctx.trace : nullptr;
    if (rec)
      rec->begin_step(stage, self, now());
    AtScaleStep at{ctx.variability.factor(step, stage)}; // docs/at-scale.md
    for (const auto& original : prog.ops) {
      const workload::Op& op = at.slowed(original);
      if (const double host_s = at.host_before(op, ctx.host_overhead); host_s > 0) {
        if (ctx.reuse) { // joins the next replayed time (sim/Reuse.hpp)
          const double h0 = now() + reuse.pending();
          reuse.defer(host_s);
          if (rec)
            rec->add(
                {stage, 0, "host", "host overhead", pass_label(op.pass), h0, h0 + host_s, op.microbatch, op.chunk, 0});
        } else {
          const double h0 = now();
          sg4::this_actor::sleep_for(host_s);
          if (rec)
            rec->add({stage, 0, "host", "host overhead", pass_label(op.pass), h0, now(), op.microbatch, op.chunk, 0});
        }
        sum.host += host_s;
      }
      // Reuse: an op of a shape already measured is replayed at the virtual clock (sim/Reuse.hpp); the
      // first of its shape is simulated and measured. The traced step replays too, and records the replayed
      // op at its virtual times, so that a traced run reports what an untraced one does.
      ReplayCache::Key key;
      const bool shaped = reuse.replayable(op, key);
      if (shaped)
        if (const auto* o = reuse.find(key)) {
          const double v0 = now() + reuse.pending();
          replay(*o, v0, sum, ctx.runner, tp_busy);
          reuse.advance(*o);
          if (rec)
            rec->op(stage, op, v0, v0 + o->split, v0 + o->duration);
          continue;
        }
      reuse.flush();
      const auto before = shaped ? snapshot(sum, tp_busy, host) : ReplayCache::Snapshot{};
      const double t0 = now();
      double split = t0; // recv: where waiting for the peer (bubble) ends and the transfer shows
      switch (op.kind) {
      case OpKind::compute:
      case OpKind::optimizer:
        if (op.seconds > 0) {
          sg4::this_actor::execute(op.seconds * speed);
          ++ctx.executions;
        }
        (op.kind == OpKind::compute ? sum.compute : sum.optimizer) += now() - t0;
        break;
      case OpKind::tp_comm:
        if (op.seconds > 0) {
          // tp_comm_overlap: the ring traffic runs beside the GEMMs it is pipelined with, which share the SMs
          // with the communication kernels (slower while it lasts) and run at full speed once it ends.
          auto comms = ctx.runner.ring_shares_start(tp_pairs, op.bytes);
          sg4::ExecPtr gemm = sg4::this_actor::exec_init(op.seconds * speed);
          gemm->set_bound(speed / (1.0 + ctx.cal.tp_overlap_gemm_slowdown));
          gemm->start();
          ++ctx.executions;
          ctx.runner.ring_shares_finish(comms, op.steps, tp_latency);
          const double t_comm = now();
          double t_gemm = t_comm;
          if (!gemm->test()) {
            const double rest = gemm->get_remaining();
            gemm->cancel();
            if (rest > 0) {
              sg4::this_actor::execute(rest);
              ++ctx.executions;
            }
            t_gemm = now();
          } else {
            t_gemm = gemm->get_finish_time();
          }
          sum.compute += t_gemm - t0;
          sum.tp_comm += std::max(0.0, t_comm - t_gemm);
          busy("tp", t0, t_comm);
          split = t_gemm; // the trace shows the GEMMs, then the exposed rest of the communication
        } else {
          ctx.runner.ring_shares(tp_pairs, op.bytes, op.steps, tp_latency);
          sum.tp_comm += now() - t0;
          busy("tp", t0, now());
        }
        break;
      case OpKind::ep_comm: {
        std::vector<sg4::CommPtr> comms;
        if (op.nic_bytes >= 0) {
          const double ranks = ctx.plan.full ? tp : 1; // every pair list holds each sending rank's pairs
          comms = ctx.runner.ring_shares_start(
              ep_nic_pairs,
              ep_nic_pairs.empty() ? 0.0 : op.nic_bytes * ranks / static_cast<double>(ep_nic_pairs.size()));
          auto local = ctx.runner.ring_shares_start(
              ep_local_pairs, ep_local_pairs.empty()
                                  ? 0.0
                                  : (op.bytes - op.nic_bytes) * ranks / static_cast<double>(ep_local_pairs.size()));
          comms.insert(comms.end(), local.begin(), local.end());
        } else {
          comms = ctx.runner.ring_shares_start(ep_pairs, op.bytes / (ep - 1));
        }
        // DualPipe's F&B pair (op.seconds > 0): the pair's compute runs beside the all-to-alls on the SMs
        // they leave (ep_overlap_comm_sm_share of them run the communication kernels for the whole pair);
        // only the all-to-alls' excess over the compute is exposed.
        sg4::ExecPtr pair;
        if (op.seconds > 0) {
          pair = sg4::this_actor::exec_init(op.seconds / (1.0 - ctx.cal.ep_overlap_comm_sm_share) * speed);
          pair->start();
          ++ctx.executions;
        }
        ctx.runner.ring_shares_finish(comms, op.steps, ep_latency);
        const double t_comm = now();
        busy("ep", t0, t_comm);
        if (pair) {
          pair->wait();
          sum.compute += pair->get_finish_time() - t0;
          sum.ep_comm += std::max(0.0, t_comm - pair->get_finish_time());
          split = pair->get_finish_time();
        } else {
          sum.ep_comm += t_comm - t0;
        }
        break;
      }
      case OpKind::cp_comm: {
        // Ring attention: while the attention block of the chunk at hand runs, the next K/V chunk travels
        // from the CP neighbour; cp-1 of the cp blocks per layer overlap a transfer, the last one does not.
        // Aggregated over the op's ring steps: the transfers run beside (cp-1)/cp of the attention.
        const double overlapped = op.seconds * (cp - 1) / cp;
        std::vector<sg4::CommPtr> kv;
        for (const auto& [a, b] : cp_pairs) {
          kv.push_back(sg4::Comm::sendto_async(ctx.platform.host(a), ctx.platform.host(b), op.bytes));
          ++ctx.pipeline_transfers;
        }
        if (overlapped > 0) {
          sg4::this_actor::execute(overlapped * speed);
          ++ctx.executions;
        }
        sg4::Comm::wait_all(kv);
        // Each ring step pays the p2p software latency (the transfers themselves carry the route latency once).
        double comm_end = t0;
        for (const auto& c : kv)
          comm_end = std::max(comm_end, c->get_finish_time());
        comm_end += op.steps * ctx.cal.p2p_latency_s;
        if (comm_end > now())
          sg4::this_actor::sleep_for(comm_end - now());
        if (op.seconds - overlapped > 0) {
          sg4::this_actor::execute((op.seconds - overlapped) * speed);
          ++ctx.executions;
        }
        const double spent = now() - t0;
        sum.compute += std::min(spent, op.seconds);
        sum.cp_comm += std::max(0.0, spent - op.seconds);
        break;
      }
      case OpKind::send: {
        void* payload = &token;
        if (ctx.plan.full && tp > 1) {
          // The other tensor-parallel ranks' shares travel at the same time on their own routes.
          auto p = std::make_unique<PipelinePayload>();
          const int dst_stage = op.peer;
          for (int t = 1; t < tp; ++t) {
            p->extra.push_back(sg4::Comm::sendto_async(ctx.platform.host(pl.accelerator({t, d, stage})),
                                                       ctx.platform.host(pl.accelerator({t, d, dst_stage})), op.bytes));
            ++ctx.pipeline_transfers;
          }
          payload = p.get();
          ctx.payloads.push_back(std::move(p));
        }
        sg4::Mailbox* mb = sg4::Mailbox::by_name(mailbox_name(d, op.tag));
        sends.push_back({mb->put_async(payload, op.bytes), mb});
        ++ctx.pipeline_transfers;
        retire_delivered(sends, ctx.delivered, [&](double a, double b) { busy("pp", a, b); });
        break;
      }
      case OpKind::recv: {
        void* data = nullptr;
        sg4::Mailbox* mb = sg4::Mailbox::by_name(mailbox_name(d, op.tag));
        sg4::CommPtr c = mb->get_async<void>(&data);
        c->wait();
        ++ctx.delivered[mb]; // its sender may now wait for it at no cost (retire_delivered)
        double start = c->get_start_time(), finish = c->get_finish_time();
        if (ctx.plan.full && tp > 1 && data != &token) {
          auto* p = static_cast<PipelinePayload*>(data);
          sg4::Comm::wait_all(p->extra);
          for (const auto& x : p->extra) {
            start = std::min(start, x->get_start_time());
            finish = std::max(finish, x->get_finish_time());
          }
        }
        if (ctx.cal.p2p_latency_s > 0) {
          if (ctx.reuse) // the software latency joins the next replayed time (sim/Reuse.hpp)
            reuse.defer(ctx.cal.p2p_latency_s);
          else
            sg4::this_actor::sleep_for(ctx.cal.p2p_latency_s);
        }
        const double t_end = now() + reuse.pending();
        const double waited = t_end - t0;
        const double transfer = finish - start + ctx.cal.p2p_latency_s;
        const double exposed = std::min(waited, std::max(0.0, transfer));
        sum.pp_comm += exposed;
        busy("pp", start, finish + ctx.cal.p2p_latency_s);
        sum.bubble += waited - exposed;
        split = t_end - exposed;
        break;
      }
      case OpKind::grad_bucket:
        hand_over(op.group == workload::DpGroup::replica ? collective::CollectiveKind::all_reduce : grad_kind, op.bytes,
                  op.expert, op.group);
        break;
      case OpKind::grad_wait:
        wait_jobs();
        sum.dp_comm += now() - t0;
        busy("dp", t0, now());
        break;
      case OpKind::param_gather:
        hand_over(collective::CollectiveKind::all_gather, op.bytes, op.expert);
        if (op.steps == 0) // else it runs beside the next step's forward pass (overlap_param_gather)
          wait_jobs();
        sum.dp_comm += now() - t0;
        busy("dp", t0, now());
        break;
      case OpKind::param_prefetch: {
        DpStream& g = ctx.gather_streams[static_cast<size_t>(stage)];
        if (rep)
          g.jobs.push_back({collective::CollectiveKind::all_gather, op.bytes, false,
                            ctx.workload.streams.shard > 0 ? workload::DpGroup::shard : workload::DpGroup::all});
        g.work[static_cast<size_t>(replica)]->release();
        ++gathers_issued;
        break;
      }
      case OpKind::param_wait: {
        DpStream& g = ctx.gather_streams[static_cast<size_t>(stage)];
        for (; gathers_done < std::min(op.steps, gathers_issued); ++gathers_done)
          g.done[static_cast<size_t>(replica)]->acquire();
        sum.dp_comm += now() - t0;
        busy("dp", t0, now());
        break;
      }
      }
      if (shaped) {
        const long issued =
            (op.seconds > 0 ? 1 : 0) + (op.kind == OpKind::tp_comm ? static_cast<long>(tp_pairs.size()) : 0);
        const double tp_bytes = op.kind == OpKind::tp_comm ? op.bytes * static_cast<double>(tp_pairs.size()) : 0.0;
        reuse.store(key, measure(before, split, sum, tp_busy, host, reuse.idle_power_w(), issued, tp_bytes));
      }
      if (rec)
        rec->op(stage, op, t0, split, now() + reuse.pending()); // a receive's deferred latency included
    }
    reuse.flush();
    sum.compute -= at.slow_compute; // measured including the slowdown: report it apart
    sum.optimizer -= at.slow_optimizer;
    sum.straggler += at.slow_compute + at.slow_optimizer;
    const double t_sends = now();
    for (const auto& p : sends) {
      p.comm->wait();
      --ctx.delivered[p.mailbox]; // may fall below zero until its receiver counts it
      busy("pp", p.comm->get_start_time(), p.comm->get_finish_time());
    }
    busy("pp", t_sends, now());
    sends.clear();
    sum.pp_comm += now() - t_sends;
    for (; gathers_done < gathers_issued; ++gathers_done) // none left in a well-formed program
      ctx.gather_streams[static_cast<size_t>(stage)].done[static_cast<size_t>(replica)]->acquire();
    gathers_issued = gathers_done = 0;
    const double t_barrier = now();
    ctx.barrier->wait();
    sum.bubble += now() - t_barrier;
    if (rec)
      rec->step_end(stage, t_sends, t_barrier, now());
    if (rep)
      sum.energy_j += sg_host_get_consumed_energy(host) - e0 + reuse.take_energy();
    if (stage == 0 && rep) {
      ctx.step_ends.push_back(now());
      if (ctx.scenario.simulation.steps_auto) {
        // Steady state: two consecutive steps agree; otherwise simulate one more, up to the limit.
        const auto& e = ctx.step_ends;
        const size_t k = e.size();
        bool steady = false;
        if (k >= 2) {
          const double last = e[k - 1] - (k >= 2 ? e[k - 2] : 0.0);
          const double prev = e[k - 2] - (k >= 3 ? e[k - 3] : 0.0);
          steady = std::fabs(last - prev) <= steady_tolerance * last;
        }
        ctx.steps_to_run = steady ? step + 1 : std::min(step + 2, ctx.scenario.simulation.steps);
      }
    }
    ctx.barrier->wait(); // everyone sees the decision about the next step
  }
  // An overlapped parameter all-gather of the last step belongs to the next step's forward pass: let it
  // finish after the measured steps, so that no transfer is cut off when the simulation ends.
  wait_jobs();
  ctx.replayed += reuse.replayed();
}

void run_dp_stream(SimContext& ctx, int stage, DpStream& stream)
{
  for (;;) {
    for (auto& w : stream.work)
      w->acquire();
    const DpJob job = stream.jobs.front();
    stream.jobs.pop_front();
    const double t0 = now();
    if (job.expert)
      ctx.runner.run(stream.expert_groups, job.kind, job.bytes, stream.expert_ring_latency);
    else if (job.group == workload::DpGroup::shard)
      ctx.runner.run(stream.shard_groups, job.kind, job.bytes, stream.shard_ring_latency);
    else if (job.group == workload::DpGroup::replica)
      ctx.runner.run(stream.replica_groups, job.kind, job.bytes, stream.replica_ring_latency);
    else
      ctx.runner.run(stream.groups, job.kind, job.bytes, stream.ring_latency,
                     stream.keep.empty() ? nullptr : &stream.keep);
    if (now() > t0)
      ctx.busy[static_cast<size_t>(stage)]["dp"].emplace_back(t0, now());
    if (ctx.trace != nullptr && ctx.trace->active())
      ctx.trace->dp_collective(stage, collective::to_string(job.kind), job.bytes, t0, now());
    for (auto& d : stream.done)
      d->release();
  }
}

} // namespace trainsim::sim
