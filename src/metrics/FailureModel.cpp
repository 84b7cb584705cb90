#include "trainsim/metrics/FailureModel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Units.hpp"

namespace trainsim::metrics {

namespace {

/// The failure model gives an infinite time to train when checkpointing or restarting takes far longer than
/// the job's mean time between failures: the run would never finish. Names the key that makes it so.
[[noreturn]] void throw_unfinishable(const RunMetrics& m, const scenario::Failures& f, double write_s, double read_s)
{
  const std::string mtbf = core::format_seconds(m.job_mtbf_s);
  if (write_s >= read_s && write_s >= f.restart_s)
    throw core::ConfigError("/failures/checkpoint/write_bandwidth",
                            "writing one checkpoint takes " + core::format_seconds(write_s) +
                                ", far longer than the job's mean time between failures (" + mtbf +
                                "): the run would never finish; give the storage's real write bandwidth");
  if (read_s >= f.restart_s)
    throw core::ConfigError("/failures/checkpoint/read_bandwidth",
                            "reading the checkpoint at a restart takes " + core::format_seconds(read_s) +
                                ", far longer than the job's mean time between failures (" + mtbf +
                                "): the run would never finish; give the storage's real read bandwidth");
  throw core::ConfigError("/failures/restart_time", core::format_seconds(f.restart_s) +
                                                        " is far longer than the job's mean time between failures (" +
                                                        mtbf + "): the run would never finish; shorten it");
}

/// Expected downtime per interruption and its re-queue part: per cause (detection + restart + checkpoint
/// read + re-queue when it takes a node out and no spare is free), weighted by the causes' rates.
struct Downtime {
  double total = 0, requeue = 0;
  std::vector<double> cause_total, cause_requeue; ///< per cause
};

Downtime downtime(const scenario::Failures& f, const FailureRates& rates, double read_s, double p_unavailable)
{
  Downtime d;
  const double lambda = rates.total();
  if (lambda <= 0)
    return d;
  if (f.causes.empty()) { // one cause per component; restart_time includes detection
    d.requeue = rates.replacing() / lambda * p_unavailable * f.requeue_s;
    d.total = f.restart_s + read_s + d.requeue;
    return d;
  }
  for (size_t i = 0; i < f.causes.size(); ++i) {
    const auto& c = f.causes[i];
    const double q = c.replaces_node ? p_unavailable * f.requeue_s : 0.0;
    d.cause_total.push_back(c.detection_s + f.restart_s + read_s + q);
    d.cause_requeue.push_back(q);
    d.total += rates.causes[i] / lambda * d.cause_total.back();
    d.requeue += rates.causes[i] / lambda * q;
  }
  return d;
}

void fill_causes(RunMetrics& m, const scenario::Failures& f, const FailureRates& rates, const Downtime& d,
                 const RunTimeline& tl)
{
  const double lambda = rates.total();
  for (size_t i = 0; i < f.causes.size() && lambda > 0; ++i) {
    RunMetrics::CauseOutcome c;
    c.id = f.causes[i].id;
    c.component = f.causes[i].component;
    const double share = rates.causes[i] / lambda;
    c.rate_per_h = rates.causes[i] * 3600;
    c.interruptions = tl.interruptions * share;
    c.lost_work_s = tl.lost_s * share;
    if (d.total > 0) {
      c.downtime_s = tl.restart_s * share * d.cause_total[i] / d.total;
      c.requeue_s = tl.restart_s * share * d.cause_requeue[i] / d.total;
    }
    m.causes.push_back(c);
  }
}

} // namespace

FailureRun apply_failures(RunMetrics& m, const scenario::Scenario& s, const workload::Workload& w,
                          const NetworkPorts& ports)
{
  const auto& f = s.failures;
  FailureRun out;
  m.failures_source = f.enabled ? f.source : "disabled";
  const auto rates = failure_rates(f, m.accelerators, s.cluster.nodes, ports);
  const double lambda = rates.total();
  m.job_mtbf_s = lambda > 0 ? 1.0 / lambda : 0.0;
  m.failure_rate_accelerators_per_h = rates.accelerators * 3600;
  m.failure_rate_nodes_per_h = rates.nodes * 3600;
  m.failure_rate_nics_per_h = rates.nics * 3600;
  m.failure_rate_links_per_h = rates.links * 3600;
  m.failure_rate_switches_per_h = rates.switches * 3600;
  m.checkpoint_bytes = w.shape.total_params * f.bytes_per_parameter;
  out.write_s = m.checkpoint_bytes / f.write_bandwidth;
  out.read_s = m.checkpoint_bytes / f.read_bandwidth;
  m.checkpoint_storage_write_s = out.write_s;
  // Synchronous: training waits for the write. Asynchronous: it waits for the device-to-host snapshot only;
  // the write overlaps training, and a failure during it rolls back to the previous checkpoint (on average
  // write_s more work lost per interruption, for write_s <= interval).
  const double snapshot_s = m.checkpoint_bytes / (static_cast<double>(m.accelerators) * f.snapshot_bandwidth);
  m.checkpoint_write_s = f.checkpoint_overhead_s + (f.async_checkpoint ? snapshot_s : out.write_s);
  const double async_lost = f.async_checkpoint ? out.write_s : 0.0;
  out.spare_nodes = f.enabled ? f.hot_spare_nodes + std::floor(f.hot_spare_fraction * s.cluster.nodes) : 0.0;
  m.hot_spare_nodes = out.spare_nodes;
  const double in_repair = rates.replacing() * f.repair_s; // nodes out for repair on average (Little's law)
  m.spare_unavailable_probability = lambda > 0 ? poisson_tail(in_repair, static_cast<int>(out.spare_nodes)) : 0.0;
  const auto d = downtime(f, rates, out.read_s, m.spare_unavailable_probability);
  m.restart_downtime_s = d.total;
  double interval = 0;
  if (f.interval == "given")
    interval = f.interval_s;
  else if (lambda > 0)
    interval = f.interval == "young" ? young_interval(m.checkpoint_write_s, m.job_mtbf_s)
                                     : daly_interval(m.checkpoint_write_s, m.job_mtbf_s);
  if (f.async_checkpoint && interval > 0)
    interval = std::max(interval, out.write_s); // the next snapshot waits for the previous write
  m.checkpoint_interval_s = interval;
  // The async rollback is time without progress after a failure: in Daly's model it adds to the downtime,
  // and is reported as lost work.
  const double r_eff = d.total + async_lost;
  auto tl = expected_timeline(m.useful_time_s, m.checkpoint_write_s, interval, r_eff,
                              lambda > 0 ? m.job_mtbf_s : std::numeric_limits<double>::infinity());
  if (!std::isfinite(tl.wall_s))
    throw_unfinishable(m, f, out.write_s, out.read_s);
  if (async_lost > 0 && r_eff > 0) {
    const double moved = tl.restart_s * async_lost / r_eff;
    tl.restart_s -= moved;
    tl.lost_s += moved;
  }
  m.time_to_train_s = tl.wall_s;
  m.interruptions = tl.interruptions;
  m.checkpoints = tl.checkpoints;
  m.time_checkpoint_s = tl.checkpoint_s;
  m.time_lost_s = tl.lost_s;
  m.time_restart_s = tl.restart_s;
  m.time_requeue_s = d.total > 0 ? tl.restart_s * d.requeue / d.total : 0.0;
  m.goodput = tl.wall_s > 0 ? m.useful_time_s / tl.wall_s : 1.0;
  m.accelerator_hours = static_cast<double>(m.accelerators) * tl.wall_s / 3600.0;
  fill_causes(m, f, rates, d, tl);
  out.timeline = tl;
  return out;
}

} // namespace trainsim::metrics
