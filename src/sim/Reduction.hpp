#pragma once
#include <string>
#include <vector>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/topology/Placement.hpp"

namespace trainsim::sim {

/// What one simulation runs in detail and what it takes from symmetry (no SimGrid here).
struct ReductionPlan {
  bool full = false;         ///< every data-parallel replica and every tensor-parallel rank simulated
  std::vector<int> replicas; ///< data-parallel indices whose pipeline stages run as actors
  std::vector<int> rails;    ///< tensor-parallel indices whose data-parallel rings run on the fabric
  bool rails_symmetric = false;
  std::string rail_note; ///< why every rail is simulated (empty when one rail stands for all)
  /// Links that every rail's rings share equally, with the fraction of their capacity one sampled rail
  /// gets (1/tp): by symmetry the max-min fair share of each rail on such a link is exactly that.
  /// Also the ECMP derating of hashed trunks (topology::ecmp_link_scale), multiplied in.
  std::vector<std::pair<int, double>> link_scale;
  /// The slowest hashed ring flow's rate relative to spraying (topology::ecmp_link_scale; 1: no loss).
  double ecmp_min_share = 1.0;
  /// Pipeline transfers on hashed trunks (topology::ecmp_p2p_slowdown): per stage s, the rate cap (bytes/s,
  /// the NIC rate / f; 0: none) of its sends to stage s + 1 (next) and s - 1 (prev), modulo pp. The same in
  /// full and reduced fidelity: a cap per flow needs no other replica's flows on the links.
  std::vector<double> p2p_cap_next, p2p_cap_prev;
  /// The slowest pipeline transfer's rate relative to its NIC rate, 1 / max f (1: no loss).
  double ecmp_p2p_share = 1.0;
  /// The cap of a send from stage `from` to stage `to` (0: none).
  double p2p_cap(int from, int to) const
  {
    const int pp = static_cast<int>(p2p_cap_next.size());
    if (pp < 2)
      return 0.0;
    if (to == (from + 1) % pp)
      return p2p_cap_next[static_cast<size_t>(from)];
    if (to == (from + pp - 1) % pp)
      return p2p_cap_prev[static_cast<size_t>(from)];
    return 0.0;
  }
  /// keep[stage][rail index][i]: issue ring flow i -> i+1 of that ring (reduced: see ring_flows_to_keep;
  /// full: every flow). Empty when there are no data-parallel rings.
  std::vector<std::vector<std::vector<char>>> keep;
  /// The same for the expert-data-parallel rings (expert_ring_flows_to_keep); empty: issue every flow.
  std::vector<std::vector<std::vector<char>>> expert_keep;
};

/// Rail symmetry of the data-parallel rings: the rings of different tensor-parallel ranks (one per
/// NIC "rail") are interchangeable when every link carries the ring flows of exactly one rail, or of
/// every rail in equal numbers (a shared spine trunk), and every rail sees the same multiset of
/// (link bandwidth, flows on that link) on its own links. Then one rail, with the shared links' capacity
/// divided among the rails (listed in `shared`), gives every rail's timing; otherwise (links shared by
/// some rails only, or unequally; rails of different capacity, e.g. a degraded link) every rail must be
/// simulated. `note` says which link breaks the symmetry.
bool rails_symmetric(const topology::Fabric& fabric, const topology::Placement& placement, std::string& note,
                     std::vector<std::pair<int, double>>* shared = nullptr);

/// Ring flows (member i to member i+1 of a data-parallel ring) that a reduced simulation can leave out:
/// a flow whose every directed link carries no other simulated traffic (other ring flows, the
/// representative replica's pipeline and tensor-parallel transfers) runs alone at its route's
/// bottleneck and ends exactly when every other such flow with the same route profile (bandwidth and
/// latency per hop) does, so one flow per profile stands for all of them: the collective's phase ends
/// at the same time. Returns, for every stage and sampled rail, which ring flows to issue.
std::vector<std::vector<std::vector<char>>> ring_flows_to_keep(const topology::Fabric& fabric,
                                                               const topology::Placement& placement,
                                                               const std::vector<int>& rails,
                                                               const std::vector<std::pair<int, double>>& link_scale);

/// The same for the expert-data-parallel rings of a MoE model (members dp/ep apart: ring e of rail t holds
/// data-parallel indices e, e + ep, ...): for every stage, [rail index x ep + e][k]. A flow is free only
/// where no other simulated flow can share its links: every expert ring of every stage, the dense rings of
/// the other stages (a stage's own dense and expert rings run one after the other on its data-parallel
/// stream), the representative's tensor-parallel, pipeline and expert-parallel all-to-all transfers.
std::vector<std::vector<std::vector<char>>>
expert_ring_flows_to_keep(const topology::Fabric& fabric, const topology::Placement& placement,
                          const std::vector<int>& rails, const std::vector<std::pair<int, double>>& link_scale, int ep);

/// The accelerators a simulation with `plan` touches (actors, flows): every member of the data-parallel
/// groups of the simulated rails, and every rank of the simulated replicas that runs or receives transfers
/// (in reduced fidelity tensor ranks 0 and 1; in full, all). The platform builds hosts for these alone.
std::vector<char> used_accelerators(const topology::Placement& placement, const ReductionPlan& plan);

/// Chooses the detail of a simulation: `full` simulates every replica and rank; `reduced` one replica and,
/// where rails are symmetric, one rail.
ReductionPlan plan_reduction(const topology::Fabric& fabric, const topology::Placement& placement, bool full);

} // namespace trainsim::sim
