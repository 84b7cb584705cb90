#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trainsim/cluster/NodePlacement.hpp"

namespace trainsim::cluster {

/// A pool as the queue simulation needs it.
struct QueuePool {
  std::string name;
  int nodes = 0;
  int accelerators_per_node = 1;
  double idle_node_w = 0;         ///< facility power of an idle, powered node (accelerators idle + host, x PUE)
  double failures_per_node_s = 0; ///< rate of failures that take a node out (0: none)
  double repair_s = 0;            ///< a failed node's time out of the pool
  NodeTopology topology;          ///< its nodes' leaves and pods (empty: one leaf)
};

/// A job with the figures its simulation gave.
struct QueueJob {
  int pool = 0;
  double submit_s = 0;
  int nodes = 0;
  int priority = 0;
  double run_s = 0;        ///< time to train its token budget (with its own failures and checkpoints)
  double power_w = 0;      ///< mean facility power while it runs (its energy / run_s)
  PlacementSpec placement; ///< which free nodes it takes when it starts
};

/// The step-time factors of the jobs running at once in pool `pool` (their indices and nodes, in start
/// order): for each, how much longer than its QueueJob::run_s its run takes while this set runs (1: as
/// alone). Called whenever the set changes; a job's progress is integrated over the sets it ran in.
using ShareFn = std::function<std::vector<double>(int pool, const std::vector<int>& jobs,
                                                  const std::vector<std::vector<int>>& nodes)>;

/// One row of the power-over-time series: the state from `t_s` until the next row.
struct QueueSample {
  double t_s = 0;
  double power_w = 0;
  long busy_accelerators = 0, up_accelerators = 0;
  std::vector<int> busy_nodes, down_nodes; ///< per pool
};

struct QueueResult {
  std::vector<double> start_s, end_s;  ///< per job
  std::vector<std::vector<int>> nodes; ///< per job: the pool's nodes it ran on
  std::vector<QueueSample> samples;    ///< ascending; the first at t = 0
  double makespan_s = 0;               ///< last job end
  std::vector<long> failures;          ///< node failures per pool (within the simulated time)
  double period_s = 0;
  /// Integrals over [0, period_s].
  double energy_j = 0;
  double busy_accelerator_s = 0;
  std::vector<double> pool_busy_node_s; ///< per pool
};

/// Runs the queue: submissions, the scheduler placing jobs as nodes free up, node failures (a seeded
/// Poisson process per pool, thinned to the nodes that are up) taking nodes away for their repair time.
/// Runs until every job has ended and the period is over. Deterministic for a given seed. After
/// `max_events` events with jobs still waiting (a job that never finds its nodes up) it throws
/// core::ConfigError at that job's /jobs/N/nodes instead of running on.
/// Each job takes nodes by its placement when it starts (a job whose explicit nodes are held waits, while the
/// scheduler may start others); node failures take away capacity, not particular nodes. With `share`, a
/// job's remaining run stretches by the factor of the set it runs in, from each change of the set on.
QueueResult run_queue(const std::vector<QueuePool>& pools, const std::vector<QueueJob>& jobs,
                      const std::string& scheduler, double period_s, uint64_t seed, bool node_failures,
                      long max_events = 5'000'000, const ShareFn* share = nullptr);

} // namespace trainsim::cluster
