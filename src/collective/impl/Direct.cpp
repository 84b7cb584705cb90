#include <memory>
#include <stdexcept>

#include "Support.hpp"
#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Direct all-to-all (NCCL's all-to-all: every send and receive posted at once): one phase in which each
/// member sends bytes/p to every other member. Alpha-beta on a non-blocking fabric: a + (p-1)/p S/B;
/// the fabric's contention (incast on a member's link, oversubscribed trunks) is what the simulation adds.
class Direct final : public Algorithm {
public:
  std::string name() const override { return "direct"; }
  bool supports(CollectiveKind kind) const override { return kind == CollectiveKind::all_to_all; }
  std::string why_unsupported(CollectiveKind kind, int, const Topology&) const override
  {
    return impl::all_to_all_only(name(), kind);
  }
  Schedule expand(CollectiveKind kind, int p, double bytes, const Topology& topo) const override
  {
    require(kind, p, topo);
    Schedule s;
    if (p <= 1)
      return s;
    Phase ph;
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j)
        if (i != j)
          ph.transfers.push_back({i, j, bytes / p});
    s.phases.push_back(std::move(ph));
    s.latency_steps = 1;
    return s;
  }
};

} // namespace

void register_direct()
{
  Registry::instance().add("direct", [] { return std::make_unique<Direct>(); });
}

} // namespace trainsim::collective
