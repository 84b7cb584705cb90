#include <cstdio>
#include <string>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include "FabricZone.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/platform/Platform.hpp"

namespace trainsim::platform {

namespace sg4 = simgrid::s4u;

void apply_network_model(const nlohmann::json& options)
{
  for (const auto& [key, value] : options.items()) {
    std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    sg4::Engine::set_config(key + ":" + v);
  }
}

std::vector<char> routable_links(const topology::Fabric& fabric, const std::vector<char>& used)
{
  using topology::VertexKind;
  const auto& g = fabric.graph();
  std::vector<char> links(fabric.links().size(), 0), seen(boost::num_vertices(g), 0);
  std::vector<size_t> stack;
  // An accelerator's own links (its scale-up port, its NICs), then upwards: from a switch, the links to
  // switches of its tier or above. A link down to an accelerator is that accelerator's own link.
  for (size_t a = 0; a < used.size() && a < seen.size(); ++a) {
    if (!used[a])
      continue;
    for (auto e : boost::make_iterator_range(boost::out_edges(a, g))) {
      links[static_cast<size_t>(g[e].link)] = 1;
      const size_t w = boost::target(e, g);
      if (g[w].kind != VertexKind::accelerator && !seen[w]) {
        seen[w] = 1;
        stack.push_back(w);
      }
    }
  }
  while (!stack.empty()) {
    const size_t v = stack.back();
    stack.pop_back();
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g))) {
      const size_t w = boost::target(e, g);
      if (g[w].kind == VertexKind::accelerator || g[w].tier < g[v].tier)
        continue;
      links[static_cast<size_t>(g[e].link)] = 1;
      if (!seen[w]) {
        seen[w] = 1;
        stack.push_back(w);
      }
    }
  }
  return links;
}

std::unique_ptr<Platform> Platform::build(const topology::Fabric& fabric, const scenario::Scenario& s,
                                          const std::vector<std::pair<int, double>>& link_scale,
                                          const std::vector<char>* used)
{
  std::unique_ptr<Platform> p(new Platform(fabric));
  auto* root = sg4::create_full_zone("cluster");
  auto* zone = new FabricZone("fabric", fabric); // owned by SimGrid once parented
  zone->set_parent(root->get_impl());
  p->hosts_.assign(static_cast<size_t>(fabric.accelerators()), nullptr);
  for (int a = 0; a < fabric.accelerators(); ++a) {
    if (used != nullptr && !(*used)[static_cast<size_t>(a)])
      continue;
    // Mixed pools: a host is its node's pool's accelerator (the cluster's without pools).
    const int node = a / std::max(1, s.cluster.accelerators_per_node);
    const auto& acc = s.cluster.mixed() && node < s.cluster.nodes
                          ? s.cluster.pools[static_cast<size_t>(s.cluster.pool_of_node(node))].accelerator
                          : s.cluster.accelerator;
    char watts[96];
    std::snprintf(watts, sizeof watts, "%.6f:%.6f", acc.idle_power_w, acc.peak_power_w);
    sg4::Host* h = zone->create_host("acc" + std::to_string(a), {acc.peak(s.training.precision)});
    h->set_property("wattage_per_state", watts);
    h->set_property("wattage_off", "0");
    zone->add_accelerator_host(h, a);
    p->hosts_[static_cast<size_t>(a)] = h;
    ++p->built_;
  }
  std::vector<double> scale(fabric.links().size(), 1.0);
  for (const auto& [l, f] : link_scale)
    scale[static_cast<size_t>(l)] = f;
  const std::vector<char> built = used != nullptr ? routable_links(fabric, *used) : std::vector<char>();
  for (size_t index = 0; index < fabric.links().size(); ++index) {
    if (!built.empty() && !built[index])
      continue;
    const auto& l = fabric.links()[index];
    auto* link = zone->create_split_duplex_link(l.name, {l.bandwidth * scale[index]});
    link->set_latency(l.latency);
    zone->add_link(link, index);
    ++p->built_links_;
  }
  zone->seal();
  root->seal();
  return p;
}

Platform::~Platform() = default;

sg4::Host* Platform::missing(int accelerator)
{
  throw core::InternalError("accelerator " + std::to_string(accelerator) +
                            " is used by the simulation but was left out of the platform");
}

double Platform::route_latency(int src, int dst) const
{
  std::vector<topology::Hop> hops;
  fabric_.route(src, dst, hops);
  double lat = 0;
  for (const auto& h : hops)
    lat += fabric_.links()[static_cast<size_t>(h.link)].latency;
  return lat;
}

} // namespace trainsim::platform
