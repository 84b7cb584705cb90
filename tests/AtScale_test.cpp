// At-scale mechanisms (issue 13, docs/at-scale.md): compute variability and stragglers against their
// closed forms, determinism by seed, host overhead, the switches, full versus reduced fidelity.
#include <catch2/catch.hpp>

#include <cmath>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/sim/AtScale.hpp"

using namespace trainsim;

namespace {

scenario::Scenario job(int tp, int pp, int dp, const std::function<void(nlohmann::json&)>& more = {})
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(tp * pp * dp / 8, 8, "200Gbps", "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", tp}, {"pp", pp}, {"dp", dp}, {"vpp", 1}};
    j["training"]["global_batch_size"] = dp * 8;
    if (more)
      more(j);
  });
}

} // namespace

TEST_CASE("the maximum of N exponential draws has the expectation mean x H_N", "[atscale]")
{
  CHECK(sim::harmonic(1) == 1.0);
  CHECK(sim::harmonic(4) == Approx(25.0 / 12));
  // Above the exact range the asymptotic expansion continues the exact sum.
  CHECK(sim::harmonic(1000001) == Approx(sim::harmonic(1000000) + 1.0 / 1000001).epsilon(1e-12));
  const double mean = 0.01;
  for (long n : {1L, 8L, 1024L, 100000L}) {
    // Stratified uniforms: the sample mean of the inverse CDF converges to the integral fast.
    const int k = 200000;
    double sum = 0;
    for (int i = 0; i < k; ++i)
      sum += sim::max_exponential(mean, n, (i + 0.5) / k);
    INFO("N = " << n);
    CHECK(sum / k == Approx(mean * sim::harmonic(n)).epsilon(2e-3));
  }
  // Seeded draws: uniform in (0, 1) and, for one N, their mean approaches the closed form too.
  double sum = 0;
  const int k = 20000;
  for (int i = 0; i < k; ++i) {
    const double u = sim::uniform01(7, 1, static_cast<std::uint64_t>(i));
    REQUIRE(u > 0);
    REQUIRE(u < 1);
    sum += sim::max_exponential(mean, 512, u);
  }
  // Standard deviation of the maximum: mean x pi / sqrt(6); 4 sigma over sqrt(k) draws.
  CHECK(std::fabs(sum / k - mean * sim::harmonic(512)) < 4 * mean * M_PI / std::sqrt(6.0) / std::sqrt(k));
}

TEST_CASE("stragglers: the seeded choice takes round(fraction x nodes) distinct nodes", "[atscale]")
{
  auto a = sim::straggler_nodes(1, 1000, 0.013);
  long slow = 0;
  for (char c : a)
    slow += c;
  CHECK(slow == 13);
  CHECK(sim::straggler_nodes(1, 1000, 0.013) == a);
  CHECK(sim::straggler_nodes(2, 1000, 0.013) != a);
  long one = 0;
  for (char c : sim::straggler_nodes(3, 50, 1e-6))
    one += c;
  CHECK(one == 1); // a positive fraction means at least one node
}

TEST_CASE("stage factors: the expected slowdown grows with the ranks per stage, stragglers on top", "[atscale]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  auto small = job(8, 2, 1), big = job(8, 2, 64);
  sim::ComputeVariability vs(small, cal), vb(big, cal);
  CHECK(vs.expected_factor() == Approx(1 + cal.compute_jitter_mean * sim::harmonic(8)));
  CHECK(vb.expected_factor() == Approx(1 + cal.compute_jitter_mean * sim::harmonic(512)));
  CHECK(vb.expected_factor() > vs.expected_factor());
  // Every node slow by 20%: every stage's factor carries 1.2 on top of its jitter draw.
  auto all = job(8, 2, 1, [](nlohmann::json& j) {
    j["simulation"]["stragglers"] = {{"fraction", 1.0}, {"slowdown", 0.2}};
    j["simulation"]["variability"] = false;
  });
  sim::ComputeVariability va(all, cal);
  CHECK(va.factor(0, 0) == Approx(1.2));
  CHECK(va.factor(0, 1) == Approx(1.2));
  auto off = job(8, 2, 1, [](nlohmann::json& j) { j["simulation"]["variability"] = false; });
  CHECK_FALSE(sim::ComputeVariability(off, cal).active());
}

TEST_CASE("at-scale mechanisms: seeded, switchable, reported, full equals reduced", "[atscale][sim]")
{
  const auto& cat = scenario::Catalog::instance();
  auto base = job(2, 2, 4);
  auto r1 = cli::run_scenario(base, cat);
  auto again = cli::run_scenario(base, cat);
  CHECK(r1.sim.step_time_s == again.sim.step_time_s); // same seed, same result
  auto other = base;
  other.simulation.seed = 12345;
  auto r2 = cli::run_scenario(other, cat);
  CHECK(r2.sim.step_time_s != r1.sim.step_time_s); // another seed, another draw
  auto ideal = base;
  ideal.simulation.variability = false;
  ideal.simulation.host_overhead = false;
  auto r0 = cli::run_scenario(ideal, cat);
  CHECK(r0.metrics.breakdown.straggler == 0);
  CHECK(r0.metrics.breakdown.host == 0);
  CHECK(r1.metrics.breakdown.straggler > 0);
  CHECK(r1.metrics.breakdown.host > 0);
  CHECK(r1.sim.step_time_s > r0.sim.step_time_s);
  // Host overhead: one pass overhead per forward and backward pass of every micro-batch on each stage, and the
  // step overhead once: exactly what the breakdown shows (mean over stages).
  const auto& cal = cat.calibration();
  const auto h = sim::host_overhead(base, cal);
  const double mb = base.micro_batches_per_replica();
  CHECK(r1.metrics.breakdown.host == Approx(2 * mb * h.pass_s + h.step_s).epsilon(1e-9));
  CHECK(h.step_s ==
        Approx(cal.host_step_overhead_s + cal.step_small_allreduces * 2 * 4 * cal.collective_step_latency_s));
  // The breakdown still sums to the step.
  const auto& b = r1.metrics.breakdown;
  CHECK(b.compute + b.tp_comm + b.pp_comm + b.dp_comm + b.bubble + b.optimizer + b.host + b.straggler ==
        Approx(r1.sim.step_time_s).epsilon(1e-6));
  // Full versus reduced with every mechanism on and a straggler injected.
  auto slow = base;
  slow.simulation.stragglers = {0.5, 0.1};
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  auto f = cli::run_scenario(slow, cat, full);
  auto r = cli::run_scenario(slow, cat, reduced);
  CHECK(f.sim.fidelity == "full");
  CHECK(r.sim.fidelity == "reduced");
  CHECK(r.sim.step_time_s == Approx(f.sim.step_time_s).epsilon(0.01));
  CHECK(r.sim.step_time_s > r1.sim.step_time_s);
}
