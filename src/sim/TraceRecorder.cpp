#include "TraceRecorder.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include <simgrid/plugins/load.h>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>

namespace trainsim::sim {

namespace sg4 = simgrid::s4u;

void TraceRecorder::init_plugin()
{
  sg_link_load_plugin_init();
}

TraceRecorder::TraceRecorder(const platform::Platform& platform, int step, int stages, int chunks, double min_interval)
    : chunks_(chunks), min_interval_(min_interval)
{
  trace_.step = step;
  trace_.stage_accelerators.assign(static_cast<size_t>(stages), -1);
  std::map<std::string, size_t> index;
  for (const auto& l : platform.fabric().links()) {
    const std::string tier = topology::to_string(l.kind);
    auto [it, fresh] = index.emplace(tier, trace_.tiers.size());
    if (fresh) {
      trace_.tiers.push_back(tier);
      trace_.tier_capacity.push_back(0);
      trace_.tier_links.push_back(0);
      tier_links_.emplace_back();
    }
    const size_t t = it->second;
    trace_.tier_capacity[t] += 2 * l.bandwidth;
    ++trace_.tier_links[t];
    // A split-duplex link is two SimGrid links, NAME_UP and NAME_DOWN.
    for (const char* dir : {"_UP", "_DOWN"})
      if (sg4::Link* link = sg4::Link::by_name_or_null(l.name + dir)) {
        sg_link_load_track(link);
        tier_links_[t].push_back(link);
      }
  }
  last_bytes_.assign(trace_.tiers.size(), 0);
}

void TraceRecorder::begin_step(int stage, int accelerator, double now)
{
  trace_.stage_accelerators[static_cast<size_t>(stage)] = accelerator;
  if (started_)
    return;
  started_ = active_ = true;
  trace_.start_s = now;
  for (size_t t = 0; t < tier_links_.size(); ++t) {
    double bytes = 0;
    for (auto* link : tier_links_[t])
      bytes += sg_link_get_cum_load(link);
    last_bytes_[t] = bytes;
  }
  last_t_ = now;
}

void TraceRecorder::sample(double now)
{
  if (!active_ || now <= last_t_ || now - last_t_ < min_interval_)
    return;
  for (size_t t = 0; t < tier_links_.size(); ++t) {
    double bytes = 0;
    for (auto* link : tier_links_[t])
      bytes += sg_link_get_cum_load(link);
    trace_.samples.push_back({static_cast<int>(t), last_t_, now, (bytes - last_bytes_[t]) / (now - last_t_)});
    last_bytes_[t] = bytes;
  }
  last_t_ = now;
}

void TraceRecorder::end_step(double now)
{
  if (!active_)
    return;
  min_interval_ = 0; // the last interval always closes at the step's end
  sample(now);
  trace_.end_s = now;
  active_ = false;
}

void TraceRecorder::add(TraceEvent e)
{
  if (e.end_s < e.start_s)
    e.end_s = e.start_s;
  // A replayed op (sim/Reuse.hpp) is recorded at its virtual times, which may lie ahead of the engine's
  // clock; the links' cumulative loads are those at the clock.
  sample(std::min(e.end_s, sg4::Engine::get_clock()));
  trace_.events.push_back(std::move(e));
}

namespace {

const char* pass_name(workload::Pass p)
{
  return p == workload::Pass::forward ? "forward" : p == workload::Pass::backward ? "backward" : "step";
}

std::string megabytes(double bytes)
{
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  return buf;
}

} // namespace

void TraceRecorder::op(int stage, const workload::Op& op, double t0, double split, double t1)
{
  using workload::OpKind;
  std::string what = op.pass == workload::Pass::forward ? "fwd" : "bwd";
  if (op.microbatch >= 0)
    what += " mb" + std::to_string(op.microbatch) + (chunks_ > 1 ? " c" + std::to_string(op.chunk) : "");
  auto event = [&](const char* kind, std::string name, double a, double b) {
    if (b > a)
      add({stage, 0, kind, std::move(name), pass_name(op.pass), a, b, op.microbatch, op.chunk, op.bytes});
  };
  switch (op.kind) {
  case OpKind::compute:
    event("compute", what, t0, t1);
    break;
  case OpKind::optimizer:
    event("optimizer", "optimizer", t0, t1);
    break;
  case OpKind::tp_comm:
    if (op.seconds > 0) // tp_comm_overlap: the GEMMs ran beside the transfer; the rest was exposed
      event("compute", what + " (GEMMs with TP overlap)", t0, split);
    event("tp_comm", "TP " + what + " (" + megabytes(op.bytes) + ")", op.seconds > 0 ? split : t0, t1);
    break;
  case OpKind::cp_comm: // attention overlapped with the KV ring exchange, then what the exchange exposed
    event("compute", what + " attention", t0, std::min(t1, t0 + op.seconds));
    event("cp_comm",
          (op.seconds > 0 ? "CP KV exchange " : "CP KV all-gather / reduce-scatter ") + what + " (" +
              megabytes(op.bytes) + ")",
          t0 + op.seconds, t1);
    break;
  case OpKind::recv:
    event("bubble", "wait for " + what + " from stage " + std::to_string(op.peer), t0, split);
    event("pp_comm", "recv " + what + " from stage " + std::to_string(op.peer), split, t1);
    break;
  case OpKind::ep_comm:
    event("ep_comm", "EP all-to-all " + what + " (" + megabytes(op.bytes) + ")", t0, t1);
    break;
  case OpKind::grad_wait: // in the forward: before a chunk's first forward, for its parameters' all-gather
    event("dp_comm",
          op.pass == workload::Pass::forward ? "wait for all_gather of chunk " + std::to_string(op.chunk) + " params"
                                             : "wait for gradient reduction",
          t0, t1);
    break;
  case OpKind::param_gather:
    event("dp_comm", "DP all_gather params (" + megabytes(op.bytes) + ")", t0, t1);
    break;
  case OpKind::param_wait:
    event("dp_comm", "wait for all_gather of " + what + " unit (" + megabytes(op.bytes) + ")", t0, t1);
    break;
  case OpKind::param_prefetch:
  case OpKind::send:
  case OpKind::grad_bucket:
    break; // asynchronous hand-overs take no time on the rank's stream
  }
}

void TraceRecorder::step_end(int stage, double t_sends, double t_barrier, double t_end)
{
  if (t_barrier > t_sends)
    add({stage, 0, "pp_comm", "wait for pipeline sends", "step", t_sends, t_barrier});
  if (t_end > t_barrier)
    add({stage, 0, "bubble", "end-of-step barrier", "step", t_barrier, t_end});
  end_step(t_end);
}

void TraceRecorder::dp_collective(int stage, const char* kind, double bytes, double t0, double t1)
{
  add({stage, 1, "dp_stream", std::string("DP ") + kind + " (" + megabytes(bytes) + ")", "backward", t0, t1, -1, -1,
       bytes});
}

} // namespace trainsim::sim
