#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Ring algorithms (NCCL's ring): p-1 steps for reduce-scatter and all-gather, 2(p-1) for all-reduce;
/// in every step each member sends one chunk of bytes/p to its successor.
/// Alpha-beta: all-reduce 2(p-1)(a + S/(pB)); reduce-scatter and all-gather (p-1)(a + S/(pB)).
class Ring final : public Algorithm {
public:
  std::string name() const override { return "ring"; }
  bool supports(CollectiveKind kind) const override { return kind != CollectiveKind::all_to_all; }
  std::string why_unsupported(CollectiveKind kind, int, const Topology&) const override
  {
    return supports(kind) ? "" : "ring does not implement all_to_all; use direct or pairwise";
  }
  Schedule expand(CollectiveKind kind, int p, double bytes, const Topology& topo) const override
  {
    require(kind, p, topo);
    Schedule s;
    if (p <= 1)
      return s;
    const int steps = kind == CollectiveKind::all_reduce ? 2 * (p - 1) : p - 1;
    const double chunk = bytes / p;
    for (int step = 0; step < steps; ++step) {
      Phase ph;
      for (int i = 0; i < p; ++i)
        ph.transfers.push_back({i, (i + 1) % p, chunk});
      s.phases.push_back(std::move(ph));
    }
    s.latency_steps = steps;
    return s;
  }
  double estimate(CollectiveKind kind, int p, double bytes, const Topology& topo) const override
  {
    if (p <= 1 || !supports(kind))
      return Algorithm::estimate(kind, p, bytes, topo);
    bool up = false, out = false;
    for (int i = 0; i < p; ++i)
      (topo.same_node(i, (i + 1) % p) ? up : out) = true;
    const int steps = kind == CollectiveKind::all_reduce ? 2 * (p - 1) : p - 1;
    const double chunk = bytes / p;
    double trunk = 0; // the busiest leaf uplink: ring flows leaving (or entering) one leaf
    if (!topo.leaf_of.empty() && topo.leaf_uplink_bandwidth > 0) {
      std::map<int, int> leaving, entering;
      for (int i = 0; i < p; ++i) {
        const int a = topo.leaf_of[static_cast<size_t>(i)], b = topo.leaf_of[static_cast<size_t>((i + 1) % p)];
        if (a != b) {
          ++leaving[a];
          ++entering[b];
        }
      }
      for (const auto* m : {&leaving, &entering})
        for (const auto& [leaf, n] : *m)
          trunk = std::max(trunk, n * chunk / topo.leaf_uplink_bandwidth);
    }
    const double step =
        std::max(up ? topo.scale_up.latency : 0.0, out ? topo.scale_out.latency : 0.0) +
        std::max({up ? chunk / topo.scale_up.bandwidth : 0.0, out ? chunk / topo.scale_out.bandwidth : 0.0, trunk});
    return steps * (step + topo.step_latency);
  }
};

} // namespace

void register_ring()
{
  Registry::instance().add("ring", [] { return std::make_unique<Ring>(); });
}

} // namespace trainsim::collective
