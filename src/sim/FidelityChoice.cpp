#include "FidelityChoice.hpp"

#include <vector>

#include "Reduction.hpp"

namespace trainsim::sim {

namespace {

/// The first link that the all-to-all of the representative expert-parallel group (tensor rank 0,
/// replicas 0..ep-1) shares with another group's, or -1. Every member sends to every other member.
int shared_ep_link(const topology::Fabric& fabric, const topology::Placement& pl, int ep)
{
  const int tp = pl.tp(), dp = pl.dp(), pp = pl.pp();
  std::vector<int> owner(fabric.links().size(), -1); // group id that uses the link first
  std::vector<topology::Hop> hops;
  for (int s = 0; s < pp; ++s)
    for (int t = 0; t < tp; ++t)
      for (int first = 0; first + ep <= dp; first += ep) {
        const int group = (s * tp + t) * dp + first;
        for (int i = first; i < first + ep; ++i)
          for (int j = first; j < first + ep; ++j) {
            if (i == j)
              continue;
            hops.clear();
            fabric.route(pl.accelerator({t, i, s}), pl.accelerator({t, j, s}), hops);
            for (const auto& h : hops) {
              auto& o = owner[static_cast<size_t>(h.link)];
              if (o >= 0 && o != group)
                return h.link;
              o = group;
            }
          }
      }
  return -1;
}

} // namespace

std::string structural_asymmetry(const topology::Fabric& fabric, const topology::Placement& pl, int ep)
{
  std::string note;
  if (!rails_symmetric(fabric, pl, note))
    return "rails are asymmetric: " + note;
  if (ep > 1 && pl.dp() >= ep) {
    const int l = shared_ep_link(fabric, pl, ep);
    if (l >= 0) {
      const auto& link = fabric.links()[static_cast<size_t>(l)];
      return "expert-parallel groups share link " + link.name + " (" + topology::to_string(link.kind) +
             "): reduced fidelity does not put the other groups' all-to-alls on it";
    }
  }
  return {};
}

FidelityChoice choose_fidelity(const scenario::Scenario& s, const topology::Fabric& fabric, const SimOptions& opt)
{
  if (opt.fidelity != Fidelity::automatic)
    return {opt.fidelity, "requested by --fidelity"};
  if (s.simulation.fidelity == "full")
    return {Fidelity::full, "requested by /simulation/fidelity"};
  if (s.simulation.fidelity == "reduced")
    return {Fidelity::reduced, "requested by /simulation/fidelity"};
  const auto& p = s.parallelism;
  const topology::Placement placement(p.tp, s.grad_replicas(), p.pp);
  std::string asym = structural_asymmetry(fabric, placement, p.ep);
  if (asym.empty() && s.cluster.mixed()) // docs/cluster.md "One job over mixed pools"
    asym = "the job spans " + std::to_string(s.cluster.pools.size()) +
           " pools of different accelerators (/cluster/pools): its stages and scale-up domains differ";
  if (asym.empty())
    return {Fidelity::reduced,
            "auto: data-parallel replicas and rails are symmetric, so one replica and one rail stand "
            "for all (exact reduction)"};
  const long n = s.cluster.total_accelerators();
  if (n <= full_fidelity_max_accelerators)
    return {Fidelity::full, "auto: " + asym};
  return {Fidelity::reduced, "auto: " + asym + "; but " + std::to_string(n) +
                                 " accelerators are more than auto simulates in full (" +
                                 std::to_string(full_fidelity_max_accelerators) + ")"};
}

} // namespace trainsim::sim
