#pragma once
#include <map>
#include <utility>
#include <vector>

#include "trainsim/topology/Fabric.hpp"
#include "trainsim/topology/Placement.hpp"

namespace trainsim::topology {

/// Balls into bins: k flows hashed independently and uniformly onto n equal paths (ECMP).
/// P(max load <= m), exact (a sequential binomial recursion over the bins) where n * k * (m + 1) is at most
/// 10^6, else the Poisson approximation (bin loads independent Poisson of mean k/n).
double prob_max_load_at_most(int k, int n, int m);
/// The expected maximum over `sets` independent hashings of the max load of k flows on n paths:
/// sum over m >= 0 of 1 - P(max load <= m)^sets. With sets = 1, E[max load].
double expected_max_load(int k, int n, int sets = 1);
/// E[max(M_sets, t)]: the same expected maximum, floored at t (a cable that carries t flows at full rate):
/// t + sum over m >= t of 1 - P(max load <= m)^sets.
double expected_max_load_above(int k, int n, int t, int sets = 1);

/// The capacity share of an ECMP trunk of n cables carrying k concurrent flows: the slowest flow gets one
/// cable's capacity divided by the max load, so the trunk behaves as k / (n E[M]) of its even-split capacity
/// (1 when n <= 1, k == 0 or E[M] = 1: one flow alone on a cable is bound by its NIC, not the trunk).
/// `sets` as in expected_max_load.
/// General form: each of the k connections is q hashed sub-flows (`qps_per_connection`, each carrying 1/q of
/// its bytes at rate c / q) and each cable carries w NIC flows (`uplink_bandwidth`); k q balls go into n bins,
/// a cable of M sub-flows gives each c min(1, q w / M) / q, the slowest connection runs at c q w / M_max, and
/// the share is k q / (n E[max(M, q w)]) (1 when E[max(M, q w)] = q w: nothing waits). q = w = 1: k / (n E[M]).
double ecmp_trunk_share(int k, int n, int sets = 1, int q = 1, int w = 1);

/// The ECMP derating of a fabric's hashed trunks (`/cluster/fabric/load_balance: ecmp`, Clos leaf and pod
/// uplinks with more than one cable per plane) for the data-parallel ring flows of `placement`: for each
/// trunk, k is the largest number of one stage's ring flows (every rail) crossing it in one direction, n its
/// cables per plane (Fabric::trunk_cable_width NIC flows each), q Fabric::flows_per_connection, and the sets the number
/// of trunk directions one stage's rings cross (the ring waits for its slowest flow). Returns (link, share) for every
/// derated link, share < 1; empty for spray. A pure function of the fabric and the placement, so full and reduced
/// fidelity use the same capacities. `slowest`, when given, receives the smallest rate of a hashed ring flow relative
/// to spraying (where a flow gets min(1, n w / k) cables): q w / (E[max(M, q w)] min(1, n w / k)); 1 when nothing is
/// derated.
std::vector<std::pair<int, double>> ecmp_link_scale(const Fabric& fabric, const Placement& placement,
                                                    double* slowest = nullptr);

/// Hashed trunk directions of one traffic pattern, grouped by (flows k, cables n): how many directions have each.
using TrunkClasses = std::map<std::pair<int, int>, int>;

/// E[max(M, t)] for the largest load M over independent trunk directions of different (k, n) (balls k q into
/// n bins each): t' + sum over m >= t' of 1 - prod_classes P(M <= m)^count, t' = max(t, max ceil(k q / n)).
double expected_max_load_classes(const TrunkClasses& classes, int q, int t);

/// The time factor f >= 1 of the pipeline transfers from stage `from` to stage `to` on hashed trunks: every
/// (tensor rank, replica) sends at once (the replicas run the same schedule), each connection q hashed QPs,
/// each cable w NIC flows; a connection's hash is fixed for the job, so the step waits for the slowest
/// connection of the boundary: f = E[max(M, q w)] / (q w) over every trunk direction these flows cross
/// (1: no hashed trunk, or no cable ever holds more than q w). A pure function of the fabric and placement.
double ecmp_p2p_slowdown(const Fabric& fabric, const Placement& placement, int from, int to);

} // namespace trainsim::topology
