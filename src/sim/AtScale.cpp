#include "trainsim/sim/AtScale.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace trainsim::sim {

std::uint64_t splitmix64(std::uint64_t x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double uniform01(std::uint64_t seed, std::uint64_t a, std::uint64_t b)
{
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ a) ^ (b * 0x2545f4914f6cdd1dULL));
  return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53; // 53 random bits, never 0 or 1
}

double harmonic(long n)
{
  if (n <= 0)
    return 0.0;
  if (n <= 1000000) {
    double h = 0;
    for (long k = n; k >= 1; --k) // small terms first
      h += 1.0 / static_cast<double>(k);
    return h;
  }
  const double x = static_cast<double>(n);
  return std::log(x) + 0.57721566490153286 + 1 / (2 * x) - 1 / (12 * x * x);
}

double max_exponential(double mean, long n, double u)
{
  if (mean <= 0 || n <= 0)
    return 0.0;
  // u^(1/n) = exp(ln(u)/n); 1 - that = -expm1(ln(u)/n), accurate for large n.
  const double q = -std::expm1(std::log(u) / static_cast<double>(n));
  return -mean * std::log(q);
}

std::vector<char> straggler_nodes(std::uint64_t seed, long nodes, double fraction)
{
  std::vector<char> out(static_cast<size_t>(std::max(0L, nodes)), 0);
  if (fraction <= 0 || nodes <= 0)
    return out;
  const long k = std::clamp(std::lround(fraction * static_cast<double>(nodes)), 1L, nodes);
  std::vector<long> ids(static_cast<size_t>(nodes));
  std::iota(ids.begin(), ids.end(), 0L);
  for (long i = 0; i < k; ++i) { // partial Fisher-Yates: the first k of a seeded permutation
    const double u = uniform01(seed, 0x5354524147ULL, static_cast<std::uint64_t>(i)); // "STRAG"
    const long j = i + std::min(nodes - i - 1, static_cast<long>(u * static_cast<double>(nodes - i)));
    std::swap(ids[static_cast<size_t>(i)], ids[static_cast<size_t>(j)]);
    out[static_cast<size_t>(ids[static_cast<size_t>(i)])] = 1;
  }
  return out;
}

ComputeVariability::ComputeVariability(const scenario::Scenario& s, const scenario::Calibration& cal)
{
  const auto& p = s.parallelism;
  stages_ = p.pp;
  ranks_per_stage_ = static_cast<long>(p.tp) * s.grad_replicas();
  mean_ = s.simulation.variability ? cal.compute_jitter_mean : 0.0;
  straggler_.assign(static_cast<size_t>(p.pp), 1.0);
  const auto& st = s.simulation.stragglers;
  if (st.fraction > 0 && st.slowdown > 0) {
    // Rank r = tp + TP x (d + DP x stage) runs on accelerator r (topology::Placement): stage s holds the
    // accelerators [s x ranks_per_stage, (s + 1) x ranks_per_stage).
    const int per_node = s.cluster.accelerators_per_node;
    const long used = ranks_per_stage_ * p.pp;
    const long nodes = (used + per_node - 1) / per_node;
    const auto slow = straggler_nodes(s.simulation.seed, nodes, st.fraction);
    for (int stage = 0; stage < p.pp; ++stage) {
      const long first = stage * ranks_per_stage_ / per_node, last = ((stage + 1) * ranks_per_stage_ - 1) / per_node;
      for (long n = first; n <= last; ++n)
        if (slow[static_cast<size_t>(n)])
          straggler_[static_cast<size_t>(stage)] = 1.0 + st.slowdown;
    }
  }
  active_ = mean_ > 0 || std::any_of(straggler_.begin(), straggler_.end(), [](double f) { return f > 1.0; });
  // One draw per stage for the simulated steps (they repeat one steady state, which /simulation/steps
  // "auto" detects); another seed, another draw.
  factors_.resize(static_cast<size_t>(p.pp));
  for (int stage = 0; stage < p.pp; ++stage) {
    const double u = uniform01(s.simulation.seed, 0x4a49545445ULL, static_cast<std::uint64_t>(stage)); // "JITTE"
    factors_[static_cast<size_t>(stage)] =
        (1.0 + max_exponential(mean_, ranks_per_stage_, u)) * straggler_[static_cast<size_t>(stage)];
  }
}

double ComputeVariability::factor(int /*step*/, int stage) const
{
  return factors_.empty() ? 1.0 : factors_[static_cast<size_t>(stage)];
}

double ComputeVariability::expected_factor() const
{
  return 1.0 + mean_ * harmonic(ranks_per_stage_);
}

HostOverhead host_overhead(const scenario::Scenario& s, const scenario::Calibration& cal)
{
  HostOverhead h;
  if (!s.simulation.host_overhead)
    return h;
  h.pass_s = cal.host_pass_overhead_s;
  // The small all-reduces of every step (gradient norm for clipping, the fp16 overflow check or the loss
  // average for logging) over all ranks: latency-bound, NCCL's tree takes 2 ceil(log2 N) steps.
  const long ranks = static_cast<long>(s.parallelism.tp) * s.grad_replicas() * s.parallelism.pp;
  const double tree_steps = 2.0 * std::ceil(std::log2(static_cast<double>(std::max(2L, ranks))));
  h.step_s = cal.host_step_overhead_s + cal.step_small_allreduces * tree_steps * cal.collective_step_latency_s;
  return h;
}

double host_seconds(const workload::StageProgram& prog, const HostOverhead& h)
{
  using workload::OpKind;
  double total = 0;
  int mb = -2, chunk = -1;
  auto pass = workload::Pass::step;
  bool step_done = false;
  for (const auto& op : prog.ops) {
    if (op.kind == OpKind::compute && op.pass != workload::Pass::step &&
        (op.microbatch != mb || op.chunk != chunk || op.pass != pass)) {
      mb = op.microbatch;
      chunk = op.chunk;
      pass = op.pass;
      total += h.pass_s;
    } else if (op.kind == OpKind::optimizer && !step_done) {
      step_done = true;
      total += h.step_s;
    }
  }
  return total;
}

} // namespace trainsim::sim
