// ECMP hash collisions as balls into bins (docs/fabrics.md#load-balancing-ecmp-and-spraying).
#include "trainsim/topology/Ecmp.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace trainsim::topology {

namespace {

/// Above this many inner steps (n * k * (m + 1)) the exact recursion gives way to the Poisson approximation.
constexpr double exact_work_limit = 1e6;

double poisson_cdf(double lambda, int m)
{
  // sum_{j <= m} e^-lambda lambda^j / j!, terms in log space (lambda up to thousands).
  double sum = 0;
  for (int j = 0; j <= m; ++j)
    sum += std::exp(-lambda + j * std::log(lambda) - std::lgamma(j + 1.0));
  return std::min(1.0, sum);
}

} // namespace

double prob_max_load_at_most(int k, int n, int m)
{
  if (k <= 0 || m >= k)
    return 1.0;
  if (n <= 0 || static_cast<long long>(m) * n < k)
    return 0.0;
  if (static_cast<double>(n) * k * (m + 1) > exact_work_limit)
    return std::pow(poisson_cdf(static_cast<double>(k) / n, m), n);
  // Bins filled one after another: with r flows left and b bins left, the next bin takes Binomial(r, 1/b).
  // q[r]: probability that r flows are left and every bin so far holds at most m.
  std::vector<double> lf(static_cast<size_t>(k) + 1, 0.0);
  for (int i = 1; i <= k; ++i)
    lf[static_cast<size_t>(i)] = lf[static_cast<size_t>(i - 1)] + std::log(static_cast<double>(i));
  std::vector<double> q(static_cast<size_t>(k) + 1, 0.0), next(q.size());
  q[static_cast<size_t>(k)] = 1.0;
  for (int b = n; b > 1; --b) {
    const double lp = -std::log(static_cast<double>(b)), lq = std::log1p(-1.0 / b);
    std::fill(next.begin(), next.end(), 0.0);
    for (int r = 0; r <= k; ++r) {
      const double w = q[static_cast<size_t>(r)];
      if (w < 1e-300)
        continue;
      for (int c = 0; c <= std::min(m, r); ++c)
        next[static_cast<size_t>(r - c)] += w * std::exp(lf[static_cast<size_t>(r)] - lf[static_cast<size_t>(c)] -
                                                         lf[static_cast<size_t>(r - c)] + c * lp + (r - c) * lq);
    }
    q.swap(next);
  }
  double p = 0; // the last bin takes what is left
  for (int r = 0; r <= m; ++r)
    p += q[static_cast<size_t>(r)];
  return std::min(1.0, p);
}

double expected_max_load(int k, int n, int sets)
{
  return expected_max_load_above(k, n, 0, sets);
}

double expected_max_load_above(int k, int n, int t, int sets)
{
  if (k <= 0)
    return std::max(0, t);
  if (n <= 1)
    return std::max(k, t);
  // E[max(X, a)] = a + sum_{m >= a} P(X > m) for an integer a; P(M > m) = 1 below ceil(k / n).
  const int m0 = std::max(t, (k + n - 1) / n);
  double e = m0;
  for (int m = m0; m < k; ++m) {
    const double p = prob_max_load_at_most(k, n, m);
    const double term = p <= 0 ? 1.0 : 1.0 - std::exp(sets * std::log(p));
    e += term;
    if (term < 1e-12)
      break;
  }
  return e;
}

double ecmp_trunk_share(int k, int n, int sets, int q, int w)
{
  if (k <= 0 || n <= 1)
    return 1.0;
  q = std::max(1, q);
  w = std::max(1, w);
  // k q sub-flows on n cables; a cable carries q w of them at their NIC-bound rate c / q.
  const int t = q * w;
  const double e = expected_max_load_above(k * q, n, t, sets);
  return e <= t ? 1.0 : std::min(1.0, static_cast<double>(k) * q / (n * e));
}

std::vector<std::pair<int, double>> ecmp_link_scale(const Fabric& fabric, const Placement& pl, double* slowest)
{
  std::vector<std::pair<int, double>> out;
  if (slowest)
    *slowest = 1.0;
  if (!fabric.hashed_trunks() || pl.dp() < 2)
    return out;
  const auto& links = fabric.links();
  const int w = fabric.trunk_cable_width(), q = fabric.flows_per_connection();
  const double cable = fabric.nic_bandwidth() * w; // one switch-to-switch cable per plane, all planes
  auto cables = [&](int l) {
    return static_cast<int>(std::ceil(links[static_cast<size_t>(l)].bandwidth / cable - 1e-9));
  };
  auto hashed = [&](int l) {
    const auto kind = links[static_cast<size_t>(l)].kind;
    return (kind == LinkKind::leaf_uplink || kind == LinkKind::pod_uplink) && cables(l) >= 2;
  };
  std::vector<int> k(links.size() * 2, 0); // largest per-stage flow count, per link and direction
  std::vector<int> stage(links.size() * 2, 0);
  int sets = 0;
  std::vector<int> touched;
  std::vector<Hop> hops;
  for (int s = 0; s < pl.pp(); ++s) {
    touched.clear();
    for (int t = 0; t < pl.tp(); ++t)
      for (int d = 0; d < pl.dp(); ++d) {
        hops.clear();
        fabric.route(pl.accelerator({t, d, s}), pl.accelerator({t, (d + 1) % pl.dp(), s}), hops);
        for (const auto& h : hops)
          if (hashed(h.link)) {
            const size_t i = static_cast<size_t>(h.link) * 2 + (h.up ? 0 : 1);
            if (stage[i]++ == 0)
              touched.push_back(static_cast<int>(i));
          }
      }
    sets = std::max(sets, static_cast<int>(touched.size()));
    for (int i : touched) {
      k[static_cast<size_t>(i)] = std::max(k[static_cast<size_t>(i)], stage[static_cast<size_t>(i)]);
      stage[static_cast<size_t>(i)] = 0;
    }
  }
  std::map<std::pair<int, int>, double> memo; // (k, n) -> share; few distinct classes
  for (size_t l = 0; l < links.size(); ++l) {
    const int flows = std::max(k[2 * l], k[2 * l + 1]);
    if (flows == 0)
      continue;
    const int n = cables(static_cast<int>(l));
    auto it = memo.find({flows, n});
    if (it == memo.end())
      it = memo.emplace(std::make_pair(flows, n), ecmp_trunk_share(flows, n, sets, q, w)).first;
    if (it->second < 1.0) {
      out.emplace_back(static_cast<int>(l), it->second);
      if (slowest) { // the flow's rate c q w / E[max(M, q w)] against spraying's c min(1, n w / k)
        const double capacity = static_cast<double>(n) * w; // in NIC flows
        *slowest = std::min(*slowest, it->second * capacity / flows / std::min(1.0, capacity / flows));
      }
    }
  }
  return out;
}

double expected_max_load_classes(const TrunkClasses& classes, int q, int t)
{
  q = std::max(1, q);
  int m0 = std::max(0, t), top = m0;
  for (const auto& [kn, count] : classes) {
    const int balls = kn.first * q, n = std::max(1, kn.second);
    m0 = std::max(m0, (balls + n - 1) / n);
    top = std::max(top, balls);
  }
  double e = m0;
  for (int m = m0; m < top; ++m) {
    double log_p = 0; // log P(every direction holds at most m)
    for (const auto& [kn, count] : classes) {
      const double p = prob_max_load_at_most(kn.first * q, std::max(1, kn.second), m);
      log_p += p <= 0 ? -1e300 : count * std::log(p);
    }
    const double term = 1.0 - std::exp(std::max(-700.0, log_p));
    e += term;
    if (term < 1e-12)
      break;
  }
  return e;
}

double ecmp_p2p_slowdown(const Fabric& fabric, const Placement& pl, int from, int to)
{
  if (!fabric.hashed_trunks() || from == to)
    return 1.0;
  const auto& links = fabric.links();
  const int w = fabric.trunk_cable_width(), q = fabric.flows_per_connection();
  const double cable = fabric.nic_bandwidth() * w;
  std::map<int, int> flows; // link * 2 + direction -> pipeline flows of this boundary
  // A flow comes down (spine to leaf, core to spine) on the cable its hash picked on the way up at the same
  // tier, so a down direction fed by one up direction holds at most that one's load on every cable (and an up
  // direction feeding one down direction at most the latter's): the dominated one adds nothing to the max.
  std::map<int, std::set<int>> feeds, fed_by; // up direction -> down directions of its flows, and back
  std::vector<Hop> hops;
  for (int t = 0; t < pl.tp(); ++t)
    for (int d = 0; d < pl.dp(); ++d) {
      hops.clear();
      fabric.route(pl.accelerator({t, d, from}), pl.accelerator({t, d, to}), hops);
      std::map<LinkKind, int> up; // this flow's up direction per tier
      for (const auto& h : hops) {
        const auto kind = links[static_cast<size_t>(h.link)].kind;
        if (kind != LinkKind::leaf_uplink && kind != LinkKind::pod_uplink)
          continue;
        const int i = h.link * 2 + (h.up ? 0 : 1);
        ++flows[i];
        if (h.up) {
          up[kind] = i;
        } else if (up.count(kind)) {
          feeds[up[kind]].insert(i);
          fed_by[i].insert(up[kind]);
        }
      }
    }
  std::set<int> dominated;
  for (const auto& [down, ups] : fed_by)
    if (ups.size() == 1)
      dominated.insert(down);
  for (const auto& [upd, downs] : feeds)
    if (downs.size() == 1 && !dominated.count(*downs.begin()))
      dominated.insert(upd);
  TrunkClasses classes;
  for (const auto& [i, k] : flows) {
    const int n = static_cast<int>(std::ceil(links[static_cast<size_t>(i / 2)].bandwidth / cable - 1e-9));
    if (n >= 2 && !dominated.count(i))
      ++classes[{k, n}];
  }
  if (classes.empty())
    return 1.0;
  const int t = q * w;
  return std::max(1.0, expected_max_load_classes(classes, q, t) / t);
}

} // namespace trainsim::topology
