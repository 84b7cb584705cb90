#include "Reduction.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "LinkLoad.hpp"
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

namespace {

/// Every data-parallel ring of `rails` and the representative replica's tensor-parallel shares and
/// pipeline transfers, on every stage.
void add_rings_and_representative(LinkLoad& load, const topology::Placement& pl, const std::vector<int>& rails)
{
  const int dp = pl.dp(), pp = pl.pp();
  for (int s = 0; s < pp; ++s) {
    for (int t : rails)
      for (int d = 0; d < dp; ++d)
        load.add(pl.accelerator({t, d, s}), pl.accelerator({t, (d + 1) % dp, s}));
    for (int t = 0; t < pl.tp(); ++t) {
      load.add(pl.accelerator({t, 0, s}), pl.accelerator({(t + 1) % pl.tp(), 0, s}));
      if (s + 1 < pp) {
        load.add(pl.accelerator({t, 0, s}), pl.accelerator({t, 0, s + 1}));
        load.add(pl.accelerator({t, 0, s + 1}), pl.accelerator({t, 0, s}));
      }
    }
    if (pp > 1) { // interleaved schedules also send from the last stage to the first
      load.add(pl.accelerator({0, 0, pp - 1}), pl.accelerator({0, 0, 0}));
      load.add(pl.accelerator({0, 0, 0}), pl.accelerator({0, 0, pp - 1}));
    }
  }
}

/// Which flows of `ring` (member i to i+1) to issue: all but the second and later free flows (every
/// directed link carries this flow alone) of one route profile.
std::vector<char> flows_to_keep(LinkLoad& load, const std::vector<int>& ring, const std::vector<double>& scale)
{
  const auto& fabric = load.fabric();
  const auto& links = fabric.links();
  const size_t n = ring.size();
  std::vector<char> k(n, 1);
  std::set<std::vector<double>> seen; // route profiles of free flows already kept
  for (size_t i = 0; i < n; ++i) {
    const int a = ring[i], b = ring[(i + 1) % n];
    bool free = true;
    std::vector<double> profile;
    for (const auto& h : load.route(a, b)) {
      const auto l = static_cast<size_t>(h.link);
      free = free && load.at(LinkLoad::directed(h)) == 1;
      profile.push_back(links[l].bandwidth * scale[l]);
      profile.push_back(links[l].latency);
    }
    // Intra-node and inter-node flows are scaled by different bus efficiencies: part of the profile.
    profile.push_back(fabric.node_of(a) == fabric.node_of(b) ? 0.0 : 1.0);
    if (free && !seen.insert(profile).second)
      k[i] = 0;
  }
  return k;
}

std::vector<double> link_scales(const topology::Fabric& fabric, const std::vector<std::pair<int, double>>& link_scale)
{
  std::vector<double> scale(fabric.links().size(), 1.0);
  for (const auto& [l, f] : link_scale)
    scale[static_cast<size_t>(l)] = f;
  return scale;
}

/// The members of expert-data-parallel ring `e` of rail `t` at stage `s` (data-parallel indices e + k ep).
std::vector<int> expert_ring(const topology::Placement& pl, int t, int e, int ep, int s)
{
  std::vector<int> ring;
  for (int d = e; d < pl.dp(); d += ep)
    ring.push_back(pl.accelerator({t, d, s}));
  return ring;
}

} // namespace

std::vector<std::vector<std::vector<char>>> ring_flows_to_keep(const topology::Fabric& fabric,
                                                               const topology::Placement& pl,
                                                               const std::vector<int>& rails,
                                                               const std::vector<std::pair<int, double>>& link_scale)
{
  const int dp = pl.dp(), pp = pl.pp();
  const auto scale = link_scales(fabric, link_scale);
  LinkLoad load(fabric);
  add_rings_and_representative(load, pl, rails);
  std::vector<std::vector<std::vector<char>>> keep(static_cast<size_t>(pp));
  for (int s = 0; s < pp; ++s)
    for (int t : rails) {
      std::vector<int> ring;
      for (int d = 0; d < dp; ++d)
        ring.push_back(pl.accelerator({t, d, s}));
      keep[static_cast<size_t>(s)].push_back(flows_to_keep(load, ring, scale));
    }
  return keep;
}

std::vector<std::vector<std::vector<char>>>
expert_ring_flows_to_keep(const topology::Fabric& fabric, const topology::Placement& pl, const std::vector<int>& rails,
                          const std::vector<std::pair<int, double>>& link_scale, int ep)
{
  const int pp = pl.pp();
  const auto scale = link_scales(fabric, link_scale);
  LinkLoad load(fabric);
  add_rings_and_representative(load, pl, rails);
  for (int s = 0; s < pp; ++s) {
    for (int t : rails)
      for (int e = 0; e < ep; ++e)
        load.add_ring(expert_ring(pl, t, e, ep, s));
    for (int j = 1; j < ep; ++j) // the representative's expert-parallel all-to-all fan-out
      load.add(pl.accelerator({0, 0, s}), pl.accelerator({0, j, s}));
  }
  // A stage's dense and expert rings run one after the other on its data-parallel stream (run_dp_stream):
  // an expert ring flow shares no time with its own stage's dense rings, which are left out of its load.
  std::vector<std::vector<std::vector<char>>> keep(static_cast<size_t>(pp));
  for (int s = 0; s < pp; ++s) {
    std::vector<std::vector<int>> dense;
    for (int t : rails) {
      dense.emplace_back();
      for (int d = 0; d < pl.dp(); ++d)
        dense.back().push_back(pl.accelerator({t, d, s}));
      load.add_ring(dense.back(), -1);
    }
    for (int t : rails)
      for (int e = 0; e < ep; ++e)
        keep[static_cast<size_t>(s)].push_back(flows_to_keep(load, expert_ring(pl, t, e, ep, s), scale));
    for (const auto& ring : dense)
      load.add_ring(ring);
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
  if (fabric.hashed_trunks() && pl.pp() > 1) { // pipeline sends on hashed trunks (docs/fabrics.md)
    const int pp = pl.pp();
    plan.p2p_cap_next.assign(static_cast<size_t>(pp), 0.0);
    plan.p2p_cap_prev.assign(static_cast<size_t>(pp), 0.0);
    for (int s = 0; s < pp; ++s)
      for (int dir : {1, -1}) {
        const double f = topology::ecmp_p2p_slowdown(fabric, pl, s, (s + dir + pp) % pp);
        if (f > 1.0) {
          (dir > 0 ? plan.p2p_cap_next : plan.p2p_cap_prev)[static_cast<size_t>(s)] = fabric.nic_bandwidth() / f;
          plan.ecmp_p2p_share = std::min(plan.ecmp_p2p_share, 1.0 / f);
        }
      }
  }
  const int rails = sample ? 1 : pl.tp();
  for (int t = 0; t < rails; ++t)
    plan.rails.push_back(t);
  if (pl.dp() > 1) {
    if (full) {
      plan.keep.assign(
          static_cast<size_t>(pl.pp()),
          std::vector<std::vector<char>>(plan.rails.size(), std::vector<char>(static_cast<size_t>(pl.dp()), 1)));
    } else {
      plan.keep = ring_flows_to_keep(fabric, pl, plan.rails, plan.link_scale);
    }
  }
  return plan;
}

} // namespace trainsim::sim
