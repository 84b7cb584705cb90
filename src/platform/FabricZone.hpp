#pragma once
#include <vector>

#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u/Link.hpp>

#include "trainsim/topology/Fabric.hpp"

namespace trainsim::platform {

/// A flat SimGrid zone whose routes come from the topology on demand: building is linear in the number
/// of links, and no route table is stored (SimGrid's own fat-tree zone cannot express rails and nests
/// node zones in quadratic time).
class FabricZone final : public simgrid::kernel::routing::NetZoneImpl {
public:
  FabricZone(const std::string& name, const topology::Fabric& fabric);
  void add_accelerator_host(simgrid::s4u::Host* h, int accelerator);
  /// The SimGrid link of fabric link `index`; links left unbuilt (Platform::build's `used`) stay null.
  void add_link(simgrid::s4u::Link* l, size_t index)
  {
    if (links_.size() <= index)
      links_.resize(index + 1, nullptr);
    links_[index] = l;
  }

  void get_local_route(const simgrid::kernel::routing::NetPoint* src, const simgrid::kernel::routing::NetPoint* dst,
                       simgrid::kernel::routing::Route* into, double* latency) override;

private:
  const topology::Fabric& fabric_;
  std::vector<simgrid::s4u::Link*> links_;
  std::vector<int> accelerator_of_netpoint_;
  std::vector<topology::Hop> scratch_;
  std::vector<simgrid::s4u::LinkInRoute> in_route_;
};

} // namespace trainsim::platform
