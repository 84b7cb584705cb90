#pragma once
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace trainsim::cluster {

/// A job waiting in one pool's queue, as a scheduler sees it.
struct PendingJob {
  int id = 0; ///< the job's index in the cluster file (the last tie-break)
  double submit_s = 0;
  int nodes = 0;
  int priority = 0;
  double run_s = 0; ///< its run time once started (simulated step time x steps, with failures)
};

/// A pool at the moment the scheduler runs: nodes free now (negative while failed nodes are owed back),
/// and when nodes come back (a running job ends, a failed node returns from repair).
struct PoolView {
  double now = 0;
  int free_nodes = 0;
  struct Release {
    double at_s = 0;
    int nodes = 0;
  };
  std::vector<Release> releases; ///< ascending by time
};

/// Chooses which waiting jobs of one pool start now (docs/cluster.md). One implementation per file in
/// src/cluster/impl/, registered by name in Scheduler.cpp.
class Scheduler {
public:
  virtual ~Scheduler() = default;
  /// `pending` is in submit order (ties by id). Returns the ids to start now, in start order; every one fits
  /// the nodes free at its turn.
  virtual std::vector<int> pick(const std::vector<PendingJob>& pending, const PoolView& pool) const = 0;
};

/// fifo, backfill, priority.
std::vector<std::string> scheduler_names();
/// Throws core::ConfigError at `pointer` for an unknown name, listing the valid ones.
std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const std::string& pointer = "/queue/scheduler");

namespace impl {
std::unique_ptr<Scheduler> make_fifo();
std::unique_ptr<Scheduler> make_backfill();
std::unique_ptr<Scheduler> make_priority();
/// Starts jobs in the given order while each fits; stops at the first that does not (head-of-line).
std::vector<int> start_in_order(const std::vector<PendingJob>& ordered, int free_nodes);
} // namespace impl

} // namespace trainsim::cluster
