#include "FabricZone.hpp"

#include <string>

#include <simgrid/s4u/Host.hpp>

#include "trainsim/core/Errors.hpp"

namespace trainsim::platform {

namespace sg4 = simgrid::s4u;

FabricZone::FabricZone(const std::string& name, const topology::Fabric& fabric)
    : simgrid::kernel::routing::NetZoneImpl(name), fabric_(fabric)
{
}

void FabricZone::add_accelerator_host(sg4::Host* h, int accelerator)
{
  auto id = h->get_netpoint()->id();
  if (accelerator_of_netpoint_.size() <= id)
    accelerator_of_netpoint_.resize(id + 1, -1);
  accelerator_of_netpoint_[id] = accelerator;
}

void FabricZone::get_local_route(const simgrid::kernel::routing::NetPoint* src,
                                 const simgrid::kernel::routing::NetPoint* dst, simgrid::kernel::routing::Route* into,
                                 double* latency)
{
  int a = accelerator_of_netpoint_.at(src->id());
  int b = accelerator_of_netpoint_.at(dst->id());
  if (a == b)
    return;
  scratch_.clear();
  fabric_.route(a, b, scratch_);
  in_route_.clear();
  for (const auto& hop : scratch_) {
    auto* link = static_cast<size_t>(hop.link) < links_.size() ? links_[static_cast<size_t>(hop.link)] : nullptr;
    TRAINSIM_ASSERT(link != nullptr, // Platform::build's routable_links missed a link this route needs
                    "the route from accelerator " + std::to_string(a) + " to " + std::to_string(b) +
                        " uses fabric link " + fabric_.links()[static_cast<size_t>(hop.link)].name +
                        ", which the platform did not build");
    in_route_.emplace_back(link, hop.up ? sg4::LinkInRoute::Direction::UP : sg4::LinkInRoute::Direction::DOWN);
  }
  auto impl = get_link_list_impl(in_route_, false);
  into->link_list_.insert(into->link_list_.end(), impl.begin(), impl.end());
  if (latency)
    for (const auto& l : in_route_)
      *latency += l.get_link()->get_latency();
}

} // namespace trainsim::platform
