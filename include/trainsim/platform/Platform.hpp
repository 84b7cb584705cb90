#pragma once
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/topology/Fabric.hpp"

namespace simgrid::s4u {
class Host;
class Link;
} // namespace simgrid::s4u

namespace trainsim::platform {

class FabricZone;

/// The SimGrid platform of a cluster: one host per accelerator (speed = dense peak at the training
/// precision, power states idle/peak for the host energy plugin) and one split-duplex link per fabric
/// link, routed through a custom zone that asks the topology for routes.
class Platform {
public:
  /// Must be called after the s4u::Engine exists and before the simulation runs.
  /// `link_scale` lists (link, factor) pairs whose capacity is multiplied by factor: the share of a link
  /// that a symmetry-reduced simulation gives to the part of the traffic it simulates.
  /// `used`, when given, marks the accelerators the simulation touches: only their hosts are built (a
  /// reduced simulation of 98,304 accelerators touches about one in eight), and only the links a route
  /// between two of them can take (routable_links). The fabric model (topology::Fabric) stays whole:
  /// routes and checks are computed on it.
  static std::unique_ptr<Platform> build(const topology::Fabric& fabric, const scenario::Scenario& s,
                                         const std::vector<std::pair<int, double>>& link_scale = {},
                                         const std::vector<char>* used = nullptr);
  ~Platform();

  /// The host of an accelerator; an accelerator left out of the build is an internal error (core::Error).
  simgrid::s4u::Host* host(int accelerator) const
  {
    auto* h = hosts_[static_cast<size_t>(accelerator)];
    return h != nullptr ? h : missing(accelerator);
  }
  /// Hosts built (all accelerators unless build() was given `used`).
  long built_hosts() const { return built_; }
  /// Fabric links built as SimGrid links (all unless build() was given `used`).
  long built_links() const { return built_links_; }
  /// Sum of link latencies along the route.
  double route_latency(int src, int dst) const;
  const topology::Fabric& fabric() const { return fabric_; }

private:
  explicit Platform(const topology::Fabric& f) : fabric_(f) {}
  [[noreturn]] static simgrid::s4u::Host* missing(int accelerator);
  const topology::Fabric& fabric_;
  std::vector<simgrid::s4u::Host*> hosts_;
  long built_ = 0;
  long built_links_ = 0;
};

/// The fabric links that a route between two `used` accelerators can take: each used accelerator's own
/// links, and every link reachable from its switches going up (to switches of the same tier or above).
/// Routes are up then down (valley-free) on every fabric model: a route never passes through an
/// accelerator, nor descends to a lower tier before climbing again, so its links are its source's upward
/// links and its destination's. A route outside this set is an internal error when it is first taken.
std::vector<char> routable_links(const topology::Fabric& fabric, const std::vector<char>& used);

/// Applies the calibrated network-model options (SimGrid configuration items) before the platform exists.
void apply_network_model(const nlohmann::json& options);

} // namespace trainsim::platform
