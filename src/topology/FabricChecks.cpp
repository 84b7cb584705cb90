#include "trainsim/topology/FabricChecks.hpp"

#include <boost/graph/push_relabel_max_flow.hpp>
#include <cmath>
#include <deque>

#include "trainsim/core/Errors.hpp"

namespace trainsim::topology {

void check_ports(const Graph& g)
{
  for (auto v : boost::make_iterator_range(boost::vertices(g))) {
    const auto& p = g[v];
    if (p.radix <= 0)
      continue;
    long used = 0;
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g)))
      used += g[e].cables;
    const long have = static_cast<long>(p.radix) * p.switches;
    if (used > have)
      throw core::ConfigError("/cluster/fabric/switch_radix",
                              std::string(to_string(p.kind)) + " " + std::to_string(p.index) + " (tier " +
                                  std::to_string(p.tier) + ") needs " + std::to_string(used) + " ports but " +
                                  std::to_string(p.switches) + " switch(es) of radix " + std::to_string(p.radix) +
                                  " have " + std::to_string(have) + "; raise switch_radix");
  }
}

double bisection_max_flow(const Graph& g, int accelerators, long max_vertices)
{
  const long n = static_cast<long>(boost::num_vertices(g));
  if (n > max_vertices)
    return -1;
  if (accelerators < 2)
    return 0;
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, long long,
                      boost::property<boost::edge_residual_capacity_t, long long,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  // Integer capacities in units of 1 kB/s keep push-relabel exact.
  constexpr double unit = 1e3;
  FlowGraph fg(static_cast<size_t>(n + 2));
  auto cap = boost::get(boost::edge_capacity, fg);
  auto rev = boost::get(boost::edge_reverse, fg);
  auto arc = [&](size_t u, size_t v, long long c) {
    auto e1 = boost::add_edge(u, v, fg).first;
    auto e2 = boost::add_edge(v, u, fg).first;
    cap[e1] = c;
    cap[e2] = 0;
    rev[e1] = e2;
    rev[e2] = e1;
  };
  for (auto e : boost::make_iterator_range(boost::edges(g))) {
    auto c = static_cast<long long>(std::llround(g[e].bandwidth / unit));
    arc(boost::source(e, g), boost::target(e, g), c);
    arc(boost::target(e, g), boost::source(e, g), c);
  }
  const size_t src = static_cast<size_t>(n), dst = static_cast<size_t>(n + 1);
  const long long inf = 1LL << 60;
  const int half = accelerators / 2;
  for (int a = 0; a < 2 * half; ++a) {
    if (a < half)
      arc(src, static_cast<size_t>(a), inf / (4LL * accelerators));
    else
      arc(static_cast<size_t>(a), dst, inf / (4LL * accelerators));
  }
  const long long flow = boost::push_relabel_max_flow(fg, src, dst);
  return static_cast<double>(flow) * unit;
}

Diameters diameters(const Fabric& f, int sources)
{
  const Graph& g = f.graph();
  const int n = f.accelerators();
  Diameters d;
  if (n < 2)
    return d;
  sources = std::max(1, std::min(sources, n));
  std::vector<int> dist(boost::num_vertices(g));
  std::vector<Hop> hops;
  std::deque<size_t> queue;
  for (int i = 0; i < sources; ++i) {
    const int s = sources == n ? i : static_cast<int>((static_cast<long long>(n - 1) * i) / std::max(1, sources - 1));
    std::fill(dist.begin(), dist.end(), -1);
    dist[static_cast<size_t>(s)] = 0;
    queue.assign(1, static_cast<size_t>(s));
    while (!queue.empty()) {
      size_t v = queue.front();
      queue.pop_front();
      for (auto w : boost::make_iterator_range(boost::adjacent_vertices(v, g)))
        if (dist[w] < 0) {
          dist[w] = dist[v] + 1;
          queue.push_back(w);
        }
    }
    for (int t = 0; t < n; ++t) {
      if (t == s)
        continue;
      hops.clear();
      f.route(s, t, hops);
      const int routed = static_cast<int>(hops.size());
      TRAINSIM_ASSERT(routed >= dist[static_cast<size_t>(t)],
                      "the route from " + std::to_string(s) + " to " + std::to_string(t) + " has " +
                          std::to_string(routed) + " links, fewer than the " +
                          std::to_string(dist[static_cast<size_t>(t)]) + " edges of the shortest path in the graph");
      d.routed = std::max(d.routed, routed);
      d.graph = std::max(d.graph, dist[static_cast<size_t>(t)]);
    }
  }
  return d;
}

} // namespace trainsim::topology
