// ECMP hash collisions: balls into bins against enumeration, the closed forms and a seeded sample.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/topology/Ecmp.hpp"

using namespace trainsim;

namespace {

/// E[max(max load, t)] by enumerating all n^k equally likely hashings (t = 0: E[max load]).
double enumerate_expected_max(int k, int n, int t = 0)
{
  long total = 1;
  for (int i = 0; i < k; ++i)
    total *= n;
  double sum = 0;
  std::vector<int> load(static_cast<size_t>(n));
  for (long code = 0; code < total; ++code) {
    std::fill(load.begin(), load.end(), 0);
    long c = code;
    int mx = 0;
    for (int i = 0; i < k; ++i, c /= n)
      mx = std::max(mx, ++load[static_cast<size_t>(c % n)]);
    sum += std::max(mx, t);
  }
  return sum / static_cast<double>(total);
}

} // namespace

TEST_CASE("ECMP: expected max load of k flows on n paths equals the balls-into-bins enumeration", "[ecmp]")
{
  CHECK(topology::expected_max_load(2, 2) == Approx(1.5).epsilon(1e-12));      // (1 + 2) / 2
  CHECK(topology::expected_max_load(3, 3) == Approx(17.0 / 9).epsilon(1e-12)); // (6*1 + 18*2 + 3*3) / 27
  CHECK(topology::expected_max_load(1, 64) == Approx(1.0));
  CHECK(topology::expected_max_load(5, 1) == Approx(5.0));
  for (auto [k, n] : std::vector<std::pair<int, int>>{{4, 4}, {6, 3}, {5, 8}, {8, 4}, {7, 6}}) {
    INFO("k " << k << " n " << n);
    CHECK(topology::expected_max_load(k, n) == Approx(enumerate_expected_max(k, n)).epsilon(1e-9));
  }
}

TEST_CASE("ECMP: collision loss k / (n E[M]) against closed forms", "[ecmp]")
{
  // Two flows on n paths collide with probability 1/n: E[M] = 1 + 1/n, share = 2 / (n + 1).
  for (int n : {2, 8, 32, 128})
    CHECK(topology::ecmp_trunk_share(2, n) == Approx(2.0 / (n + 1)).epsilon(1e-12));
  // P(max <= 1) for k flows on n paths: no collision, n! / ((n - k)! n^k) (the birthday problem).
  double p = 1;
  for (int i = 0; i < 8; ++i)
    p *= (32.0 - i) / 32.0;
  CHECK(topology::prob_max_load_at_most(8, 32, 1) == Approx(p).epsilon(1e-12));
  // One flow per path on average loses most: E[M] ~ ln n / ln ln n grows, the share falls with n.
  CHECK(topology::ecmp_trunk_share(64, 64) < topology::ecmp_trunk_share(8, 8));
  CHECK(topology::ecmp_trunk_share(1, 64) == 1.0); // one flow: alone on its cable, bound by its NIC
  CHECK(topology::ecmp_trunk_share(0, 64) == 1.0);
  CHECK(topology::ecmp_trunk_share(16, 1) == 1.0); // one cable: no choice, no loss
  // Many flows per path even out: the share tends to 1 (max load close to the mean k / n).
  CHECK(topology::ecmp_trunk_share(4096, 8) > 0.9);
}

TEST_CASE("ECMP: several queue pairs per connection and wide cables, against enumeration", "[ecmp]")
{
  // E[max(M, t)] against the enumeration of every hashing.
  for (auto [k, n, t] : std::vector<std::tuple<int, int, int>>{{4, 4, 2}, {6, 3, 2}, {8, 4, 4}, {6, 6, 3}, {3, 5, 1}}) {
    INFO("k " << k << " n " << n << " t " << t);
    CHECK(topology::expected_max_load_above(k, n, t) == Approx(enumerate_expected_max(k, n, t)).epsilon(1e-9));
  }
  CHECK(topology::expected_max_load_above(5, 8, 0) == Approx(topology::expected_max_load(5, 8)).epsilon(1e-12));
  // k connections of q sub-flows on n cables of w NIC flows: share k q / (n E[max(M, q w)]), M of k q balls.
  for (auto [k, n, q, w] : std::vector<std::tuple<int, int, int, int>>{{2, 4, 2, 1}, {3, 4, 1, 2}, {4, 4, 2, 2}}) {
    INFO("k " << k << " n " << n << " q " << q << " w " << w);
    const double e = enumerate_expected_max(k * q, n, q * w);
    CHECK(topology::ecmp_trunk_share(k, n, 1, q, w) == Approx(k * q / (n * e)).epsilon(1e-9));
  }
  // Hand-computed: 2 connections x 2 QPs on 4 cables: 4 balls in 4 bins, P(M = 3) = 48/256, P(M = 4) = 4/256,
  // E[max(M, 2)] = 2 + 3/16 + 2/64; share 4 / (4 E).
  CHECK(topology::ecmp_trunk_share(2, 4, 1, 2, 1) == Approx(1.0 / (2 + 3.0 / 16 + 2.0 / 64)).epsilon(1e-12));
  // 400G cables over 200G flows (MegaScale, w = 2): 3 flows lose only when all three share a cable (1 / n^2),
  // E[max(M, 2)] = 2 + 1/n^2, and 2 flows never lose.
  for (int n : {2, 8, 32}) {
    CHECK(topology::ecmp_trunk_share(3, n, 1, 1, 2) == Approx(3.0 / (n * (2 + 1.0 / (n * n)))).epsilon(1e-12));
    CHECK(topology::ecmp_trunk_share(2, n, 1, 1, 2) == 1.0);
  }
  // More queue pairs spread a connection over more hashes: the slowest connection's rate relative to spraying,
  // min(1, share n w / k) (8 flows on 16 cables: NIC-bound when sprayed), rises to 1 (the even split) as q grows.
  double last = 0;
  for (int q : {1, 2, 4, 16, 64}) {
    const double rate = std::min(1.0, topology::ecmp_trunk_share(8, 16, 16, q, 1) * 16 / 8);
    INFO("q " << q << " rate " << rate);
    CHECK(rate > last);
    last = rate;
  }
  CHECK(last == Approx(1.0).margin(1e-5)); // 512 sub-flows, 32 per cable on average: a cable reaches 64 ~never
  CHECK(topology::ecmp_trunk_share(1, 16, 1, 4, 1) == 1.0); // one connection of 4 QPs on 16 cables: M <= 4
}

TEST_CASE("ECMP: the slowest of many hashed trunks, against a seeded sample", "[ecmp]")
{
  // E[max over L trunks] = sum_m 1 - P(M <= m)^L; a Monte-Carlo estimate must agree within 4 standard errors.
  for (auto [k, n, sets] :
       std::vector<std::tuple<int, int, int>>{{8, 32, 1}, {8, 32, 64}, {64, 64, 16}, {128, 16, 256}}) {
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<int> bin(0, n - 1);
    const int trials = 4000;
    double sum = 0, sq = 0;
    std::vector<int> load(static_cast<size_t>(n));
    for (int t = 0; t < trials; ++t) {
      int worst = 0;
      for (int s = 0; s < sets; ++s) {
        std::fill(load.begin(), load.end(), 0);
        for (int i = 0; i < k; ++i)
          worst = std::max(worst, ++load[static_cast<size_t>(bin(rng))]);
      }
      sum += worst;
      sq += double(worst) * worst;
    }
    const double mean = sum / trials, se = std::sqrt(std::max(0.0, sq / trials - mean * mean) / trials);
    const double exact = topology::expected_max_load(k, n, sets);
    INFO("k " << k << " n " << n << " sets " << sets << ": closed form " << exact << ", sampled " << mean << " +- "
              << se);
    CHECK(std::abs(mean - exact) <= 4 * se + 1e-3);
  }
}

TEST_CASE("ECMP: the Poisson approximation for large trunks agrees with the exact recursion", "[ecmp]")
{
  // Just below the exact recursion's work limit against the Poisson form used above it.
  const int k = 256, n = 256;
  const double lambda = 1.0;
  for (int m = 2; m <= 6; ++m) {
    double cdf = 0;
    for (int j = 0; j <= m; ++j)
      cdf += std::exp(-lambda) * std::pow(lambda, j) / std::tgamma(j + 1.0);
    INFO("m " << m);
    CHECK(topology::prob_max_load_at_most(k, n, m) == Approx(std::pow(cdf, n)).margin(0.02));
  }
  CHECK(topology::expected_max_load(4096, 4096) > topology::expected_max_load(256, 256)); // Poisson regime
}

TEST_CASE("ECMP on a 2-tier fat tree: the closed-form share, slower than spray, full equals reduced", "[ecmp][sim]")
{
  // 16 nodes x 8 GPUs, radix 32 at 1:1: 16 NICs (2 nodes) per leaf, 16 uplink cables, 8 leaves. tp 8, dp 16:
  // every rail's ring leaves and enters each leaf once, so each trunk direction carries k = 8 flows over
  // n = 16 cables, and the ring crosses L = 16 trunk directions.
  auto job = [](const char* balance) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(16, 8, "200Gbps", "1us");
      j["cluster"]["fabric"] = {{"type", "fat_tree"}, {"nic_bandwidth", "200Gbps"}, {"latency", "1us"},
                                {"tiers", 2},         {"switch_radix", 32},         {"load_balance", balance}};
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", 16}, {"vpp", 1}, {"overlap_grad_reduce", false}};
      j["training"]["global_batch_size"] = 16 * 2;
    });
  };
  const auto& cat = scenario::Catalog::instance();
  auto spray = cli::run_scenario(job("spray"), cat);
  auto ecmp = cli::run_scenario(job("ecmp"), cat);
  // The slowest flow's rate against spraying (8 flows on 16 cables: one cable each): 1 / E[max load].
  const double rate = 1.0 / topology::expected_max_load(8, 16, 16);
  INFO("closed-form rate share " << rate << ", reported " << ecmp.sim.ecmp_trunk_share);
  CHECK(spray.sim.ecmp_trunk_share == 1.0);
  CHECK(ecmp.sim.ecmp_trunk_share == Approx(rate).epsilon(1e-12));
  CHECK(topology::ecmp_trunk_share(8, 16, 16) == Approx(rate / 2).epsilon(1e-12)); // k / (n E[M])
  CHECK(rate < 0.5); // the worst of 16 trunks has 2 or more flows on one cable
  CHECK(ecmp.metrics.breakdown.dp_comm > spray.metrics.breakdown.dp_comm);
  CHECK(ecmp.sim.step_time_s > spray.sim.step_time_s);
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  auto f = cli::run_scenario(job("ecmp"), cat, full);
  auto r = cli::run_scenario(job("ecmp"), cat, reduced);
  CHECK(f.sim.fidelity == "full");
  CHECK(r.sim.fidelity == "reduced");
  CHECK(r.sim.step_time_s == Approx(f.sim.step_time_s).epsilon(0.01));
}

TEST_CASE("ECMP with 400G uplinks and two queue pairs per connection: the closed form, full equals reduced",
          "[ecmp][sim]")
{
  // The fat tree above with uplink_bandwidth 400Gbps: each leaf's 16 uplink ports are 8 cables of 2 NIC flows.
  // Each of the k = 8 ring connections per trunk direction is q = 2 sub-flows: 16 balls in 8 bins, a cable
  // holding up to q w = 4 at full rate, over L = 16 trunk directions.
  auto job = [](int qps) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(16, 8, "200Gbps", "1us");
      j["cluster"]["fabric"] = {{"type", "fat_tree"},
                                {"nic_bandwidth", "200Gbps"},
                                {"latency", "1us"},
                                {"tiers", 2},
                                {"switch_radix", 32},
                                {"load_balance", "ecmp"},
                                {"uplink_bandwidth", "400Gbps"},
                                {"qps_per_connection", qps}};
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", 16}, {"vpp", 1}, {"overlap_grad_reduce", false}};
      j["training"]["global_batch_size"] = 16 * 2;
    });
  };
  const auto& cat = scenario::Catalog::instance();
  auto one = cli::run_scenario(job(1), cat);
  auto two = cli::run_scenario(job(2), cat);
  for (int q : {1, 2}) {
    const double e = topology::expected_max_load_above(8 * q, 8, 2 * q, 16);
    const double rate = 2.0 * q / e; // q w / E[max(M, q w)]; 8 flows on 16 NIC flows of cable: NIC-bound sprayed
    const auto& r = q == 1 ? one : two;
    INFO("q " << q << ": closed-form rate " << rate << ", reported " << r.sim.ecmp_trunk_share);
    CHECK(r.sim.ecmp_trunk_share == Approx(rate).epsilon(1e-12));
    CHECK(topology::ecmp_trunk_share(8, 8, 16, q, 2) == Approx(rate / 2).epsilon(1e-12));
    CHECK(rate < 1.0);
  }
  CHECK(two.sim.ecmp_trunk_share > one.sim.ecmp_trunk_share);
  CHECK(two.sim.step_time_s < one.sim.step_time_s);
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  auto f = cli::run_scenario(job(2), cat, full);
  auto r = cli::run_scenario(job(2), cat, reduced);
  CHECK(r.sim.step_time_s == Approx(f.sim.step_time_s).epsilon(0.01));
}

TEST_CASE("ECMP: the largest load over trunk directions of different sizes, against enumeration", "[ecmp]")
{
  // One direction of 2 flows on 2 cables and one of 3 flows on 3 cables: E[max(M1, M2)] over 2^2 * 3^3 hashings.
  double sum = 0;
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 27; ++b) {
      const int m1 = (a & 1) == ((a >> 1) & 1) ? 2 : 1;
      int load[3] = {0, 0, 0}, m2 = 0;
      for (int i = 0, c = b; i < 3; ++i, c /= 3)
        m2 = std::max(m2, ++load[c % 3]);
      sum += std::max(m1, m2);
    }
  topology::TrunkClasses classes{{{2, 2}, 1}, {{3, 3}, 1}};
  CHECK(topology::expected_max_load_classes(classes, 1, 0) == Approx(sum / 108).epsilon(1e-12));
  // One class is expected_max_load_above with sets = its count; q sub-flows are k q balls.
  CHECK(topology::expected_max_load_classes({{{8, 16}, 5}}, 1, 2) ==
        Approx(topology::expected_max_load_above(8, 16, 2, 5)).epsilon(1e-12));
  CHECK(topology::expected_max_load_classes({{{4, 8}, 3}}, 2, 2) ==
        Approx(topology::expected_max_load_above(8, 8, 2, 3)).epsilon(1e-12));
}

TEST_CASE("ECMP: pipeline transfers across hashed leaf trunks, the closed form, full equals reduced", "[ecmp][sim]")
{
  // 16 nodes x 8 GPUs, rail_optimized radix 16 at 1:1: 8 nodes per rail leaf (8 cables up), 2 groups. tp 8,
  // dp 8, pp 2: each stage is one group, the rings stay on their rail leaves, and every (tensor rank, replica)
  // sends to the other group at once: k = 8 flows on n = 8 cables up from each of the 8 rail leaves of one
  // group; each comes down at its rail's leaf of the other group on the spine its hash picked, the same loads
  // (dominated, not independent): the largest of L = 8 loads.
  auto job = [](const char* balance) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(16, 8, "200Gbps", "1us");
      j["cluster"]["fabric"] = {{"type", "rail_optimized"}, {"nic_bandwidth", "200Gbps"},
                                {"latency", "1us"},         {"tiers", 2},
                                {"switch_radix", 16},       {"load_balance", balance}};
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", 8}, {"pp", 2}, {"dp", 8}, {"vpp", 1}};
      j["training"]["global_batch_size"] = 8 * 8;
    });
  };
  const auto& cat = scenario::Catalog::instance();
  auto spray = cli::run_scenario(job("spray"), cat);
  auto ecmp = cli::run_scenario(job("ecmp"), cat);
  const double rate = 1.0 / topology::expected_max_load(8, 8, 8);
  INFO("closed-form pipeline rate " << rate << ", reported " << ecmp.sim.ecmp_p2p_share);
  CHECK(spray.sim.ecmp_p2p_share == 1.0);
  CHECK(ecmp.sim.ecmp_trunk_share == 1.0); // no ring leaves its leaf
  CHECK(ecmp.sim.ecmp_p2p_share == Approx(rate).epsilon(1e-12));
  CHECK(rate < 0.5); // 8 balls in 8 bins: the worst of 8 directions holds 3 or more
  CHECK(ecmp.sim.step_time_s > spray.sim.step_time_s);
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  auto f = cli::run_scenario(job("ecmp"), cat, full);
  auto r = cli::run_scenario(job("ecmp"), cat, reduced);
  CHECK(r.sim.fidelity == "reduced");
  CHECK(r.sim.step_time_s == Approx(f.sim.step_time_s).epsilon(0.01));
}
