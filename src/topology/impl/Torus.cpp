// 2D/3D torus of node routers (TPU / Blue Gene style): each node's router links to its two neighbours in
// every dimension (wrap-around); dimension-order routing, the shorter way round each ring.
#include <algorithm>

#include "trainsim/core/Errors.hpp"
#include "trainsim/topology/FabricModel.hpp"

namespace trainsim::topology {

using core::ConfigError;

namespace {

struct TorusLayout {
  int per_node = 1;
  std::vector<int> dims;
  int su_base = -1, nic_base = 0, torus_base = 0;
  int stride(size_t d) const
  {
    int s = 1;
    for (size_t i = 0; i < d; ++i)
      s *= dims[i];
    return s;
  }
  /// The link from `node` to its + neighbour in dimension d.
  int plus_link(int node, size_t d) const
  {
    return torus_base + node * static_cast<int>(dims.size()) + static_cast<int>(d);
  }
};

class TorusRouter final : public Router {
public:
  explicit TorusRouter(TorusLayout l) : l_(std::move(l)) {}
  int leaf_of(int a) const override { return a / l_.per_node; }
  void route(int src, int dst, std::vector<Hop>& out) const override
  {
    if (l_.su_base >= 0 && src / l_.per_node == dst / l_.per_node) {
      out.push_back({l_.su_base + src, true});
      out.push_back({l_.su_base + dst, false});
      return;
    }
    out.push_back({l_.nic_base + src, true});
    int node = src / l_.per_node;
    const int target = dst / l_.per_node;
    for (size_t d = 0; d < l_.dims.size(); ++d) {
      const int k = l_.dims[d], st = l_.stride(d);
      const int x = (node / st) % k, y = (target / st) % k;
      const int delta = ((y - x) % k + k) % k;
      if (delta == 0)
        continue;
      const bool forward = 2 * delta <= k;
      for (int step = 0, n = forward ? delta : k - delta; step < n; ++step) {
        const int cx = (node / st) % k;
        if (forward) {
          out.push_back({l_.plus_link(node, d), true});
          node += ((cx + 1) % k - cx) * st;
        } else {
          const int prev = node + (((cx - 1 + k) % k) - cx) * st;
          out.push_back({l_.plus_link(prev, d), false});
          node = prev;
        }
      }
    }
    out.push_back({l_.nic_base + dst, false});
  }

private:
  TorusLayout l_;
};

std::string str(long x)
{
  return std::to_string(x);
}

void build_torus(const scenario::Cluster& c, Params& p, Fabric& f)
{
  TorusLayout l;
  l.per_node = c.accelerators_per_node;
  auto dims = p.get_int_list("dims", 2, 3, 1, 100'000);
  long product = 1;
  for (long d : dims) {
    product *= d;
    l.dims.push_back(static_cast<int>(d));
  }
  if (product != c.nodes)
    throw ConfigError("/cluster/fabric/dims", "the torus has " + str(product) + " node positions but the cluster has " +
                                                  str(c.nodes) + " nodes; choose dims whose product is " +
                                                  str(c.nodes));
  const int radix = c.fabric.switch_radix;
  const double nic = c.fabric.nic_bandwidth, lat = c.fabric.latency;
  const double link_bw = p.get_bandwidth("link_bandwidth", nic);
  const int acc = static_cast<int>(c.total_accelerators());
  l.su_base = add_scale_up(c, f, 0);
  l.nic_base = static_cast<int>(f.links().size());
  for (int x = 0; x < acc; ++x)
    f.add_link({"nic" + str(x), nic, lat, LinkKind::nic});
  l.torus_base = static_cast<int>(f.links().size());
  for (int node = 0; node < c.nodes; ++node)
    for (size_t d = 0; d < l.dims.size(); ++d)
      f.add_link({"torus" + str(node) + "." + str(static_cast<long>(d)), link_bw, lat, LinkKind::torus});
  std::vector<int> rv(static_cast<size_t>(c.nodes));
  for (int node = 0; node < c.nodes; ++node)
    rv[static_cast<size_t>(node)] = f.add_vertex({VertexKind::router, node, 1, 0, 1, radix});
  for (int x = 0; x < acc; ++x)
    f.add_edge(x, rv[static_cast<size_t>(x / l.per_node)], l.nic_base + x, nic);
  for (int node = 0; node < c.nodes; ++node)
    for (size_t d = 0; d < l.dims.size(); ++d) {
      const int k = l.dims[d], st = l.stride(d);
      if (k < 2)
        continue;
      const int cx = (node / st) % k;
      const int next = node + ((cx + 1) % k - cx) * st;
      f.add_edge(rv[static_cast<size_t>(node)], rv[static_cast<size_t>(next)], l.plus_link(node, d), link_bw);
    }
  f.set_router(std::make_shared<TorusRouter>(l));
  // Structural bisection: cut the longest ring dimension in two; 2 links cross per ring.
  const int longest = *std::max_element(l.dims.begin(), l.dims.end());
  const double cut = longest >= 2 ? 2.0 * (static_cast<double>(c.nodes) / longest) * link_bw : 0;
  f.set_structural_bisection(acc > 1 ? std::min(nic, cut / (acc / 2)) : 0);
  std::string shape;
  for (int d : l.dims)
    shape += (shape.empty() ? "" : "x") + str(d);
  f.summary_mut().notes.push_back(shape + " torus; dimension-order routing, shorter way round each ring");
}

} // namespace

FabricModel torus_model()
{
  return {"torus",
          "2D or 3D torus of node routers with wrap-around links; dimension-order routing",
          {"switch_radix"},
          {{"dims", "int list", nullptr, "ring sizes, 2 or 3 of them; their product is the node count"},
           {"link_bandwidth", "bandwidth", "nic_bandwidth", "per torus link and direction"}},
          build_torus};
}

} // namespace trainsim::topology
