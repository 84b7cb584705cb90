#pragma once
#include "trainsim/topology/Fabric.hpp"

namespace trainsim::topology {

/// Throws a ConfigError naming /cluster/fabric/switch_radix when a switch uses more ports than it has.
void check_ports(const Graph& g);

/// Maximum flow (bytes/s, per direction) from the first half of the accelerators (vertices 0..n/2-1) to the
/// second half over the graph's edge capacities; -1 when the graph has more than `max_vertices` vertices.
double bisection_max_flow(const Graph& g, int accelerators, long max_vertices);

struct Diameters {
  int routed = 0; ///< longest route from a sampled source to any accelerator, in links
  int graph = 0;  ///< longest shortest path from a sampled source to any accelerator, in edges
};
/// Breadth-first searches from `sources` evenly spaced accelerators (all of them when it equals the count).
Diameters diameters(const Fabric& f, int sources);

} // namespace trainsim::topology
