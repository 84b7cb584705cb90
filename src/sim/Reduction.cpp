#include "Reduction.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "trainsim/topology/Ecmp.hpp"

namespace trainsim::sim {

bool rails_symmetric(const topology::Fabric& fabric, const topology::Placement& pl, std::string& note,
                     std::vector<std::pair<int, double>>* shared)
{
  const int tp = pl.tp(), dp = pl.dp(), pp = pl.pp();
  if (tp == 1 || dp == 1)
    return true;
  const auto& links = fabric.links();
  const auto T = static_cast<size_t>(tp);
  std::vector<int> flows(links.size() * T, 0); // ring flows of rail t on link l, at [l * tp + t]
  std::vector<int> touched;
  std::vector<topology::Hop> hops;
  for (int t = 0; t < tp; ++t)
    for (int s = 0; s < pp; ++s)
      for (int d = 0; d < dp; ++d) {
        hops.clear();
        fabric.route(pl.accelerator({t, d, s}), pl.accelerator({t, (d + 1) % dp, s}), hops);
        for (const auto& h : hops) {
          auto& f = flows[static_cast<size_t>(h.link) * T + static_cast<size_t>(t)];
          if (f++ == 0)
            touched.push_back(h.link);
        }
      }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  // Every link carries the rings of one rail, or of every rail equally.
  std::vector<std::map<std::pair<double, int>, int>> signature(T);
  if (shared)
    shared->clear();
  for (int l : touched) {
    const auto base = static_cast<size_t>(l) * T;
    int users = 0, first = -1;
    bool equal = true;
    for (size_t t = 0; t < T; ++t)
      if (flows[base + t] > 0) {
        ++users;
        if (first < 0)
          first = static_cast<int>(t);
        equal = equal && flows[base + t] == flows[base];
      }
    const auto& link = links[static_cast<size_t>(l)];
    if (users == 1) {
      ++signature[static_cast<size_t>(first)][{link.bandwidth, flows[base + static_cast<size_t>(first)]}];
    } else if (users == tp && equal) {
      if (shared)
        shared->emplace_back(l, 1.0 / tp);
    } else {
      note = "link " + link.name + " (" + topology::to_string(link.kind) + ") carries the rings of " +
             std::to_string(users) + " of " + std::to_string(tp) + " rails" + (equal ? "" : " unequally");
      return false;
    }
  }
  for (size_t t = 1; t < T; ++t)
    if (signature[t] != signature[0]) {
      note = "rail " + std::to_string(t) + " has different link capacities or loads than rail 0";
      return false;
    }
  return true;
}

std::vector<std::vector<std::vector<char>>> ring_flows_to_keep(const topology::Fabric& fabric,
                                                               const topology::Placement& pl,
                                                               const std::vector<int>& rails,
                                                               const std::vector<std::pair<int, double>>& link_scale)
{
  const int dp = pl.dp(), pp = pl.pp();
  const auto& links = fabric.links();
  std::vector<double> scale(links.size(), 1.0);
  for (const auto& [l, f] : link_scale)
    scale[static_cast<size_t>(l)] = f;
  // Simulated flows per directed link (index 2 * link + up).
  std::vector<int> load(2 * links.size(), 0);
  std::vector<topology::Hop> hops;
  auto add_route = [&](int a, int b) {
    if (a == b)
      return;
    hops.clear();
    fabric.route(a, b, hops);
    for (const auto& h : hops)
      ++load[2 * static_cast<size_t>(h.link) + (h.up ? 1 : 0)];
  };
  for (int s = 0; s < pp; ++s) {
    for (int t : rails)
      for (int d = 0; d < dp; ++d)
        add_route(pl.accelerator({t, d, s}), pl.accelerator({t, (d + 1) % dp, s}));
    // The representative replica's other traffic: tensor-parallel ring shares and pipeline transfers.
    for (int t = 0; t < pl.tp(); ++t) {
      add_route(pl.accelerator({t, 0, s}), pl.accelerator({(t + 1) % pl.tp(), 0, s}));
      if (s + 1 < pp) {
        add_route(pl.accelerator({t, 0, s}), pl.accelerator({t, 0, s + 1}));
        add_route(pl.accelerator({t, 0, s + 1}), pl.accelerator({t, 0, s}));
      }
    }
    if (pp > 1) { // interleaved schedules also send from the last stage to the first
      add_route(pl.accelerator({0, 0, pp - 1}), pl.accelerator({0, 0, 0}));
      add_route(pl.accelerator({0, 0, 0}), pl.accelerator({0, 0, pp - 1}));
    }
  }
  std::vector<std::vector<std::vector<char>>> keep(static_cast<size_t>(pp));
  for (int s = 0; s < pp; ++s)
    for (int t : rails) {
      std::vector<char> k(static_cast<size_t>(dp), 1);
      std::set<std::vector<double>> seen; // route profiles of free flows already kept
      for (int d = 0; d < dp; ++d) {
        const int a = pl.accelerator({t, d, s}), b = pl.accelerator({t, (d + 1) % dp, s});
        hops.clear();
        fabric.route(a, b, hops);
        bool free = true;
        std::vector<double> profile;
        for (const auto& h : hops) {
          const auto l = static_cast<size_t>(h.link);
          free = free && load[2 * l + (h.up ? 1 : 0)] == 1;
          profile.push_back(links[l].bandwidth * scale[l]);
          profile.push_back(links[l].latency);
        }
        // Intra-node and inter-node flows are scaled by different bus efficiencies: part of the profile.
        profile.push_back(fabric.node_of(a) == fabric.node_of(b) ? 0.0 : 1.0);
        if (free && !seen.insert(profile).second)
          k[static_cast<size_t>(d)] = 0;
      }
      keep[static_cast<size_t>(s)].push_back(std::move(k));
    }
  return keep;
}

std::vector<char> used_accelerators(const topology::Placement& pl, const ReductionPlan& plan)
{
  const int tp = pl.tp(), dp = pl.dp(), pp = pl.pp();
  std::vector<char> used(static_cast<size_t>(tp) * dp * pp, 0);
  auto mark = [&](int t, int d, int s) { used[static_cast<size_t>(pl.accelerator({t, d, s}))] = 1; };
  const int lanes = plan.full ? tp : std::min(tp, 2); // the representative and its tensor-parallel successor
  for (int s = 0; s < pp; ++s) {
    for (int t : plan.rails)
      for (int d = 0; d < dp; ++d)
        mark(t, d, s);
    for (int d : plan.replicas)
      for (int t = 0; t < lanes; ++t)
        mark(t, d, s);
  }
  // Expert-parallel and context-parallel peers of the representative ranks (tensor rank 0 in reduced
  // fidelity, every rank in full) are data-parallel indices of rail 0 or of every rail: marked above.
  return used;
}

ReductionPlan plan_reduction(const topology::Fabric& fabric, const topology::Placement& pl, bool full)
{
  ReductionPlan plan;
  plan.full = full;
  const int replicas = full ? pl.dp() : 1;
  for (int d = 0; d < replicas; ++d)
    plan.replicas.push_back(d);
  std::vector<std::pair<int, double>> shared;
  plan.rails_symmetric = rails_symmetric(fabric, pl, plan.rail_note, &shared);
  const bool sample = !full && plan.rails_symmetric;
  if (sample)
    plan.link_scale = std::move(shared);
  // ECMP derating of hashed trunks (docs/fabrics.md): the same in full and reduced fidelity, on top of the
  // sampled rail's share.
  for (const auto& [l, f] : topology::ecmp_link_scale(fabric, pl, &plan.ecmp_min_share)) {
    auto it =
        std::find_if(plan.link_scale.begin(), plan.link_scale.end(), [l = l](const auto& e) { return e.first == l; });
    if (it == plan.link_scale.end())
      plan.link_scale.emplace_back(l, f);
    else
      it->second *= f;
  }
  const int rails = sample ? 1 : pl.tp();
  for (int t = 0; t < rails; ++t)
    plan.rails.push_back(t);
  if (pl.dp() > 1) {
    if (full) {
      plan.keep.assign(static_cast<size_t>(pl.pp()),
                       std::vector<std::vector<char>>(plan.rails.size(), std::vector<char>(static_cast<size_t>(pl.dp()), 1)));
    } else {
      plan.keep = ring_flows_to_keep(fabric, pl, plan.rails, plan.link_scale);
    }
  }
  return plan;
}

} // namespace trainsim::sim
