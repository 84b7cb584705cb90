#pragma once
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "Reduction.hpp"
#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/topology/Placement.hpp"
#include "trainsim/workload/Program.hpp"

namespace simgrid::s4u {
class Host;
}

namespace trainsim::sim {

class CollectiveRunner;
struct StageBreakdown;
class TraceRecorder;

/// Whether the tensor-parallel collectives of each simulated (replica, stage) run alone on their links:
/// every directed link of their ring-share routes carries no other simulated traffic (data-parallel and
/// expert rings, pipeline transfers, expert-parallel and context-parallel flows, other replicas' or
/// stages' tensor-parallel shares). Then nothing can change their duration: under max-min sharing a flow
/// set on links no other flow uses ends at a time fixed by its bytes and route. Indexed
/// [replica index into plan.replicas][stage].
std::vector<std::vector<char>> tp_alone(const topology::Fabric& fabric, const topology::Placement& placement,
                                        const ReductionPlan& plan, const scenario::Scenario& s);

/// Reuse of identical activities (docs/performance.md) for one stage actor: the first op of each shape
/// (compute and optimizer ops; tensor-parallel collectives where tp_alone) is simulated and measured, and
/// later ops of that shape replay its outcome: the same duration, breakdown, busy interval, payload bytes
/// and accelerator energy (the dynamic part added, as the replayed time passes idle on the host). Replayed
/// time is not slept op by op: consecutive replayed ops add up to one sleep, taken before the next
/// simulated op (flush), so ops read the virtual clock now() + pending.
class ReplayCache {
public:
  /// What one simulated op did, relative to its start.
  struct Outcome {
    double duration = 0, split = 0; ///< end and trace split offsets
    double compute = 0, tp_comm = 0, optimizer = 0;
    double collective_efficiency = 0; ///< StageBreakdown::collective_efficiency the op added
    double dynamic_energy_j = 0;      ///< host energy above idle during the op
    double tp_bytes = 0;              ///< payload counted by the collective runner
    bool busy = false;                ///< a "tp" busy interval [busy_a, busy_b) was recorded
    double busy_a = 0, busy_b = 0;
    long activities = 0; ///< executions and transfers the op issued
  };
  /// Before an op runs: the figures an outcome is measured from.
  struct Snapshot {
    double t = 0, compute = 0, tp_comm = 0, optimizer = 0, energy = 0, tp_bytes = 0, collective_efficiency = 0;
    long executions = 0, transfers = 0;
    size_t busy = 0;
  };
  using Key = std::tuple<int, double, double, int>; ///< op kind, seconds, bytes, ring steps

  ReplayCache(simgrid::s4u::Host* host, bool enabled, bool tp_alone);
  /// The shape of `op` when ops of that shape may be replayed.
  bool replayable(const workload::Op& op, Key& key) const;
  const Outcome* find(const Key& key) const;
  void store(const Key& key, const Outcome& o) { cache_.emplace(key, o); }
  /// Sleeps for the replayed time not yet slept; returns the energy to add for replayed ops since the last take.
  void flush();
  double take_energy();
  double pending() const { return pending_; }
  /// Adds a plain wait (no activity on the host) to the time slept at the next flush.
  void defer(double seconds) { pending_ += seconds; }
  void advance(const Outcome& o);
  long replayed() const { return replayed_; }
  double idle_power_w() const { return idle_w_; }

private:
  simgrid::s4u::Host* host_;
  bool enabled_, tp_alone_;
  double idle_w_ = 0;
  double pending_ = 0, energy_ = 0;
  long replayed_ = 0;
  std::map<Key, Outcome> cache_;
};

/// The figures before a measured op (`tp_busy`: the stage's "tp" busy intervals, or null off the representative).
ReplayCache::Snapshot snapshot(const StageBreakdown& sum, const std::vector<std::pair<double, double>>* tp_busy,
                               simgrid::s4u::Host* host);
/// The outcome of the op measured since `before`; `activities` and `tp_bytes` it issued (counted by the
/// caller: the runner's and the context's counters are shared with other actors).
ReplayCache::Outcome measure(const ReplayCache::Snapshot& before, double split, const StageBreakdown& sum,
                             const std::vector<std::pair<double, double>>* tp_busy, simgrid::s4u::Host* host,
                             double idle_w, long activities, double tp_bytes);
/// Accounts a replayed op that starts at (virtual) time t0.
void replay(const ReplayCache::Outcome& o, double t0, StageBreakdown& sum, CollectiveRunner& runner,
            std::vector<std::pair<double, double>>* tp_busy);

} // namespace trainsim::sim
