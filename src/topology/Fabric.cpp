#include "trainsim/topology/Fabric.hpp"

#include <algorithm>
#include <boost/graph/connected_components.hpp>

#include "trainsim/core/Errors.hpp"
#include "trainsim/topology/FabricChecks.hpp"
#include "trainsim/topology/FabricModel.hpp"

namespace trainsim::topology {

using core::ConfigError;

namespace {
/// Above this many graph vertices the max-flow check is skipped (the structural value stands).
constexpr long max_flow_vertices = 400'000;
} // namespace

const char* to_string(LinkKind k)
{
  switch (k) {
  case LinkKind::scale_up:
    return "scale_up";
  case LinkKind::nic:
    return "nic";
  case LinkKind::leaf_uplink:
    return "leaf_uplink";
  case LinkKind::pod_uplink:
    return "pod_uplink";
  case LinkKind::local:
    return "local";
  case LinkKind::global:
    return "global";
  case LinkKind::torus:
    return "torus";
  }
  return "?";
}

const char* to_string(VertexKind k)
{
  switch (k) {
  case VertexKind::accelerator:
    return "accelerator";
  case VertexKind::scale_up_switch:
    return "scale_up_switch";
  case VertexKind::leaf:
    return "leaf";
  case VertexKind::spine:
    return "spine";
  case VertexKind::core:
    return "core";
  case VertexKind::router:
    return "router";
  }
  return "?";
}

int Fabric::add_link(LinkSpec l)
{
  links_.push_back(std::move(l));
  return static_cast<int>(links_.size()) - 1;
}

int Fabric::add_vertex(VertexProps v)
{
  return static_cast<int>(boost::add_vertex(v, graph_));
}

void Fabric::add_edge(int a, int b, int link, double bandwidth, int cables)
{
  boost::add_edge(static_cast<size_t>(a), static_cast<size_t>(b), EdgeProps{link, bandwidth, cables}, graph_);
}

int add_scale_up(const scenario::Cluster& c, Fabric& f, int acc_base)
{
  if (c.accelerators_per_node <= 1)
    return -1;
  const int n = static_cast<int>(c.total_accelerators());
  int base = -1;
  for (int a = 0; a < n; ++a) {
    const auto& su = c.scale_up_of_node(a / c.accelerators_per_node); // mixed pools: the node's pool's
    int id = f.add_link({"su" + std::to_string(a), su.bandwidth, su.latency, LinkKind::scale_up});
    if (a == 0)
      base = id;
  }
  for (int node = 0; node < c.nodes; ++node) {
    int v = f.add_vertex({VertexKind::scale_up_switch, node, 0, 0, 1, 0});
    for (int k = 0; k < c.accelerators_per_node; ++k) {
      int a = node * c.accelerators_per_node + k;
      f.add_edge(acc_base + a, v, base + a, c.scale_up_of_node(node).bandwidth);
    }
  }
  return base;
}

Fabric Fabric::build(const scenario::Cluster& c)
{
  const FabricModel& model = fabric_model(c.fabric.type);
  if (c.total_accelerators() > 4'000'000)
    throw ConfigError("/cluster/nodes",
                      std::to_string(c.total_accelerators()) +
                          " accelerators is beyond what the fabric model builds (at most 4000000); use fewer nodes");
  for (const auto& key : c.fabric.given)
    if (std::find(model.common.begin(), model.common.end(), key) == model.common.end())
      throw ConfigError("/cluster/fabric/" + key, "is not a parameter of the " + model.name + " model; remove it (" +
                                                      model.name +
                                                      " takes the keys listed by `trainsim topo --models`)");
  Fabric f;
  f.per_node_ = c.accelerators_per_node;
  f.nodes_ = c.nodes;
  f.accelerators_ = static_cast<int>(c.total_accelerators());
  f.links_.reserve(static_cast<size_t>(3 * f.accelerators_));
  for (int a = 0; a < f.accelerators_; ++a)
    f.add_vertex({VertexKind::accelerator, a, 0, 0, 1, 0});
  Params params(model, c.fabric);
  model.build(c, params, f);
  params.finish();
  f.summary_.model = model.name;
  f.check_and_summarise(c);
  return f;
}

void Fabric::check_and_summarise(const scenario::Cluster& c)
{
  std::vector<int> component(boost::num_vertices(graph_));
  int count = boost::connected_components(graph_, component.data());
  TRAINSIM_ASSERT(count == 1, "generated " + summary_.model + " fabric is not connected (" + std::to_string(count) +
                                  " components)");
  check_ports(graph_);
  auto& s = summary_;
  s.accelerators = accelerators_;
  s.nodes = nodes_;
  s.links = static_cast<long>(links_.size());
  s.switches_by_tier.assign(4, 0);
  for (auto v : boost::make_iterator_range(boost::vertices(graph_))) {
    const auto& p = graph_[v];
    if (p.kind == VertexKind::accelerator)
      continue;
    s.switches_by_tier[static_cast<size_t>(std::clamp(p.tier, 0, 3))] += p.switches;
  }
  s.leaves = s.switches_by_tier[1];
  if (s.pods == 0)
    s.pods = 1;
  s.bisection_structural_per_accelerator = structural_bisection_;
  s.bisection_bandwidth_per_accelerator = structural_bisection_;
  s.bisection_method = "structural";
}

FabricSummary Fabric::summary() const
{
  std::call_once(analysis_->once, [this] {
    auto s = summary_;
    const double flow = bisection_max_flow(graph_, accelerators_, max_flow_vertices);
    if (flow >= 0) {
      s.bisection_max_flow_per_accelerator = accelerators_ > 1 ? flow / (accelerators_ / 2) : 0;
      if (s.bisection_max_flow_per_accelerator < structural_bisection_ * (1 - 1e-9)) {
        s.bisection_bandwidth_per_accelerator = s.bisection_max_flow_per_accelerator;
        s.bisection_method = "max-flow";
      }
    }
    auto d = diameters(*this, accelerators_ <= 512 ? accelerators_ : 16);
    s.diameter_hops = d.routed;
    s.graph_diameter_hops = d.graph;
    s.diameter_method = accelerators_ <= 512 ? "exact" : "sampled";
    TRAINSIM_ASSERT(d.graph <= d.routed,
                    "a route is shorter than the shortest path in the " + summary_.model + " graph");
    analysis_->summary = std::move(s);
  });
  return analysis_->summary;
}

} // namespace trainsim::topology
