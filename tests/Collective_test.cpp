#include <catch2/catch.hpp>

#include "trainsim/collective/Collective.hpp"

using namespace trainsim::collective;

TEST_CASE("ring collectives: steps, bytes sent equal bytes received", "[collective]")
{
  register_builtins();
  auto ring = Registry::instance().create("ring");
  const double S = 1e9;
  for (int p : {2, 3, 8, 16}) {
    auto ar = ring->expand(CollectiveKind::all_reduce, p, S);
    CHECK(ar.latency_steps == 2 * (p - 1));
    auto rs = ring->expand(CollectiveKind::reduce_scatter, p, S);
    CHECK(rs.latency_steps == p - 1);
    for (int i = 0; i < p; ++i) {
      CHECK(ar.bytes_sent_by(i) == Approx(2.0 * (p - 1) / p * S));
      CHECK(ar.bytes_received_by(i) == Approx(ar.bytes_sent_by(i)));
      CHECK(rs.bytes_sent_by(i) == Approx(1.0 * (p - 1) / p * S));
    }
    auto agg = aggregate(ar);
    REQUIRE(agg.phases.size() == 1);
    CHECK(agg.phases[0].transfers.size() == static_cast<size_t>(p));
    CHECK(agg.latency_steps == ar.latency_steps);
    CHECK(agg.bytes_sent_by(0) == Approx(ar.bytes_sent_by(0)));
  }
}

TEST_CASE("unknown algorithms list the valid ones", "[collective]")
{
  register_builtins();
  CHECK_THROWS_WITH(
      Registry::instance().create("butterfly"),
      Catch::Contains("valid: auto, direct, halving_doubling, hierarchical, in_network, pairwise, ring, tree"));
}
