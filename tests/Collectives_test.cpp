// Collective algorithms: pure schedule checks ([collective]) and SimGrid runs on one-switch fabrics
// against each algorithm's alpha-beta closed form ([model][sim]).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "TestUtil.hpp"
#include "trainsim/collective/Collective.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"

using namespace trainsim;
using namespace trainsim::collective;

namespace {

int log2_floor(int p)
{
  int k = 0;
  while ((2 << k) <= p)
    ++k;
  return k;
}

std::unique_ptr<Algorithm> algo(const std::string& name)
{
  register_builtins();
  return Registry::instance().create(name);
}

double total_sent(const Schedule& s, int p)
{
  double t = 0;
  for (int i = 0; i < p; ++i)
    t += s.bytes_sent_by(i);
  return t;
}

double total_received(const Schedule& s, int p)
{
  double t = 0;
  for (int i = 0; i < p; ++i)
    t += s.bytes_received_by(i);
  return t;
}

/// node_of for N nodes of L members, members of a node contiguous.
Topology nodes_of(int N, int L)
{
  Topology t;
  for (int n = 0; n < N; ++n)
    for (int l = 0; l < L; ++l)
      t.node_of.push_back(n);
  return t;
}

} // namespace

TEST_CASE("every algorithm: bytes sent equal bytes received, no self transfers, steps cover phases", "[collective]")
{
  register_builtins();
  const double S = 1e8;
  for (const auto& name : Registry::instance().names()) {
    auto a = algo(name);
    for (auto kind : {CollectiveKind::all_reduce, CollectiveKind::reduce_scatter, CollectiveKind::all_gather,
                      CollectiveKind::all_to_all}) {
      if (!a->supports(kind))
        continue;
      for (int p = 2; p <= 16; ++p) {
        Topology topo;
        topo.sharp = topo.nvls = true;
        const Schedule s = a->expand(kind, p, S, topo);
        INFO(name << " " << to_string(kind) << " p=" << p);
        CHECK(total_sent(s, p) == Approx(total_received(s, p)));
        CHECK(s.latency_steps >= static_cast<int>(s.phases.size()));
        CHECK(s.latency_steps >= 1);
        for (const auto& ph : s.phases)
          for (const auto& t : ph.transfers) {
            CHECK(t.src != t.dst);
            CHECK(t.bytes > 0);
          }
        // Reductions: every member sends at least what a bandwidth-optimal algorithm must, (p-1)/p of
        // its buffer once (twice for all-reduce) — unless the network reduces for it.
        if (kind != CollectiveKind::all_to_all && name != "in_network")
          for (int i = 0; i < p; ++i) {
            const double floor = (kind == CollectiveKind::all_reduce ? 2.0 : 1.0) * (p - 1) / p * S;
            CHECK(s.bytes_sent_by(i) + s.bytes_received_by(i) >= floor * (1 - 1e-12));
          }
      }
    }
  }
}

TEST_CASE("halving-doubling: log2 p steps, (p-1)/p S per direction; pre/post step for other sizes", "[collective]")
{
  auto hd = algo("halving_doubling");
  const double S = 1e9;
  for (int p = 2; p <= 16; ++p) {
    const int k = log2_floor(p), q = 1 << k, r = p - q;
    INFO("p=" << p);
    auto ar = hd->expand(CollectiveKind::all_reduce, p, S);
    auto rs = hd->expand(CollectiveKind::reduce_scatter, p, S);
    auto ag = hd->expand(CollectiveKind::all_gather, p, S);
    CHECK(ar.latency_steps == 2 * k + (r > 0 ? 2 : 0));
    CHECK(rs.latency_steps == k + (r > 0 ? 2 : 0));
    CHECK(ag.latency_steps == k + (r > 0 ? 2 : 0));
    for (int m = 0; m < p; ++m) {
      const bool idle = m < 2 * r && m % 2 == 0;
      const bool partnered = m < 2 * r && m % 2 == 1;
      INFO("member " << m);
      // All-reduce: the q actives run Rabenseifner; partners also take S in and give S back.
      const double ar_sent = idle ? S : 2.0 * (q - 1) / q * S + (partnered ? S : 0);
      CHECK(ar.bytes_sent_by(m) == Approx(ar_sent));
      CHECK(ar.bytes_received_by(m) == Approx(ar_sent));
      // Reduce-scatter: an active sends everything but the blocks it ends with.
      const double rs_sent = idle ? S : partnered ? S * (1 - 2.0 / p) + S / p : S * (1 - 1.0 / p);
      CHECK(rs.bytes_sent_by(m) == Approx(rs_sent));
      // All-gather: every member receives everything but its own block.
      CHECK(ag.bytes_received_by(m) == Approx(S * (p - 1) / p));
    }
  }
}

TEST_CASE("double binary tree: two trees, each member interior in at most one, c + 2H - 1 steps", "[collective]")
{
  auto tree = algo("tree");
  const double S = 1e9;
  for (int p = 2; p <= 16; ++p) {
    auto s = tree->expand(CollectiveKind::all_reduce, p, S);
    INFO("p=" << p << " steps=" << s.latency_steps);
    CHECK(s.latency_steps == static_cast<int>(s.phases.size()));
    int H = 0;
    while ((1 << H) < p) // NCCL's btree: height ceil(log2 p) at most
      ++H;
    // Every chunk step is identical in the pipeline's steady state.
    CHECK(aggregate(s).phases.size() <= static_cast<size_t>(4 * H + 1));
    for (int m = 0; m < p; ++m) {
      CHECK(s.bytes_sent_by(m) == Approx(s.bytes_received_by(m)));
      // Leaf in both trees: S/2 up and down in each; interior in one: at most 2 more halves.
      CHECK(s.bytes_sent_by(m) >= S * (1 - 1e-12));
      CHECK(s.bytes_sent_by(m) <= 2 * S * (1 + 1e-12));
    }
  }
  // Reduce-scatter and all-gather have no tree form: ring, as in NCCL.
  auto rs = tree->expand(CollectiveKind::reduce_scatter, 8, S);
  CHECK(rs.latency_steps == 7);
  CHECK(rs.ring_neighbour_only(8));
}

TEST_CASE("hierarchical: scale-up reduce-scatter, per-rail scale-out all-reduce, scale-up all-gather", "[collective]")
{
  auto h = algo("hierarchical");
  const double S = 1e9;
  for (auto [N, L] : {std::pair{2, 4}, {4, 2}, {3, 4}, {4, 8}, {1, 8}, {8, 1}}) {
    const int p = N * L;
    const Topology topo = nodes_of(N, L);
    auto ar = h->expand(CollectiveKind::all_reduce, p, S, topo);
    auto rs = h->expand(CollectiveKind::reduce_scatter, p, S, topo);
    auto ag = h->expand(CollectiveKind::all_gather, p, S, topo);
    INFO("N=" << N << " L=" << L);
    CHECK(ar.latency_steps == 2 * (L - 1) + 2 * (N - 1));
    CHECK(rs.latency_steps == (L - 1) + (N - 1));
    CHECK(ag.latency_steps == rs.latency_steps);
    for (int m = 0; m < p; ++m) {
      double up = 0, out = 0;
      for (const auto& ph : ar.phases)
        for (const auto& t : ph.transfers)
          if (t.src == m)
            (topo.same_node(t.src, t.dst) ? up : out) += t.bytes;
      CHECK(up == Approx(2.0 * (L - 1) / L * S).margin(1e-3));
      CHECK(out == Approx(2.0 * (N - 1) / (static_cast<double>(L) * N) * S).margin(1e-3));
      CHECK(rs.bytes_sent_by(m) == Approx((L - 1.0) / L * S + (N - 1.0) / (L * N) * S));
    }
  }
  // Uneven nodes cannot be split into rails.
  Topology uneven;
  uneven.node_of = {0, 0, 0, 1, 1};
  CHECK_THROWS_WITH(h->expand(CollectiveKind::all_reduce, 5, S, uneven), Catch::Contains("same number"));
}

TEST_CASE("all-to-all: direct in one step, pairwise in p-1; (p-1)/p S each way", "[collective]")
{
  auto d = algo("direct"), pw = algo("pairwise");
  const double S = 1e9;
  for (int p = 2; p <= 16; ++p) {
    auto a = d->expand(CollectiveKind::all_to_all, p, S);
    auto b = pw->expand(CollectiveKind::all_to_all, p, S);
    CHECK(a.latency_steps == 1);
    CHECK(b.latency_steps == p - 1);
    for (int m = 0; m < p; ++m) {
      CHECK(a.bytes_sent_by(m) == Approx(S * (p - 1) / p));
      CHECK(a.bytes_received_by(m) == Approx(S * (p - 1) / p));
      CHECK(b.bytes_sent_by(m) == Approx(S * (p - 1) / p));
      CHECK(b.bytes_received_by(m) == Approx(S * (p - 1) / p));
    }
    for (const auto& ph : b.phases) { // one message per member and direction per phase
      std::vector<int> in(static_cast<size_t>(p)), out(static_cast<size_t>(p));
      for (const auto& t : ph.transfers) {
        ++out[static_cast<size_t>(t.src)];
        ++in[static_cast<size_t>(t.dst)];
      }
      for (int m = 0; m < p; ++m)
        CHECK((in[static_cast<size_t>(m)] == 1 && out[static_cast<size_t>(m)] == 1));
    }
  }
  CHECK_THROWS_WITH(d->expand(CollectiveKind::all_reduce, 4, S), Catch::Contains("all_to_all"));
  CHECK_THROWS_WITH(algo("ring")->expand(CollectiveKind::all_to_all, 4, S), Catch::Contains("direct or pairwise"));
}

TEST_CASE("in-network reduction: S through each member link once, only where the fabric declares it", "[collective]")
{
  auto in = algo("in_network");
  const double S = 1e9;
  CHECK_THROWS_WITH(in->expand(CollectiveKind::all_reduce, 8, S, nodes_of(8, 1)),
                    Catch::Contains("/cluster/fabric/in_network_reduction"));
  CHECK_THROWS_WITH(in->expand(CollectiveKind::all_reduce, 8, S, nodes_of(1, 8)),
                    Catch::Contains("/cluster/scale_up/nvls"));
  Topology sharp = nodes_of(8, 1);
  sharp.sharp = true;
  Topology nvls = nodes_of(1, 8);
  nvls.nvls = true;
  for (const Topology& t : {sharp, nvls})
    for (auto kind : {CollectiveKind::all_reduce, CollectiveKind::reduce_scatter, CollectiveKind::all_gather}) {
      auto s = in->expand(kind, 8, S, t);
      CHECK(s.in_network);
      CHECK(s.latency_steps == 1);
      CHECK(s.ring_neighbour_only(8));
      for (int m = 0; m < 8; ++m)
        CHECK(s.bytes_sent_by(m) == Approx(S));
    }
  Topology both = nodes_of(4, 2);
  both.sharp = both.nvls = true;
  auto s = in->expand(CollectiveKind::all_reduce, 8, S, both);
  CHECK(s.latency_steps == 3);
  both.nvls = false;
  CHECK_THROWS_WITH(in->expand(CollectiveKind::all_reduce, 8, S, both), Catch::Contains("/cluster/scale_up/nvls"));
}

TEST_CASE("aggregate merges runs of identical phases only", "[collective]")
{
  const double S = 1e9;
  auto hd = algo("halving_doubling")->expand(CollectiveKind::all_reduce, 8, S);
  // The last halving and the first doubling step are the same exchange (S/8 with the neighbour): merged.
  REQUIRE(hd.phases.size() == 6);
  CHECK(aggregate(hd).phases.size() == 5);
  auto rs = algo("halving_doubling")->expand(CollectiveKind::reduce_scatter, 8, S);
  CHECK(aggregate(rs).phases.size() == 3);
  auto h = algo("hierarchical")->expand(CollectiveKind::all_reduce, 8, S, nodes_of(2, 4));
  CHECK(aggregate(h).phases.size() == 3); // scale-up, scale-out, scale-up
  CHECK(aggregate(h).bytes_sent_by(5) == Approx(h.bytes_sent_by(5)));
}

TEST_CASE("ring's closed-form estimate equals the alpha-beta cost of its schedule", "[collective]")
{
  auto ring = algo("ring");
  for (int p = 2; p <= 16; ++p)
    for (const Topology& t : {Topology{}, nodes_of(2, 4), nodes_of(1, 16)}) {
      const int n = t.node_of.empty() ? p : static_cast<int>(t.node_of.size());
      if (n != p)
        continue;
      for (auto kind : {CollectiveKind::all_reduce, CollectiveKind::reduce_scatter})
        CHECK(ring->estimate(kind, p, 3e8, t) == Approx(estimate_time(ring->expand(kind, p, 3e8, t), p, t)));
    }
}

TEST_CASE("auto: latency-bound messages leave the ring, bandwidth-bound ones stay; in-network where declared",
          "[collective]")
{
  register_builtins();
  Topology flat; // 64 members on their own nodes, 400 Gb/s, 2 us + 6 us per step
  const int p = 64;
  const std::string small = auto_choice(CollectiveKind::all_reduce, p, 64e3, flat);
  CHECK((small == "tree" || small == "halving_doubling"));
  const std::string large = auto_choice(CollectiveKind::all_reduce, p, 4e9, flat);
  CHECK((large == "ring" || large == "halving_doubling"));
  // The pick is the least estimate among the candidates that can run.
  for (double bytes : {1e3, 1e5, 1e7, 1e9})
    for (const Topology& t : {flat, nodes_of(8, 8)}) {
      const std::string pick = auto_choice(CollectiveKind::all_reduce, p, bytes, t);
      const double best = algo(pick)->estimate(CollectiveKind::all_reduce, p, bytes, t);
      for (const char* n : {"ring", "tree", "halving_doubling", "hierarchical"})
        CHECK(best <= algo(n)->estimate(CollectiveKind::all_reduce, p, bytes, t) * (1 + 1e-12));
      CHECK(algo("auto")->estimate(CollectiveKind::all_reduce, p, bytes, t) == Approx(best));
    }
  // Eight members per node, fast scale-up: large messages go hierarchical.
  CHECK(auto_choice(CollectiveKind::all_reduce, p, 1e9, nodes_of(8, 8)) == "hierarchical");
  Topology sharp = flat;
  sharp.sharp = true;
  CHECK(auto_choice(CollectiveKind::all_reduce, p, 1e9, sharp) == "in_network");
  CHECK(auto_choice(CollectiveKind::all_to_all, p, 1e9, flat) == "direct");
  CHECK(auto_choice(CollectiveKind::reduce_scatter, p, 1e9, flat) != "tree");
}

// ---------------------------------------------------------------------------------------------------
// SimGrid against closed forms. One-switch fat tree, 100 Gb/s NICs, 1 us per link (a = 2 us per
// message: NIC up, NIC down), no software latency, bus efficiency 1.

namespace {

scenario::Calibration ideal()
{
  auto cal = scenario::Catalog::instance().calibration();
  cal.collective_step_latency_s = 0;
  cal.scale_out_bus_efficiency = 1;
  cal.scale_up_bus_efficiency = 1;
  cal.protocols.clear(); // the alpha-beta bound: no protocol model (docs/at-scale.md#collective-efficiency)
  return cal;
}

scenario::Scenario cluster(int nodes, int per_node, bool sharp = false, bool nvls = false)
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(nodes, per_node, "100Gbps", "1us");
    j["cluster"]["scale_up"] = {{"bandwidth", "100GB/s"}, {"latency", "0.5us"}, {"nvls", nvls}};
    j["cluster"]["fabric"]["in_network_reduction"] = sharp;
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", nodes * per_node}};
    j["training"]["global_batch_size"] = nodes * per_node;
    j["training"]["recompute"] = "full";
  });
}

constexpr double B = 100e9 / 8, a = 2e-6; // scale-out
constexpr double Bu = 100e9, au = 1e-6;   // scale-up: 0.5 us up + 0.5 us down

std::vector<int> iota(int p)
{
  std::vector<int> g;
  for (int i = 0; i < p; ++i)
    g.push_back(i);
  return g;
}

double run_sim(const scenario::Scenario& s, CollectiveKind kind, double S, const std::string& name,
               bool aggregate = true)
{
  auto f = topology::Fabric::build(s.cluster);
  const int p = static_cast<int>(s.cluster.total_accelerators());
  return sim::simulate_collective(s, f, ideal(), {iota(p)}, static_cast<int>(kind), S, aggregate, name);
}

/// The topology the runner gives algorithms for this cluster with the ideal calibration.
Topology topo_of(int N, int L, bool sharp = false, bool nvls = false)
{
  Topology t = nodes_of(N, L);
  t.scale_out = {B, a};
  t.scale_up = {Bu, au};
  t.step_latency = 0;
  t.sharp = sharp;
  t.nvls = nvls;
  return t;
}

void report(const std::string& what, double t, double closed)
{
  if (std::getenv("TRAINSIM_PRINT_CLOSED_FORMS")) // the error table of docs/collectives.md
    std::printf("closed-form|%s|%.12g|%.12g|%.3e\n", what.c_str(), t, closed, (t - closed) / closed);
  INFO(what << ": simulated " << t << " s, closed form " << closed << " s, error " << (t - closed) / closed);
  // Absolute margin: SimGrid ends activities to 1e-9 s (precision/timing), once per phase; any modelled
  // latency (1 us and up) or bandwidth term stays far above it.
  CHECK(t == Approx(closed).epsilon(1e-6).margin(5e-8));
}

} // namespace

TEST_CASE("halving-doubling on SimGrid: 2k(a) + 2(q-1)/q S/B, plus 2(a + S/B) for the pre/post step", "[model][sim]")
{
  const double S = 1e9;
  for (int p : {2, 3, 4, 5, 6, 8, 12, 16}) {
    const int k = log2_floor(p), q = 1 << k, r = p - q;
    auto s = cluster(p, 1);
    const double ar = 2 * k * a + 2.0 * (q - 1) / q * S / B + (r > 0 ? 2 * (a + S / B) : 0);
    for (bool agg : {true, false})
      report("halving_doubling all_reduce p=" + std::to_string(p) + (agg ? " aggregated" : " phased"),
             run_sim(s, CollectiveKind::all_reduce, S, "halving_doubling", agg), ar);
    if (r == 0) {
      report("halving_doubling reduce_scatter p=" + std::to_string(p),
             run_sim(s, CollectiveKind::reduce_scatter, S, "halving_doubling"), k * a + (p - 1.0) / p * S / B);
      report("halving_doubling all_gather p=" + std::to_string(p),
             run_sim(s, CollectiveKind::all_gather, S, "halving_doubling"), k * a + (p - 1.0) / p * S / B);
    }
  }
}

TEST_CASE("double binary tree on SimGrid: sum over chunk steps of a + busiest link's chunks / B", "[model][sim]")
{
  auto tree = algo("tree");
  for (double S : {1e6, 1e9})
    for (int p : {2, 3, 4, 7, 8, 13, 16}) {
      auto s = cluster(p, 1);
      const Topology t = topo_of(p, 1);
      const double closed = estimate_time(tree->expand(CollectiveKind::all_reduce, p, S, t), p, t);
      for (bool agg : {true, false})
        report("tree p=" + std::to_string(p) + " S=" + std::to_string(S) + (agg ? " aggregated" : " phased"),
               run_sim(s, CollectiveKind::all_reduce, S, "tree", agg), closed);
    }
  // p = 2 analytically: the two trees are 0 <- 1 and 1 <- 0; c chunks of S/2c each way; the first and last
  // steps carry one chunk per link, the c - 1 middle ones two: (c + 1) a + S/B.
  const double S = 1e9;
  auto s2 = tree->expand(CollectiveKind::all_reduce, 2, S, topo_of(2, 1));
  const int c = s2.latency_steps - 1;
  report("tree p=2 analytic", run_sim(cluster(2, 1), CollectiveKind::all_reduce, S, "tree"), (c + 1) * a + S / B);
}

TEST_CASE("hierarchical on SimGrid: 2(L-1)(a_up + S/(L B_up)) + 2(N-1)(a + S/(LN B))", "[model][sim]")
{
  const double S = 1e9;
  for (auto [N, L] : {std::pair{2, 2}, {2, 4}, {4, 2}, {3, 4}, {2, 8}}) {
    auto s = cluster(N, L);
    const double ar = 2 * (L - 1) * (au + S / (L * Bu)) + 2 * (N - 1) * (a + S / (static_cast<double>(L) * N * B));
    const double rs = (L - 1) * (au + S / (L * Bu)) + (N - 1) * (a + S / (static_cast<double>(L) * N * B));
    const std::string tag = " N=" + std::to_string(N) + " L=" + std::to_string(L);
    for (bool agg : {true, false})
      report("hierarchical all_reduce" + tag + (agg ? " aggregated" : " phased"),
             run_sim(s, CollectiveKind::all_reduce, S, "hierarchical", agg), ar);
    report("hierarchical reduce_scatter" + tag, run_sim(s, CollectiveKind::reduce_scatter, S, "hierarchical"), rs);
    report("hierarchical all_gather" + tag, run_sim(s, CollectiveKind::all_gather, S, "hierarchical"), rs);
    // Against the flat ring on the same cluster: the ring's boundary NICs carry L times more.
    const double ring = run_sim(s, CollectiveKind::all_reduce, S, "ring");
    CHECK(run_sim(s, CollectiveKind::all_reduce, S, "hierarchical") < ring);
  }
}

TEST_CASE("all-to-all on SimGrid: direct a + (p-1)/p S/B, pairwise (p-1)(a + S/(pB))", "[model][sim]")
{
  const double S = 1e9;
  for (int p : {2, 3, 4, 8, 16}) {
    auto s = cluster(p, 1);
    report("direct p=" + std::to_string(p), run_sim(s, CollectiveKind::all_to_all, S, "direct"),
           a + (p - 1.0) / p * S / B);
    for (bool agg : {true, false})
      report("pairwise p=" + std::to_string(p) + (agg ? " aggregated" : " phased"),
             run_sim(s, CollectiveKind::all_to_all, S, "pairwise", agg), (p - 1) * (a + S / (p * B)));
  }
}

TEST_CASE("in-network reduction on SimGrid: a + S/B through SHARP, a_up + S/B_up through NVLS", "[model][sim]")
{
  const double S = 1e9;
  for (int p : {2, 4, 8, 16})
    for (auto kind : {CollectiveKind::all_reduce, CollectiveKind::reduce_scatter, CollectiveKind::all_gather}) {
      report(std::string("SHARP ") + to_string(kind) + " p=" + std::to_string(p),
             run_sim(cluster(p, 1, true), kind, S, "in_network"), a + S / B);
      report(std::string("NVLS ") + to_string(kind) + " p=" + std::to_string(p),
             run_sim(cluster(1, p, false, true), kind, S, "in_network"), au + S / Bu);
    }
  // Both: NVLS reduce-scatter, SHARP all-reduce of S/L per rail, NVLS all-gather.
  report("NVLS+SHARP all_reduce 4x4", run_sim(cluster(4, 4, true, true), CollectiveKind::all_reduce, S, "in_network"),
         2 * (au + S / Bu) + a + S / (4 * B));
}

TEST_CASE("auto on SimGrid runs what it picks, and its estimate is the simulated time", "[model][sim]")
{
  register_builtins(); // auto_choice reads the registry before run_sim fills it (the case runs alone in ctest)
  for (auto [N, L] : {std::pair{16, 1}, {4, 4}})
    for (double S : {1e4, 1e9}) {
      auto s = cluster(N, L);
      const Topology t = topo_of(N, L);
      const std::string pick = auto_choice(CollectiveKind::all_reduce, N * L, S, t);
      const double t_auto = run_sim(s, CollectiveKind::all_reduce, S, "auto");
      INFO("N=" << N << " L=" << L << " S=" << S << " picks " << pick);
      CHECK(t_auto == Approx(run_sim(s, CollectiveKind::all_reduce, S, pick)).epsilon(1e-9));
      report("auto estimate", t_auto, algo("auto")->estimate(CollectiveKind::all_reduce, N * L, S, t));
    }
}

TEST_CASE("leaf trunks: the estimate auto uses matches SimGrid on an oversubscribed two-leaf tree", "[model][sim]")
{
  // 4 nodes x 8 GPUs, 2 nodes per leaf, 4:1: each leaf's trunk carries 16 NICs / 4 = 50 GB/s, shared by
  // the 8 rails' groups that run at once: 6.25 GB/s each, half a NIC. Routes: 2 us in a leaf, 4 us across.
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(4, 8, "100Gbps", "1us");
    j["cluster"]["fabric"] = {{"type", "fat_tree"},        {"nic_bandwidth", "100Gbps"}, {"tiers", 2},
                              {"oversubscription", "4:1"}, {"switch_radix", 20},         {"latency", "1us"}};
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 32}};
    j["training"]["global_batch_size"] = 32;
    j["training"]["recompute"] = "full";
  });
  auto f = topology::Fabric::build(s.cluster);
  REQUIRE(f.summary().leaves == 2);
  std::vector<std::vector<int>> rails;
  for (int rail = 0; rail < 8; ++rail)
    rails.push_back({rail, 8 + rail, 16 + rail, 24 + rail});
  Topology t = topo_of(4, 1);
  t.scale_out.latency = 4e-6;
  t.leaf_of = {0, 0, 1, 1};
  t.leaf_uplink_bandwidth = 16 * B / 4 / 8;
  const double S = 4e9;
  for (const char* name : {"ring", "halving_doubling"})
    for (auto kind : {CollectiveKind::all_reduce, CollectiveKind::reduce_scatter}) {
      const double simulated = sim::simulate_collective(s, f, ideal(), rails, static_cast<int>(kind), S, true, name);
      const double estimate = algo(name)->estimate(kind, 4, S, t);
      INFO(name << " " << to_string(kind));
      // Ring flows inside a leaf pay 2 us, not the 4 us of the longest route the estimate charges.
      CHECK(simulated == Approx(estimate).epsilon(1e-4));
    }
}

TEST_CASE("/parallelism/collectives is validated against the registry and the fabric", "[collective]")
{
  auto with = [](const nlohmann::json& collectives, bool sharp, bool nvls, int tp) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(4, 8, "100Gbps", "1us");
      j["cluster"]["fabric"]["in_network_reduction"] = sharp;
      j["cluster"]["scale_up"] = {{"nvls", nvls}};
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", tp}, {"pp", 1}, {"dp", 32 / tp}, {"collectives", collectives}};
      j["training"]["global_batch_size"] = 32;
      j["training"]["recompute"] = "full";
    });
  };
  auto message = [&](const nlohmann::json& c, bool sharp, bool nvls, int tp) {
    try {
      with(c, sharp, nvls, tp);
    } catch (const trainsim::core::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(message({{"dp", "butterfly"}}, false, false, 8),
             Catch::Contains("/parallelism/collectives/dp") && Catch::Contains("valid: auto, direct"));
  CHECK_THAT(message({{"dp", "direct"}}, false, false, 8), Catch::Contains("all-to-all algorithm"));
  CHECK_THAT(message({{"tp", "tree"}}, false, false, 8), Catch::Contains("/parallelism/collectives/tp"));
  CHECK_THAT(message({{"ep", "ring"}}, false, false, 8), Catch::Contains("/parallelism/collectives/ep"));
  // tp 8: one member of each data-parallel group per node; tp 2: four per node.
  CHECK_THAT(message({{"dp", "in_network"}}, false, false, 8), Catch::Contains("/cluster/fabric/in_network_reduction"));
  CHECK(message({{"dp", "in_network"}}, true, false, 8) == "accepted");
  CHECK_THAT(message({{"dp", "in_network"}}, true, false, 2), Catch::Contains("/cluster/scale_up/nvls"));
  CHECK(message({{"dp", "in_network"}}, true, true, 2) == "accepted");
  CHECK(message({{"dp", "hierarchical"}, {"tp", "ring"}}, false, false, 2) == "accepted");
  auto s = with({{"dp", "auto"}}, false, false, 8);
  CHECK(s.parallelism.collectives.at("dp") == "auto");
  CHECK(s.parallelism.collectives.at("tp") == "ring");
  CHECK(scenario::to_json(s)["parallelism"]["collectives"]["dp"] == "auto");
  CHECK_FALSE(
      scenario::to_json(with(nlohmann::json::object(), false, false, 8))["parallelism"].contains("collectives"));
}

TEST_CASE("every algorithm answers supports(kind, group, topology) itself, and expand refuses exactly that",
          "[collective]")
{
  register_builtins();
  std::vector<std::pair<std::string, Topology>> topologies{{"flat", Topology{}}};
  for (auto [N, L] : {std::pair<int, int>{1, 8}, {4, 2}, {2, 4}, {8, 1}}) {
    Topology t = nodes_of(N, L);
    topologies.push_back({std::to_string(N) + "x" + std::to_string(L), t});
    t.sharp = true;
    topologies.push_back({std::to_string(N) + "x" + std::to_string(L) + " sharp", t});
    t.nvls = true;
    topologies.push_back({std::to_string(N) + "x" + std::to_string(L) + " sharp nvls", t});
  }
  Topology uneven;
  uneven.node_of = {0, 0, 0, 1, 1, 2, 2, 2};
  uneven.sharp = uneven.nvls = true;
  topologies.push_back({"uneven", uneven});
  int refused = 0;
  for (const auto& name : Registry::instance().names()) {
    auto a = algo(name);
    for (auto kind : {CollectiveKind::all_reduce, CollectiveKind::reduce_scatter, CollectiveKind::all_gather,
                      CollectiveKind::all_to_all})
      for (const auto& [what, topo] : topologies) {
        INFO(name << " " << to_string(kind) << " on " << what);
        const bool ok = a->supports(kind, 8, topo);
        CHECK(ok == a->why_unsupported(kind, 8, topo).empty());
        if (!a->supports(kind))
          CHECK_FALSE(ok);
        if (ok) {
          CHECK_NOTHROW(a->expand(kind, 8, 1e6, topo));
        } else {
          ++refused;
          CHECK_THROWS_AS(a->expand(kind, 8, 1e6, topo), core::InvalidArgument);
          CHECK_THROWS_WITH(a->expand(kind, 8, 1e6, topo), a->why_unsupported(kind, 8, topo));
        }
      }
  }
  CHECK(refused > 0);
  // The topology, not only the kind: hierarchical refuses uneven nodes, in_network a fabric without SHARP.
  CHECK_FALSE(algo("hierarchical")->supports(CollectiveKind::all_reduce, 8, uneven));
  CHECK(algo("hierarchical")->supports(CollectiveKind::all_reduce, 8, nodes_of(2, 4)));
  CHECK_FALSE(algo("in_network")->supports(CollectiveKind::all_reduce, 8, nodes_of(8, 1)));
  Topology sharp = nodes_of(8, 1);
  sharp.sharp = true;
  CHECK(algo("in_network")->supports(CollectiveKind::all_reduce, 8, sharp));
  // auto picks only what its candidate supports.
  CHECK(auto_choice(CollectiveKind::all_reduce, 8, 1e9, uneven) != "hierarchical");
}
