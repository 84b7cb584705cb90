#include <limits>
#include <memory>
#include <stdexcept>

#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Candidates in order of preference when two estimates are equal (the simpler algorithm first).
const char* const reduction_candidates[] = {"ring", "hierarchical", "tree", "halving_doubling", "in_network"};
const char* const all_to_all_candidates[] = {"direct", "pairwise"};

} // namespace

std::string auto_choice(CollectiveKind kind, int p, double bytes, const Topology& topo)
{
  auto& reg = Registry::instance();
  std::string best;
  double best_t = std::numeric_limits<double>::infinity();
  auto consider = [&](const std::string& name) {
    if (!reg.has(name))
      return;
    auto algo = reg.create(name);
    if (!algo->supports(kind))
      return;
    if (name == "tree" && kind != CollectiveKind::all_reduce)
      return; // runs as ring
    if (name == "hierarchical") {
      const auto nodes = topo.nodes(p);
      if (nodes.size() == 1 || nodes.size() == static_cast<size_t>(p))
        return; // the ring itself
    }
    double t = 0;
    try {
      t = algo->estimate(kind, p, bytes, topo);
    } catch (const core::InvalidArgument&) {
      return; // cannot run here (uneven nodes, no in-network reduction declared)
    }
    if (t < best_t) {
      best_t = t;
      best = name;
    }
  };
  if (kind == CollectiveKind::all_to_all)
    for (const char* n : all_to_all_candidates)
      consider(n);
  else
    for (const char* n : reduction_candidates)
      consider(n);
  if (best.empty())
    throw core::InvalidArgument(std::string("auto found no algorithm for ") + to_string(kind));
  return best;
}

namespace {

/// `auto`: the candidate with the least alpha-beta estimate for this message size, group size and
/// topology (docs/collectives.md), in the spirit of NCCL's tuning model, which predicts each algorithm's
/// time from per-algorithm latency and bandwidth and takes the fastest.
class Auto final : public Algorithm {
public:
  std::string name() const override { return "auto"; }
  bool supports(CollectiveKind) const override { return true; }
  Schedule expand(CollectiveKind kind, int p, double bytes, const Topology& topo) const override
  {
    if (p <= 1)
      return {};
    return Registry::instance().create(auto_choice(kind, p, bytes, topo))->expand(kind, p, bytes, topo);
  }
  double estimate(CollectiveKind kind, int p, double bytes, const Topology& topo) const override
  {
    if (p <= 1)
      return 0;
    return Registry::instance().create(auto_choice(kind, p, bytes, topo))->estimate(kind, p, bytes, topo);
  }
};

} // namespace

void register_auto()
{
  Registry::instance().add("auto", [] { return std::make_unique<Auto>(); });
}

} // namespace trainsim::collective
