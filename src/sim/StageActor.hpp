#pragma once
#include <deque>
#include <vector>

#include <simgrid/s4u/Barrier.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include "CollectiveRunner.hpp"
#include "TraceRecorder.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Placement.hpp"

namespace trainsim::sim {

/// The data-parallel communication stream of one stage (NCCL runs its collectives in order on one stream).
struct DpStream {
  std::deque<double> buckets; ///< bytes of each bucket handed over and not yet started
  simgrid::s4u::SemaphorePtr work = simgrid::s4u::Semaphore::create(0);
  simgrid::s4u::SemaphorePtr done = simgrid::s4u::Semaphore::create(0);
  std::vector<std::vector<int>> groups; ///< the DP group of every TP rank of the stage
  double ring_latency = 0;              ///< largest neighbour route latency in those rings
};

/// Shared by the actors of one simulation.
struct SimContext {
  const scenario::Scenario& scenario;
  const workload::Workload& workload;
  const platform::Platform& platform;
  const scenario::Calibration& cal;
  topology::Placement placement;
  CollectiveRunner runner;
  simgrid::s4u::BarrierPtr barrier;
  std::vector<DpStream> streams;
  std::vector<StageBreakdown> sums;     ///< per stage, summed over steps
  std::vector<double> step_ends;        ///< stage 0's time at the end of each step
  long executions = 0;
  long pipeline_transfers = 0;
  TraceRecorder* trace = nullptr;       ///< set when one step's timeline is recorded
};

/// Runs one stage's program for every step.
void run_stage(SimContext& ctx, int stage);
/// Serves the stage's gradient buckets in order.
void run_dp_stream(SimContext& ctx, int stage);

} // namespace trainsim::sim
