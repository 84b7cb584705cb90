#pragma once
#include <ostream>
#include <string>

#include "trainsim/topology/Fabric.hpp"

namespace trainsim::topology {

/// Graphviz text of the fabric graph. Above `max_vertices` vertices only the fabric switches are drawn;
/// if even those are too many, throws a UsageError suggesting a smaller scenario.
std::string to_dot(const Fabric& f, long max_vertices = 5000);

struct XmlHost {
  double speed = 1e12;           ///< FLOP/s
  std::string wattage_per_state; ///< "idle:peak" (empty: no power properties)
};
/// A SimGrid platform (XML, version 4.1) of the fabric: one Dijkstra zone whose routes are the graph's
/// edges (linear size, no per-pair routes); see the comment it writes for how routes match Fabric::route.
void write_platform_xml(const Fabric& f, const XmlHost& host, std::ostream& out);

} // namespace trainsim::topology
