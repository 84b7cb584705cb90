#include "StageActor.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>

#include <simgrid/plugins/energy.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include "Reuse.hpp"
#include "SteadyState.hpp"
#include "trainsim/core/Errors.hpp"

namespace trainsim::sim {

namespace sg4 = simgrid::s4u;
using workload::OpKind;

namespace {

double now()
{
  return sg4::Engine::get_clock();
}

std::string mailbox_name(const std::string& job, int replica, const std::string& tag)
{
  return job + std::to_string(replica) + "/" + tag;
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
    if (compute || op.kind == OpKind::tp_comm) // tp_comm: the GEMMs beside the transfer (counted as compute)
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

namespace {

int pipeline_token = 0; // mailbox payload when nothing travels with the message

/// One simulated rank of a pipeline stage (data-parallel replica `replica`, an index into plan.replicas) running
/// its program for every step: its peers, its breakdown, and one handler per op kind (OpKind). A handler runs
/// its op from `t0` and returns the split time (a receive: where waiting for the peer ends and the transfer
/// shows; a tensor-parallel GEMM overlap: where the GEMMs end). The op loop around the handlers does what every
/// op shares: host overhead, reuse of identical activities, the trace.
class StageRun {
public:
  StageRun(SimContext& ctx, int stage, int replica);
  void run();

private:
  using Handler = double (StageRun::*)(const workload::Op&, double);
  static Handler handler(OpKind kind);
  double on_compute(const workload::Op& op, double t0);
  double on_tp_comm(const workload::Op& op, double t0);
  double on_ep_comm(const workload::Op& op, double t0);
  double on_cp_comm(const workload::Op& op, double t0);
  double on_send(const workload::Op& op, double t0);
  double on_recv(const workload::Op& op, double t0);
  double on_grad_bucket(const workload::Op& op, double t0);
  double on_grad_wait(const workload::Op& op, double t0);
  double on_param_gather(const workload::Op& op, double t0);
  double on_param_prefetch(const workload::Op& op, double t0);
  double on_param_wait(const workload::Op& op, double t0);

  void init_tp_pairs();
  void init_ep_pairs();
  void init_cp_pairs();
  void run_step(int step);
  void run_op(const workload::Op& op, AtScaleStep& at, TraceRecorder* rec);
  void end_step(int step, AtScaleStep& at, TraceRecorder* rec, double e0);
  void hand_over(collective::CollectiveKind kind, double bytes, bool expert,
                 workload::DpGroup group = workload::DpGroup::all);
  void wait_jobs(int leave = 0);
  void busy(const char* kind, double a, double b);
  double dp_waited(double t0);
  bool dp_in_flight() const;

  SimContext& ctx_;
  const int stage_, replica_;
  const workload::StageProgram& prog_;
  const topology::Placement& pl_;
  const bool rep_; ///< the representative rank whose breakdown is reported
  const int d_, tp_, ep_, cp_;
  const int self_, tp_next_;
  sg4::Host* host_;
  const double speed_, tp_latency_;
  std::vector<std::pair<int, int>> tp_pairs_, ep_pairs_, ep_nic_pairs_, ep_local_pairs_, cp_pairs_;
  double ep_latency_ = 0, cp_latency_ = 0;
  DpStream& stream_;
  StageBreakdown scratch_;
  StageBreakdown& sum_;
  std::vector<PendingSend> sends_;
  int pending_jobs_ = 0;
  int gathers_issued_ = 0, gathers_done_ = 0; ///< ZeRO-3/FSDP parameter all-gathers issued and finished this step
  const collective::CollectiveKind grad_kind_;
  ReplayCache reuse_;
  std::vector<std::pair<double, double>>* tp_busy_;
  /// overlap_p2p_comm: this step's receives in program order, the next one's index, and those posted ahead.
  struct PostedRecv {
    sg4::CommPtr comm;
    std::unique_ptr<void*> data;
  };
  std::vector<const workload::Op*> recvs_;
  size_t next_recv_ = 0;
  std::unordered_map<std::string, PostedRecv> posted_;
  PostedRecv post_recv(const std::string& tag);
};

StageRun::StageRun(SimContext& ctx, int stage, int replica)
    : ctx_(ctx), stage_(stage), replica_(replica), prog_(ctx.workload.stages[static_cast<size_t>(stage)]),
      pl_(ctx.placement), rep_(replica == 0), d_(ctx.plan.replicas[static_cast<size_t>(replica)]),
      tp_(ctx.scenario.parallelism.tp), ep_(ctx.scenario.parallelism.ep), cp_(ctx.scenario.parallelism.cp),
      self_(pl_.accelerator({0, d_, stage})), tp_next_(pl_.accelerator({tp_ > 1 ? 1 : 0, d_, stage})),
      host_(ctx.platform.host(self_)), speed_(host_->get_speed()),
      tp_latency_(self_ == tp_next_ ? 0.0 : ctx.platform.route_latency(self_, tp_next_)),
      stream_(ctx.streams[static_cast<size_t>(stage)]), sum_(rep_ ? ctx.sums[static_cast<size_t>(stage)] : scratch_),
      grad_kind_(ctx.workload.grad_collective == workload::GradCollective::all_reduce
                     ? collective::CollectiveKind::all_reduce
                     : collective::CollectiveKind::reduce_scatter),
      reuse_(host_, ctx.reuse,
             !ctx.tp_alone.empty() && ctx.tp_alone[static_cast<size_t>(replica)][static_cast<size_t>(stage)]),
      tp_busy_(rep_ ? &ctx.busy[static_cast<size_t>(stage)]["tp"] : nullptr)
{
  init_tp_pairs();
  init_ep_pairs();
  init_cp_pairs();
  if (ctx.scenario.parallelism.overlap_p2p_comm)
    for (const auto& op : prog_.ops)
      if (op.kind == OpKind::recv)
        recvs_.push_back(&op);
}

/// Full fidelity: every tensor-parallel rank of the replica sends its share to its ring successor.
void StageRun::init_tp_pairs()
{
  if (ctx_.plan.full)
    for (int t = 0; t < tp_; ++t)
      tp_pairs_.emplace_back(pl_.accelerator({t, d_, stage_}), pl_.accelerator({(t + 1) % tp_, d_, stage_}));
  else
    tp_pairs_.emplace_back(self_, tp_next_);
}

/// Expert-parallel all-to-all: this replica's EP group is ep consecutive data-parallel indices; every member
/// sends each other member its share. Full fidelity: every TP rank of the replica sends its shares (all
/// replicas run, so every member's flows contend); reduced: the representative rank's fan-out, which by
/// symmetry ends when every member's does on links it does not share with others. Node-limited routing
/// (moe.max_nodes_per_token, docs/moe.md): the NIC share goes to the member of the same local index on each
/// other node of the group, the scale-up share to the other members of this node.
void StageRun::init_ep_pairs()
{
  if (ep_ <= 1)
    return;
  const int first = d_ / ep_ * ep_;
  for (int t = 0; t < (ctx_.plan.full ? tp_ : 1); ++t)
    for (int j = first; j < first + ep_; ++j)
      if (j != d_) {
        const int from = pl_.accelerator({t, d_, stage_}), to = pl_.accelerator({t, j, stage_});
        ep_pairs_.emplace_back(from, to);
        ep_latency_ = std::max(ep_latency_, ctx_.platform.route_latency(from, to));
      }
  if (!ctx_.scenario.model.moe.max_nodes_per_token)
    return;
  const int apn = ctx_.scenario.cluster.accelerators_per_node;
  for (int t = 0; t < (ctx_.plan.full ? tp_ : 1); ++t) {
    const int from = pl_.accelerator({t, d_, stage_});
    for (int j = first; j < first + ep_; ++j) {
      const int to = pl_.accelerator({t, j, stage_});
      if (j == d_)
        continue;
      if (to / apn == from / apn)
        ep_local_pairs_.emplace_back(from, to);
      else if (to % apn == from % apn)
        ep_nic_pairs_.emplace_back(from, to);
    }
  }
}

/// Context parallel: the combined data-parallel index d is dp_index*cp + cp_index (cp fastest); each rank sends
/// its K/V chunks to the next rank of its CP ring. Full fidelity: every tensor-parallel rank of the replica
/// sends to its counterpart (every simulated replica does, so the whole ring is loaded); reduced: the
/// representative pair.
void StageRun::init_cp_pairs()
{
  if (cp_ <= 1)
    return;
  const int d_next = (d_ / cp_) * cp_ + (d_ % cp_ + 1) % cp_;
  for (int t = 0; t < (ctx_.plan.full ? tp_ : 1); ++t) {
    cp_pairs_.emplace_back(pl_.accelerator({t, d_, stage_}), pl_.accelerator({t, d_next, stage_}));
    cp_latency_ = std::max(cp_latency_, ctx_.platform.route_latency(cp_pairs_.back().first, cp_pairs_.back().second));
  }
}

StageRun::Handler StageRun::handler(OpKind kind)
{
  switch (kind) {
  case OpKind::compute:
  case OpKind::optimizer:
    return &StageRun::on_compute;
  case OpKind::tp_comm:
    return &StageRun::on_tp_comm;
  case OpKind::ep_comm:
    return &StageRun::on_ep_comm;
  case OpKind::cp_comm:
    return &StageRun::on_cp_comm;
  case OpKind::send:
    return &StageRun::on_send;
  case OpKind::recv:
    return &StageRun::on_recv;
  case OpKind::grad_bucket:
    return &StageRun::on_grad_bucket;
  case OpKind::grad_wait:
    return &StageRun::on_grad_wait;
  case OpKind::param_gather:
    return &StageRun::on_param_gather;
  case OpKind::param_prefetch:
    return &StageRun::on_param_prefetch;
  case OpKind::param_wait:
    return &StageRun::on_param_wait;
  }
  TRAINSIM_ASSERT(false, "no handler for op kind " + std::to_string(static_cast<int>(kind)));
  return nullptr;
}

void StageRun::hand_over(collective::CollectiveKind kind, double bytes, bool expert, workload::DpGroup group)
{
  if (rep_)
    stream_.jobs.push_back({kind, bytes, expert, group});
  stream_.work[static_cast<size_t>(replica_)]->release();
  ++pending_jobs_;
}

void StageRun::wait_jobs(int leave)
{
  for (; pending_jobs_ > leave; --pending_jobs_) // the stream runs its jobs in order: the first ones
    stream_.done[static_cast<size_t>(replica_)]->acquire();
}

void StageRun::busy(const char* kind, double a, double b)
{
  if (rep_ && b > a)
    ctx_.busy[static_cast<size_t>(stage_)][kind].emplace_back(a, b);
}

/// The wait since `t0` on a data-parallel stream, exposed data-parallel time; returns the split (t0).
double StageRun::dp_waited(double t0)
{
  sum_.dp_comm += now() - t0;
  busy("dp", t0, now());
  return t0;
}

double StageRun::on_compute(const workload::Op& op, double t0)
{
  if (op.seconds > 0) {
    sg4::this_actor::execute(op.seconds * speed_);
    ++ctx_.executions;
  }
  // Beside a data-parallel job's kernels the op takes longer than its own time: what it lost is that
  // communication's cost on the critical path, as the slowdown of GEMMs beside TP transfers is TP's.
  const double elapsed = now() - t0;
  const double lost = stream_.sm_share > 0 && elapsed > op.seconds + 1e-12 ? elapsed - op.seconds : 0.0;
  (op.kind == OpKind::compute ? sum_.compute : sum_.optimizer) += elapsed - lost;
  sum_.dp_comm += lost;
  return t0;
}

/// Communication beside compute: a data-parallel job this replica handed over has not finished, so its kernels
/// may hold SMs of this host now and compute must be simulated, not replayed.
bool StageRun::dp_in_flight() const
{
  if (stream_.sm_share <= 0)
    return false;
  const auto r = static_cast<size_t>(replica_);
  if (pending_jobs_ > stream_.done[r]->get_capacity())
    return true;
  const auto st = static_cast<size_t>(stage_);
  return st < ctx_.gather_streams.size() && !ctx_.gather_streams[st].done.empty() &&
         gathers_issued_ - gathers_done_ > ctx_.gather_streams[st].done[r]->get_capacity();
}

double StageRun::on_tp_comm(const workload::Op& op, double t0)
{
  if (op.seconds <= 0) {
    sum_.collective_efficiency += ctx_.runner.ring_shares(tp_pairs_, op.bytes, op.steps, tp_latency_);
    sum_.tp_comm += now() - t0;
    busy("tp", t0, now());
    return t0;
  }
  // Collectives beside GEMMs (tp_comm_overlap's pipelined ones, Megatron-LM's asynchronous backward ones): the
  // ring traffic runs beside the GEMMs, which share the SMs with the communication kernels (slower while it
  // lasts) and run at full speed once it ends.
  auto comms = ctx_.runner.ring_shares_start(tp_pairs_, op.bytes, op.steps, tp_latency_);
  sum_.collective_efficiency += comms.cost;
  sg4::ExecPtr gemm = sg4::this_actor::exec_init(op.seconds * speed_);
  gemm->set_bound(speed_ / (1.0 + ctx_.cal.tp_overlap_gemm_slowdown));
  gemm->start();
  ++ctx_.executions;
  ctx_.runner.ring_shares_finish(comms, op.steps, tp_latency_);
  const double t_comm = now();
  double t_gemm = t_comm;
  if (!gemm->test()) {
    const double rest = gemm->get_remaining();
    gemm->cancel();
    if (rest > 0) {
      sg4::this_actor::execute(rest);
      ++ctx_.executions;
    }
    t_gemm = now();
  } else {
    t_gemm = gemm->get_finish_time();
  }
  // The GEMMs' own time counts as compute; the rest (their slowdown while sharing the SMs, and what the transfer
  // outlasted them by) is the TP communication's cost on the critical path. So compute does not depend on how
  // long the transfer took.
  const double own = std::min(op.seconds, std::max(t_comm, t_gemm) - t0);
  sum_.compute += own;
  sum_.tp_comm += std::max(t_comm, t_gemm) - t0 - own;
  busy("tp", t0, t_comm);
  return t0 + own; // the trace shows the GEMMs, then the exposed rest of the communication
}

double StageRun::on_ep_comm(const workload::Op& op, double t0)
{
  CollectiveRunner::Shares comms;
  if (op.nic_bytes >= 0) {
    const double ranks = ctx_.plan.full ? tp_ : 1; // every pair list holds each sending rank's pairs
    // The call's protocol is the one its NIC flows need (they cross nodes); its local flows take their own.
    comms = ctx_.runner.ring_shares_start(
        ep_nic_pairs_, ep_nic_pairs_.empty() ? 0.0 : op.nic_bytes * ranks / static_cast<double>(ep_nic_pairs_.size()),
        op.steps, ep_latency_);
    auto local = ctx_.runner.ring_shares_start(
        ep_local_pairs_,
        ep_local_pairs_.empty() ? 0.0 : (op.bytes - op.nic_bytes) * ranks / static_cast<double>(ep_local_pairs_.size()),
        op.steps, ep_latency_);
    if (ep_nic_pairs_.empty())
      std::swap(comms, local);
    comms.comms.insert(comms.comms.end(), local.comms.begin(), local.comms.end());
  } else {
    comms = ctx_.runner.ring_shares_start(ep_pairs_, op.bytes / (ep_ - 1), op.steps, ep_latency_);
  }
  sum_.collective_efficiency += comms.cost;
  // DualPipe's F&B pair (op.seconds > 0): the pair's compute runs beside the all-to-alls on the SMs they leave
  // (ep_overlap_comm_sm_share of them run the communication kernels for the whole pair); only the all-to-alls'
  // excess over the compute is exposed.
  sg4::ExecPtr pair;
  if (op.seconds > 0) {
    pair = sg4::this_actor::exec_init(op.seconds / (1.0 - ctx_.cal.ep_overlap_comm_sm_share) * speed_);
    pair->start();
    ++ctx_.executions;
  }
  ctx_.runner.ring_shares_finish(comms, op.steps, ep_latency_);
  const double t_comm = now();
  busy("ep", t0, t_comm);
  if (!pair) {
    sum_.ep_comm += t_comm - t0;
    return t0;
  }
  pair->wait();
  sum_.compute += pair->get_finish_time() - t0;
  sum_.ep_comm += std::max(0.0, t_comm - pair->get_finish_time());
  return pair->get_finish_time();
}

double StageRun::on_cp_comm(const workload::Op& op, double t0)
{
  if (op.seconds <= 0) {
    // cp_comm_type all_gather: the K/V all-gathers (and in backward the dK/dV reduce-scatters) as ring
    // collectives over the CP group, each rank sending its ring share to its CP successor, with the collective
    // model's protocol cost, before the attention and not beside it: all of it exposed.
    sum_.collective_efficiency += ctx_.runner.ring_shares(cp_pairs_, op.bytes, op.steps, cp_latency_, "cp");
    sum_.cp_comm += now() - t0;
    busy("cp", t0, now());
    return t0;
  }
  // Ring attention: while the attention block of the chunk at hand runs, the next K/V chunk travels from the CP
  // neighbour; cp-1 of the cp blocks per layer overlap a transfer, the last one does not. Aggregated over the
  // op's ring steps: the transfers run beside (cp-1)/cp of the attention.
  const double overlapped = op.seconds * (cp_ - 1) / cp_;
  std::vector<sg4::CommPtr> kv;
  for (const auto& [a, b] : cp_pairs_) {
    kv.push_back(sg4::Comm::sendto_async(ctx_.platform.host(a), ctx_.platform.host(b), op.bytes));
    ++ctx_.pipeline_transfers;
  }
  if (overlapped > 0) {
    sg4::this_actor::execute(overlapped * speed_);
    ++ctx_.executions;
  }
  sg4::Comm::wait_all(kv);
  // Each ring step pays the p2p software latency (the transfers themselves carry the route latency once).
  double comm_end = t0;
  for (const auto& c : kv)
    comm_end = std::max(comm_end, c->get_finish_time());
  comm_end += op.steps * ctx_.cal.p2p_latency_s;
  if (comm_end > now())
    sg4::this_actor::sleep_for(comm_end - now());
  busy("cp", t0, comm_end); // the K/V ring's transfers, hidden or not (communication_total_s.cp)
  if (op.seconds - overlapped > 0) {
    sg4::this_actor::execute((op.seconds - overlapped) * speed_);
    ++ctx_.executions;
  }
  const double spent = now() - t0;
  sum_.compute += std::min(spent, op.seconds);
  sum_.cp_comm += std::max(0.0, spent - op.seconds);
  return t0;
}

double StageRun::on_send(const workload::Op& op, double t0)
{
  void* payload = &pipeline_token;
  if (ctx_.plan.full && tp_ > 1) {
    // The other tensor-parallel ranks' shares travel at the same time on their own routes.
    auto p = std::make_unique<PipelinePayload>();
    const int dst_stage = op.peer;
    for (int t = 1; t < tp_; ++t) {
      p->extra.push_back(sg4::Comm::sendto_async(ctx_.platform.host(pl_.accelerator({t, d_, stage_})),
                                                 ctx_.platform.host(pl_.accelerator({t, d_, dst_stage})), op.bytes));
      ++ctx_.pipeline_transfers;
    }
    payload = p.get();
    ctx_.payloads.push_back(std::move(p));
  }
  sg4::Mailbox* mb = sg4::Mailbox::by_name(mailbox_name(ctx_.mailbox_prefix, d_, op.tag));
  sg4::CommPtr c = mb->put_async(payload, op.bytes);
  ++ctx_.pipeline_transfers;
  if (op.blocking) {
    // pipeline_p2p "blocking" (DeepSpeed's p2p.send, dist.send): the sender waits until its receiver has
    // posted the receive and its share has arrived; the other TP ranks' shares, on parallel routes, are
    // waited for by the receiver. Waiting for the receiver is bubble, the transfer exposed PP time.
    c->wait();
    const double waited = now() - t0;
    const double exposed = std::min(waited, std::max(0.0, c->get_finish_time() - c->get_start_time()));
    sum_.pp_comm += exposed;
    sum_.bubble += waited - exposed;
    busy("pp", c->get_start_time(), c->get_finish_time());
    return now() - exposed;
  }
  sends_.push_back({c, mb});
  retire_delivered(sends_, ctx_.delivered, [&](double a, double b) { busy("pp", a, b); });
  return t0;
}

StageRun::PostedRecv StageRun::post_recv(const std::string& tag)
{
  PostedRecv r{nullptr, std::make_unique<void*>(nullptr)};
  r.comm = sg4::Mailbox::by_name(mailbox_name(ctx_.mailbox_prefix, d_, tag))->get_async<void>(r.data.get());
  return r;
}

double StageRun::on_recv(const workload::Op& op, double t0)
{
  // overlap_p2p_comm (Megatron's interleaved schedule): the receive of the next pass is posted now, before this
  // pass computes, so that its transfer runs as soon as the sender sends, beside this pass; this one was posted
  // at the previous receive. Otherwise a receive is posted when the pass needs it.
  auto it = posted_.find(op.tag);
  PostedRecv r = it != posted_.end() ? std::move(it->second) : post_recv(op.tag);
  if (it != posted_.end())
    posted_.erase(it);
  if (!recvs_.empty()) {
    if (next_recv_ < recvs_.size() && recvs_[next_recv_]->tag == op.tag)
      ++next_recv_;
    if (next_recv_ < recvs_.size())
      posted_.emplace(recvs_[next_recv_]->tag, post_recv(recvs_[next_recv_]->tag));
  }
  sg4::CommPtr c = r.comm;
  c->wait();
  void* data = *r.data;
  sg4::Mailbox* mb = sg4::Mailbox::by_name(mailbox_name(ctx_.mailbox_prefix, d_, op.tag));
  if (!op.blocking)
    ++ctx_.delivered[mb]; // its sender may now wait for it at no cost (retire_delivered)
  double start = c->get_start_time(), finish = c->get_finish_time();
  const double matched = start; // both ends ready: the data moves from here (the extras start at the send)
  if (ctx_.plan.full && tp_ > 1 && data != &pipeline_token) {
    auto* p = static_cast<PipelinePayload*>(data);
    sg4::Comm::wait_all(p->extra);
    for (const auto& x : p->extra) {
      start = std::min(start, x->get_start_time());
      finish = std::max(finish, x->get_finish_time());
    }
  }
  // ECMP (ReductionPlan::p2p_cap): a transfer whose hashed cable is shared runs at most at the cap; it ends
  // no earlier than its start plus bytes / cap (SimGrid's Comm::set_rate is not honoured on mailbox transfers
  // matched by a posted receive, so the cap is applied here, the same in both fidelities).
  if (const double cap = ctx_.plan.p2p_cap(op.peer, stage_); cap > 0 && matched + op.bytes / cap > finish) {
    finish = matched + op.bytes / cap;
    if (finish > now())
      sg4::this_actor::sleep_for(finish - now());
  }
  if (ctx_.cal.p2p_latency_s > 0) {
    if (ctx_.reuse) // the software latency joins the next replayed time (sim/Reuse.hpp)
      reuse_.defer(ctx_.cal.p2p_latency_s);
    else
      sg4::this_actor::sleep_for(ctx_.cal.p2p_latency_s);
  }
  const double t_end = now() + reuse_.pending();
  const double waited = t_end - t0;
  const double transfer = finish - start + ctx_.cal.p2p_latency_s;
  const double exposed = std::min(waited, std::max(0.0, transfer));
  sum_.pp_comm += exposed;
  busy("pp", start, finish + ctx_.cal.p2p_latency_s);
  sum_.bubble += waited - exposed;
  return t_end - exposed;
}

double StageRun::on_grad_bucket(const workload::Op& op, double t0)
{
  hand_over(op.group == workload::DpGroup::replica ? collective::CollectiveKind::all_reduce : grad_kind_, op.bytes,
            op.expert, op.group);
  return t0;
}

double StageRun::on_grad_wait(const workload::Op& op, double t0)
{
  wait_jobs(op.steps); // in the forward (overlap_param_gather): the next chunk's all-gather may stay pending
  return dp_waited(t0);
}

double StageRun::on_param_gather(const workload::Op& op, double t0)
{
  hand_over(collective::CollectiveKind::all_gather, op.bytes, op.expert);
  if (op.steps == 0) // else it runs beside the next step's forward pass (overlap_param_gather)
    wait_jobs();
  return dp_waited(t0);
}

double StageRun::on_param_prefetch(const workload::Op& op, double t0)
{
  DpStream& g = ctx_.gather_streams[static_cast<size_t>(stage_)];
  if (rep_)
    g.jobs.push_back({collective::CollectiveKind::all_gather, op.bytes, false,
                      ctx_.workload.streams.shard > 0 ? workload::DpGroup::shard : workload::DpGroup::all});
  g.work[static_cast<size_t>(replica_)]->release();
  ++gathers_issued_;
  return t0;
}

double StageRun::on_param_wait(const workload::Op& op, double t0)
{
  DpStream& g = ctx_.gather_streams[static_cast<size_t>(stage_)];
  for (; gathers_done_ < std::min(op.steps, gathers_issued_); ++gathers_done_)
    g.done[static_cast<size_t>(replica_)]->acquire();
  return dp_waited(t0);
}

/// One op as every kind shares it: the host overhead before it, its replay when an op of its shape was
/// measured before (sim/Reuse.hpp), else its handler and the measurement; the trace.
void StageRun::run_op(const workload::Op& original, AtScaleStep& at, TraceRecorder* rec)
{
  const workload::Op& op = at.slowed(original);
  if (const double host_s = at.host_before(op, ctx_.host_overhead); host_s > 0) {
    if (ctx_.reuse) { // joins the next replayed time (sim/Reuse.hpp)
      const double h0 = now() + reuse_.pending();
      reuse_.defer(host_s);
      if (rec)
        rec->add(
            {stage_, 0, "host", "host overhead", pass_label(op.pass), h0, h0 + host_s, op.microbatch, op.chunk, 0});
    } else {
      const double h0 = now();
      sg4::this_actor::sleep_for(host_s);
      if (rec)
        rec->add({stage_, 0, "host", "host overhead", pass_label(op.pass), h0, now(), op.microbatch, op.chunk, 0});
    }
    sum_.host += host_s;
  }
  // Reuse: an op of a shape already measured is replayed at the virtual clock; the first of its shape is
  // simulated and measured. The traced step replays too, and records the replayed op at its virtual times,
  // so that a traced run reports what an untraced one does.
  ReplayCache::Key key;
  const bool shaped = reuse_.replayable(op, key) && !dp_in_flight();
  if (shaped)
    if (const auto* o = reuse_.find(key)) {
      const double v0 = now() + reuse_.pending();
      replay(*o, v0, sum_, ctx_.runner, tp_busy_);
      reuse_.advance(*o);
      if (rec)
        rec->op(stage_, op, v0, v0 + o->split, v0 + o->duration);
      return;
    }
  reuse_.flush();
  const auto before = shaped ? snapshot(sum_, tp_busy_, host_) : ReplayCache::Snapshot{};
  const double t0 = now();
  const double split = (this->*handler(op.kind))(op, t0);
  if (shaped) {
    const long issued =
        (op.seconds > 0 ? 1 : 0) + (op.kind == OpKind::tp_comm ? static_cast<long>(tp_pairs_.size()) : 0);
    const double tp_bytes = op.kind == OpKind::tp_comm ? op.bytes * static_cast<double>(tp_pairs_.size()) : 0.0;
    reuse_.store(key, measure(before, split, sum_, tp_busy_, host_, reuse_.idle_power_w(), issued, tp_bytes));
  }
  if (rec)
    rec->op(stage_, op, t0, split, now() + reuse_.pending()); // a receive's deferred latency included
}

void StageRun::run_step(int step)
{
  const double e0 = sg_host_get_consumed_energy(host_);
  TraceRecorder* rec = rep_ && ctx_.trace != nullptr && ctx_.trace->records(step) ? ctx_.trace : nullptr;
  if (rec)
    rec->begin_step(stage_, self_, now());
  AtScaleStep at{ctx_.variability.factor(step, stage_)}; // docs/at-scale.md
  next_recv_ = 0;
  for (const auto& op : prog_.ops)
    run_op(op, at, rec);
  end_step(step, at, rec, e0);
}

/// The end of a step: the straggler share reported apart, the outstanding sends, the barrier, the energy and
/// (stage 0) the steady-state decision.
void StageRun::end_step(int step, AtScaleStep& at, TraceRecorder* rec, double e0)
{
  reuse_.flush();
  sum_.compute -= at.slow_compute; // measured including the slowdown: report it apart
  sum_.optimizer -= at.slow_optimizer;
  sum_.straggler += at.slow_compute + at.slow_optimizer;
  const double t_sends = now();
  for (const auto& p : sends_) {
    p.comm->wait();
    --ctx_.delivered[p.mailbox]; // may fall below zero until its receiver counts it
    busy("pp", p.comm->get_start_time(), p.comm->get_finish_time());
  }
  busy("pp", t_sends, now());
  sends_.clear();
  sum_.pp_comm += now() - t_sends;
  for (; gathers_done_ < gathers_issued_; ++gathers_done_) // none left in a well-formed program
    ctx_.gather_streams[static_cast<size_t>(stage_)].done[static_cast<size_t>(replica_)]->acquire();
  gathers_issued_ = gathers_done_ = 0;
  const double t_barrier = now();
  ctx_.barrier->wait();
  sum_.bubble += now() - t_barrier;
  if (rec)
    rec->step_end(stage_, t_sends, t_barrier, now());
  if (rep_)
    sum_.energy_j += sg_host_get_consumed_energy(host_) - e0 + reuse_.take_energy();
  if (stage_ == 0 && rep_) {
    ctx_.step_ends.push_back(now());
    if (ctx_.scenario.simulation.steps_auto) {
      // Steady state: two consecutive steps agree; otherwise simulate one more, up to the limit.
      const auto& e = ctx_.step_ends;
      const size_t k = e.size();
      bool steady = false;
      if (k >= 2) {
        const double last = e[k - 1] - (k >= 2 ? e[k - 2] : 0.0);
        const double prev = e[k - 2] - (k >= 3 ? e[k - 3] : 0.0);
        steady = std::fabs(last - prev) <= steady_step_tolerance * last;
      }
      ctx_.steps_to_run = steady ? step + 1 : std::min(step + 2, ctx_.scenario.simulation.steps);
    }
  }
  ctx_.barrier->wait(); // everyone sees the decision about the next step
}

void StageRun::run()
{
  for (int step = 0; step < ctx_.steps_to_run; ++step)
    run_step(step);
  // An overlapped parameter all-gather of the last step belongs to the next step's forward pass: let it finish
  // after the measured steps, so that no transfer is cut off when the simulation ends.
  wait_jobs();
  ctx_.replayed += reuse_.replayed();
}

} // namespace

void run_stage(SimContext& ctx, int stage, int replica)
{
  StageRun(ctx, stage, replica).run();
}

void run_dp_stream(SimContext& ctx, int stage, DpStream& stream)
{
  for (;;) {
    for (auto& w : stream.work)
      w->acquire();
    const DpJob job = stream.jobs.front();
    stream.jobs.pop_front();
    const double t0 = now();
    // Communication beside compute: the job's kernels hold their SM share on every simulated replica's host
    // while it runs; under SimGrid's sharing the compute there gets the rest, 1 / (1 + slowdown) of its speed.
    std::vector<sg4::ExecPtr> kernels;
    if (stream.sm_share > 0)
      for (sg4::Host* h : stream.hosts) {
        // On h itself (Host::exec_init would put it on this actor's host); cancelled when the job ends.
        kernels.push_back(sg4::Exec::init()->set_flops_amount(h->get_speed() * 1e12)->set_host(h));
        kernels.back()->set_bound(h->get_speed() * stream.sm_share)->start();
      }
    double cost = 0; // collective efficiency's, reported on the stage's representative rank
    if (job.expert)
      cost = ctx.runner.run(stream.expert_groups, job.kind, job.bytes, stream.expert_ring_latency,
                            stream.expert_keep.empty() ? nullptr : &stream.expert_keep);
    else if (job.group == workload::DpGroup::shard)
      cost = ctx.runner.run(stream.shard_groups, job.kind, job.bytes, stream.shard_ring_latency);
    else if (job.group == workload::DpGroup::replica)
      cost = ctx.runner.run(stream.replica_groups, job.kind, job.bytes, stream.replica_ring_latency);
    else
      cost = ctx.runner.run(stream.groups, job.kind, job.bytes, stream.ring_latency,
                            stream.keep.empty() ? nullptr : &stream.keep);
    stream.collective_efficiency += cost;
    for (auto& k : kernels)
      k->cancel();
    if (now() > t0)
      ctx.busy[static_cast<size_t>(stage)]["dp"].emplace_back(t0, now());
    if (ctx.trace != nullptr && ctx.trace->active())
      ctx.trace->dp_collective(stage, collective::to_string(job.kind), job.bytes, t0, now());
    for (auto& d : stream.done)
      d->release();
  }
}

} // namespace trainsim::sim
