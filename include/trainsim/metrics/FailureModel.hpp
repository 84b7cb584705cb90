#pragma once
#include "trainsim/metrics/Footprint.hpp"
#include "trainsim/metrics/Metrics.hpp"

namespace trainsim::metrics {

/// The expected failure history of a run (docs/energy-carbon.md, "Failures, checkpoints and restarts").
struct FailureRun {
  RunTimeline timeline;
  double write_s = 0, read_s = 0; ///< one checkpoint's storage write and read
  double spare_nodes = 0;         ///< hot spares held for the whole run
};

/// Applies the failure model to a run needing `m.useful_time_s` of training: rates by component and cause,
/// checkpoint size and interval (sync or async), downtime per interruption (detection, restart, checkpoint
/// read, re-queue when no spare is free), Daly's timeline. Fills the failure fields of `m`.
FailureRun apply_failures(RunMetrics& m, const scenario::Scenario& s, const workload::Workload& w,
                          const NetworkPorts& ports);

} // namespace trainsim::metrics
