#pragma once
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <simgrid/s4u/Barrier.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Mailbox.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include "CollectiveRunner.hpp"
#include "Reduction.hpp"
#include "TraceRecorder.hpp"
#include "trainsim/sim/AtScale.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Placement.hpp"

namespace trainsim::sim {

/// A collective the data-parallel stream runs: a gradient bucket or a parameter all-gather.
struct DpJob {
  collective::CollectiveKind kind = collective::CollectiveKind::all_reduce;
  double bytes = 0;
  bool expert = false; ///< over the expert-data-parallel groups (routed experts' gradients/parameters)
  workload::DpGroup group = workload::DpGroup::all; ///< HSDP: over the shard or the replica groups
};

/// The data-parallel communication stream of one stage (NCCL runs its collectives in order on one
/// stream). A job starts only when every simulated replica of the stage has handed it over, as a ring
/// cannot progress before all its members join.
struct DpStream {
  std::deque<DpJob> jobs;                       ///< handed over by the first replica, not yet started
  std::vector<simgrid::s4u::SemaphorePtr> work; ///< per simulated replica: jobs handed over
  std::vector<simgrid::s4u::SemaphorePtr> done; ///< per simulated replica: jobs finished
  std::vector<std::vector<int>> groups;         ///< the data-parallel ring of every simulated rail
  double ring_latency = 0;                      ///< largest neighbour route latency in those rings
  /// Collective efficiency's cost of this stream's collectives (docs/at-scale.md), kept apart from the stage's
  /// sums so that the replay of an op that overlaps a data-parallel collective does not count it again.
  double collective_efficiency = 0;
  std::vector<std::vector<char>> keep; ///< per ring, which neighbour flows to issue
  /// MoE: the expert-data-parallel rings (members dp/ep apart) of every simulated rail, all of them
  /// (they run at once and share links), and their largest neighbour route latency.
  std::vector<std::vector<int>> expert_groups;
  std::vector<std::vector<char>> expert_keep; ///< per expert ring, which neighbour flows to issue (empty: all)
  double expert_ring_latency = 0;
  /// HSDP (workload::StreamPlan::shard): the shard groups (consecutive ranks) and the replica groups (the
  /// ranks holding the same shard) of every simulated rail, all of them, and their latencies.
  std::vector<std::vector<int>> shard_groups, replica_groups;
  double shard_ring_latency = 0, replica_ring_latency = 0;
  /// Communication beside compute (simulation.comm_compute_contention): the hosts the stage's simulated replicas
  /// compute on, and the SM share (tp_overlap_gemm_slowdown / (1 + it)) each job's kernels hold on them while the
  /// job runs; 0: off.
  std::vector<simgrid::s4u::Host*> hosts;
  double sm_share = 0;
};

/// Tensor-parallel transfers that travel with a pipeline message in full fidelity (one per extra rank).
struct PipelinePayload {
  std::vector<simgrid::s4u::CommPtr> extra;
};

/// Shared by the actors of one simulation.
struct SimContext {
  const scenario::Scenario& scenario;
  const workload::Workload& workload;
  const platform::Platform& platform;
  const scenario::Calibration& cal;
  topology::Placement placement;
  ReductionPlan plan;
  CollectiveRunner runner;
  simgrid::s4u::BarrierPtr barrier;
  std::vector<DpStream> streams;
  std::vector<StageBreakdown> sums; ///< per stage (replica 0), summed over steps
  std::vector<double> step_ends;    ///< stage 0's time at the end of each step
  std::vector<std::unique_ptr<PipelinePayload>> payloads;
  int steps_to_run = 1; ///< decided while running when the step count is automatic
  long executions = 0;
  long pipeline_transfers = 0;
  TraceRecorder* trace = nullptr; ///< set when one step's timeline is recorded
  /// ZeRO-3/FSDP: per stage, the parameter all-gather stream (beside the gradient stream, as FSDP runs
  /// all-gathers and reduce-scatters on separate streams); empty otherwise.
  std::vector<DpStream> gather_streams;
  /// Per stage (replica 0), per communication kind: the start-to-end intervals of its transfers and of its
  /// waits on them, whose union is the kind's busy time (StageBreakdown::comm_total).
  std::vector<std::map<std::string, std::vector<std::pair<double, double>>>> busy;
  /// Reuse of identical activities (sim/Reuse.hpp): on, and per [replica][stage] whether its
  /// tensor-parallel collectives run alone on their links; replayed activities, summed over actors.
  bool reuse = false;
  std::vector<std::vector<char>> tp_alone;
  long replayed = 0;
  /// At-scale mechanisms (docs/at-scale.md): per-stage, per-step compute slowdown; host overhead.
  ComputeVariability variability;
  HostOverhead host_overhead;
  /// Per pipeline mailbox: messages received and not yet waited for by their sender (StageActor.cpp,
  /// retire_delivered).
  std::unordered_map<simgrid::s4u::Mailbox*, long> delivered;
  /// Prefix of this job's pipeline mailboxes: empty alone, "jobN:" when jobs share one simulation
  /// (simulate_shared), so that no two jobs' messages meet.
  std::string mailbox_prefix;
};

/// Length of the union of intervals (sorts them).
double union_length(std::vector<std::pair<double, double>>& intervals);

/// Runs one stage's program of data-parallel replica `replica` (an index into plan.replicas) for every step.
void run_stage(SimContext& ctx, int stage, int replica);
/// Serves the stage's data-parallel jobs in order (`stream`: the stage's gradient or parameter stream).
void run_dp_stream(SimContext& ctx, int stage, DpStream& stream);

} // namespace trainsim::sim
