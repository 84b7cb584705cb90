#include <memory>
#include <stdexcept>

#include "Support.hpp"
#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Pairwise-exchange all-to-all (MPI's pairwise algorithm): p-1 phases; in phase k member i sends its
/// block of bytes/p to member i+k mod p and receives from i-k, so every link carries one message at a time.
/// Alpha-beta: (p-1)(a + S/(pB)). It trades latency for freedom from incast, which matters on fabrics
/// whose congestion control degrades under many-to-one traffic.
class Pairwise final : public Algorithm {
public:
  std::string name() const override { return "pairwise"; }
  bool supports(CollectiveKind kind) const override { return kind == CollectiveKind::all_to_all; }
  std::string why_unsupported(CollectiveKind kind, int, const Topology&) const override
  {
    return impl::all_to_all_only(name(), kind);
  }
  Schedule expand(CollectiveKind kind, int p, double bytes, const Topology& topo) const override
  {
    require(kind, p, topo);
    Schedule s;
    for (int k = 1; k < p; ++k) {
      Phase ph;
      for (int i = 0; i < p; ++i)
        ph.transfers.push_back({i, (i + k) % p, bytes / p});
      s.phases.push_back(std::move(ph));
    }
    s.latency_steps = p > 1 ? p - 1 : 0;
    return s;
  }
};

} // namespace

void register_pairwise()
{
  Registry::instance().add("pairwise", [] { return std::make_unique<Pairwise>(); });
}

} // namespace trainsim::collective
