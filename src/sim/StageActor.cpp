#include "StageActor.hpp"

#include <algorithm>

#include <simgrid/plugins/energy.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Mailbox.hpp>

namespace trainsim::sim {

namespace sg4 = simgrid::s4u;
using workload::OpKind;

namespace {

int token = 0; // mailbox payload; only the transfer's size matters

double now()
{
  return sg4::Engine::get_clock();
}

} // namespace

void run_stage(SimContext& ctx, int stage)
{
  const auto& prog = ctx.workload.stages[static_cast<size_t>(stage)];
  const auto& pl = ctx.placement;
  const int self = pl.accelerator({0, 0, stage});
  const int tp_next = pl.accelerator({ctx.scenario.parallelism.tp > 1 ? 1 : 0, 0, stage});
  sg4::Host* host = ctx.platform.host(self);
  const double speed = host->get_speed();
  const double tp_latency = self == tp_next ? 0.0 : ctx.platform.route_latency(self, tp_next);
  DpStream& stream = ctx.streams[static_cast<size_t>(stage)];
  StageBreakdown& sum = ctx.sums[static_cast<size_t>(stage)];
  std::vector<sg4::CommPtr> sends;
  for (int step = 0; step < ctx.scenario.simulation.steps; ++step) {
    const double e0 = sg_host_get_consumed_energy(host);
    TraceRecorder* rec = ctx.trace != nullptr && ctx.trace->records(step) ? ctx.trace : nullptr;
    if (rec)
      rec->begin_step(stage, self, now());
    int pending_buckets = 0;
    for (const auto& op : prog.ops) {
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
        ctx.runner.ring_share(self, tp_next, op.bytes, op.steps, tp_latency);
        sum.tp_comm += now() - t0;
        break;
      case OpKind::send:
        sends.push_back(sg4::Mailbox::by_name(op.tag)->put_async(&token, op.bytes));
        ++ctx.pipeline_transfers;
        break;
      case OpKind::recv: {
        int* data = nullptr;
        sg4::CommPtr c = sg4::Mailbox::by_name(op.tag)->get_async<int>(&data);
        c->wait();
        if (ctx.cal.p2p_latency_s > 0)
          sg4::this_actor::sleep_for(ctx.cal.p2p_latency_s);
        const double waited = now() - t0;
        const double transfer = c->get_finish_time() - c->get_start_time() + ctx.cal.p2p_latency_s;
        const double exposed = std::min(waited, std::max(0.0, transfer));
        sum.pp_comm += exposed;
        sum.bubble += waited - exposed;
        split = now() - exposed;
        break;
      }
      case OpKind::grad_bucket:
        stream.buckets.push_back(op.bytes);
        stream.work->release();
        ++pending_buckets;
        break;
      case OpKind::grad_wait:
        for (; pending_buckets > 0; --pending_buckets)
          stream.done->acquire();
        sum.dp_comm += now() - t0;
        break;
      case OpKind::param_gather:
        ctx.runner.run(stream.groups, collective::CollectiveKind::all_gather, op.bytes, stream.ring_latency);
        sum.dp_comm += now() - t0;
        break;
      }
      if (rec)
        rec->op(stage, op, t0, split, now());
    }
    const double t_sends = now();
    sg4::Comm::wait_all(sends);
    sends.clear();
    sum.pp_comm += now() - t_sends;
    const double t_barrier = now();
    ctx.barrier->wait();
    sum.bubble += now() - t_barrier;
    if (rec)
      rec->step_end(stage, t_sends, t_barrier, now());
    sum.energy_j += sg_host_get_consumed_energy(host) - e0;
    if (stage == 0)
      ctx.step_ends.push_back(now());
  }
}

void run_dp_stream(SimContext& ctx, int stage)
{
  DpStream& stream = ctx.streams[static_cast<size_t>(stage)];
  const auto kind = ctx.workload.grad_collective == workload::GradCollective::all_reduce
                        ? collective::CollectiveKind::all_reduce
                        : collective::CollectiveKind::reduce_scatter;
  for (;;) {
    stream.work->acquire();
    const double bytes = stream.buckets.front();
    stream.buckets.pop_front();
    const double t0 = now();
    ctx.runner.run(stream.groups, kind, bytes, stream.ring_latency);
    if (ctx.trace != nullptr && ctx.trace->active())
      ctx.trace->dp_collective(stage, collective::to_string(kind), bytes, t0, now());
    stream.done->release();
  }
}

} // namespace trainsim::sim
