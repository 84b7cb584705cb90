#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Candidates in order of preference when two estimates are equal (the simpler algorithm first).
std::vector<const char*> candidates(CollectiveKind kind)
{
  if (kind == CollectiveKind::all_to_all)
    return {"direct", "pairwise"};
  return {"ring", "hierarchical", "tree", "halving_doubling", "in_network"};
}

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
    if (!algo->supports(kind, p, topo)) // the algorithm's own answer (uneven nodes, no in-network reduction)
      return;
    if (name == "tree" && kind != CollectiveKind::all_reduce)
      return; // runs as ring
    if (name == "hierarchical") {
      const auto nodes = topo.nodes(p);
      if (nodes.size() == 1 || nodes.size() == static_cast<size_t>(p))
        return; // the ring itself
    }
    const double t = algo->estimate(kind, p, bytes, topo);
    if (t < best_t) {
      best_t = t;
      best = name;
    }
  };
  for (const char* n : candidates(kind))
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
  /// Where a candidate can run it (ring and direct run on any group).
  std::string why_unsupported(CollectiveKind kind, int p, const Topology& topo) const override
  {
    if (p <= 1)
      return "";
    auto& reg = Registry::instance();
    for (const char* n : candidates(kind))
      if (reg.has(n) && reg.create(n)->supports(kind, p, topo))
        return "";
    return std::string("auto found no algorithm for ") + to_string(kind);
  }
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
