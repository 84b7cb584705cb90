#include <memory>

#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Ring algorithms (NCCL's ring): p-1 steps for reduce-scatter and all-gather, 2(p-1) for all-reduce;
/// in every step each member sends one chunk of bytes/p to its successor.
class Ring final : public Algorithm {
public:
  std::string name() const override { return "ring"; }
  Schedule expand(CollectiveKind kind, int p, double bytes) const override
  {
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
};

} // namespace

void register_ring()
{
  Registry::instance().add("ring", [] { return std::make_unique<Ring>(); });
}

} // namespace trainsim::collective
