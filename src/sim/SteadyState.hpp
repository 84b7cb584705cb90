#pragma once
#include <optional>
#include <string>
#include <vector>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/sim/Simulator.hpp"

namespace trainsim::sim {

/// Steady-state extrapolation in micro-batches (docs/performance.md, "Steady-state extrapolation"). Once
/// every stage is in its steady state, a pipelined step's times, energies and activity counts are affine in
/// the number of micro-batches m: each further micro-batch (of the same residue modulo pp) adds the same
/// period. The step is simulated at three counts m1 < m2 < m3 (m1 = 2 pp + m mod pp, then m1 + pp, m1 + 2 pp:
/// warm-up and cool-down whole, every schedule's constraint kept) and extrapolated to m when the second
/// difference of every figure is zero within the tolerance; otherwise the whole step is simulated. A traced
/// run reports the same figures; its trace comes from a simulation of the whole step (simulate()).
struct SteadyStatePlan {
  std::vector<long> points; ///< m1, m2, m3; empty: simulate the step as it is
  std::string reason;       ///< why (report field simulation.extrapolation)
};

/// Whether and from which micro-batch counts a step of `s` is extrapolated (/simulation/extrapolate).
SteadyStatePlan plan_steady_state(const scenario::Scenario& s, const SimOptions& options);

/// `s` with `m` micro-batches per replica (global_batch_size = m x dp x micro_batch_size).
scenario::Scenario with_microbatches(const scenario::Scenario& s, long m);

/// Relative change between two consecutive steps below which the step time is steady (/simulation/steps
/// "auto", StageRun::end_step).
constexpr double steady_step_tolerance = 1e-4;

/// Relative tolerance of the second difference, times the extrapolation length, against the figure's scale.
constexpr double steady_state_tolerance = 1e-10;

/// The step at `m` micro-batches from the runs at plan.points, or nullopt with `why` set when a figure is not
/// affine within the tolerance (or the runs differ in shape: steps, stages, kinds, fidelity).
std::optional<SimResult> extrapolate(const std::vector<SimResult>& runs, const SteadyStatePlan& plan, long m,
                                     const scenario::Simulation& sim, std::string& why);

} // namespace trainsim::sim
