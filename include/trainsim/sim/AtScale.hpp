#pragma once
#include <cstdint>
#include <vector>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/workload/Program.hpp"

/// What a real cluster loses at scale that an ideal machine does not (docs/at-scale.md): per-rank
/// compute variability with its order statistics, injected stragglers, and host/framework overhead.
/// Pure functions of the scenario, the calibration and simulation.seed; no SimGrid here.
namespace trainsim::sim {

/// splitmix64: a well-mixed 64-bit hash (Steele et al., "Fast splittable pseudorandom number generators").
std::uint64_t splitmix64(std::uint64_t x);
/// A uniform draw in (0, 1) that depends only on (seed, a, b): the same on every platform and compiler.
double uniform01(std::uint64_t seed, std::uint64_t a, std::uint64_t b);
/// H_n = 1 + 1/2 + ... + 1/n, exact sum up to 1e6 terms, asymptotic expansion above.
double harmonic(long n);
/// One draw of the maximum of n independent exponential draws of mean `mean`, from one uniform u: the
/// maximum's CDF is (1 - exp(-x/mean))^n, so x = -mean ln(1 - u^(1/n)). Its expectation is mean x H_n.
double max_exponential(double mean, long n, double u);
/// The nodes that are stragglers: round(fraction x nodes) of them (at least one when fraction > 0), chosen
/// by a seeded partial Fisher-Yates shuffle. A vector of nodes flags.
std::vector<char> straggler_nodes(std::uint64_t seed, long nodes, double fraction);

/// Compute slowdown factors of every pipeline stage for every step (>= 1): the stage's tp x dp x cp ranks
/// wait for their slowest member (tensor-parallel collectives every layer, the data-parallel gradient
/// collective every step), so the stage runs at the maximum of their per-rank, per-step slowdowns, times
/// the injected straggler slowdown when one of its nodes is a straggler. The same factors in full and in
/// reduced fidelity (every replica of a stage uses its stage's factor), so the reduction stays exact.
class ComputeVariability {
public:
  ComputeVariability() = default; ///< inactive: every factor 1
  ComputeVariability(const scenario::Scenario& s, const scenario::Calibration& cal);
  /// The stage's factor; the simulated steps share one draw per stage (a steady state).
  double factor(int step, int stage) const;
  bool active() const { return active_; }
  /// The expected factor of a stage with no straggler: 1 + mean x H_(ranks per stage).
  double expected_factor() const;

private:
  bool active_ = false;
  int stages_ = 1;
  std::vector<double> factors_;   ///< per stage
  std::vector<double> straggler_; ///< per stage: the injected factor (1 when no straggler node)
  double mean_ = 0;
  long ranks_per_stage_ = 1;
};

/// Host and framework time a representative rank spends with its accelerator idle (docs/at-scale.md).
struct HostOverhead {
  double pass_s = 0; ///< per forward or backward pass of a micro-batch and model chunk, every stage
  double step_s = 0; ///< per step: framework work outside the schedule plus the small all-reduces
};
/// Zero when /simulation/host_overhead is false.
HostOverhead host_overhead(const scenario::Scenario& s, const scenario::Calibration& cal);
/// The host time one step of `prog` spends: pass_s per forward or backward pass of a micro-batch and chunk
/// (a run of compute ops of one pass), step_s once before the optimizer (as sim/StageActor.cpp applies them).
double host_seconds(const workload::StageProgram& prog, const HostOverhead& h);

} // namespace trainsim::sim
