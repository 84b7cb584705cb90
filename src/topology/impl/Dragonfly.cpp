// Dragonfly (Kim et al., ISCA'08): groups of routers joined all-to-all by local links, groups joined
// all-to-all by global links; minimal routing (local, global, local).
#include <algorithm>

#include "trainsim/core/Errors.hpp"
#include "trainsim/topology/FabricModel.hpp"

namespace trainsim::topology {

using core::ConfigError;

namespace {

struct DragonflyLayout {
  int per_node = 1, nodes_per_router = 1, a = 1, g = 1, h = 1, cables = 1;
  int su_base = -1, nic_base = 0, local_base = 0, global_base = 0;
  int router_of(int acc) const { return (acc / per_node) / nodes_per_router; }
  int group_of(int router) const { return router / a; }
  /// Target index of group `j` among the other groups of group `i` (0..g-2).
  int target(int i, int j) const { return (j - i - 1 + g) % g; }
  /// Router (global index) of group i that holds the global trunk to group j: ports laid out target-major.
  int gateway(int i, int j) const { return i * a + (target(i, j) * cables) / h; }
  int local_link(int group, int x, int y) const // x < y, indices within the group
  {
    return local_base + group * (a * (a - 1) / 2) + x * (2 * a - x - 1) / 2 + (y - x - 1);
  }
  int global_link(int i, int j) const // i < j
  {
    return global_base + i * (2 * g - i - 1) / 2 + (j - i - 1);
  }
};

class DragonflyRouter final : public Router {
public:
  explicit DragonflyRouter(DragonflyLayout l) : l_(l) {}
  int leaf_of(int a) const override { return l_.router_of(a); }
  int pod_of_leaf(int leaf) const override { return l_.group_of(leaf); }
  void route(int src, int dst, std::vector<Hop>& out) const override
  {
    if (l_.su_base >= 0 && src / l_.per_node == dst / l_.per_node) {
      out.push_back({l_.su_base + src, true});
      out.push_back({l_.su_base + dst, false});
      return;
    }
    out.push_back({l_.nic_base + src, true});
    const int rs = l_.router_of(src), rd = l_.router_of(dst);
    const int gs = l_.group_of(rs), gd = l_.group_of(rd);
    if (gs == gd) {
      local(rs, rd, out);
    } else {
      const int r1 = l_.gateway(gs, gd), r2 = l_.gateway(gd, gs);
      local(rs, r1, out);
      out.push_back({l_.global_link(std::min(gs, gd), std::max(gs, gd)), gs < gd});
      local(r2, rd, out);
    }
    out.push_back({l_.nic_base + dst, false});
  }

private:
  void local(int from, int to, std::vector<Hop>& out) const
  {
    if (from == to)
      return;
    const int grp = l_.group_of(from), x = from % l_.a, y = to % l_.a;
    out.push_back({l_.local_link(grp, std::min(x, y), std::max(x, y)), x < y});
  }
  DragonflyLayout l_;
};

std::string str(long x)
{
  return std::to_string(x);
}

void build_dragonfly(const scenario::Cluster& c, Params& p, Fabric& f)
{
  DragonflyLayout l;
  l.per_node = c.accelerators_per_node;
  l.a = static_cast<int>(p.get_int("routers_per_group", 1, 1024));
  l.nodes_per_router = static_cast<int>(p.get_int("nodes_per_router", 1, 4096));
  l.h = static_cast<int>(p.get_int("global_links", 1, 4096));
  const long given_groups = p.get_int("groups", 0, 100'000);
  const long routers = (c.nodes + l.nodes_per_router - 1) / l.nodes_per_router;
  const long needed = (routers + l.a - 1) / l.a;
  l.g = static_cast<int>(given_groups == 0 ? needed : given_groups);
  if (l.g < needed)
    throw ConfigError("/cluster/fabric/groups", str(l.g) + " groups of " + str(l.a) + " routers with " +
                                                    str(l.nodes_per_router) + " nodes each hold " +
                                                    str(static_cast<long>(l.g) * l.a * l.nodes_per_router) +
                                                    " nodes, fewer than " + str(c.nodes) + "; use at least " +
                                                    str(needed) + " (or 0 to derive it)");
  const long ports = static_cast<long>(l.a) * l.h;
  if (l.g > 1 && (ports < l.g - 1 || ports % (l.g - 1) != 0))
    throw ConfigError("/cluster/fabric/global_links",
                      str(l.h) + " global links per router x " + str(l.a) + " routers = " + str(ports) +
                          " per group, which must be a positive multiple of groups - 1 = " + str(l.g - 1) +
                          " so that every pair of groups gets the same number of cables; choose " +
                          "global_links so that global_links x routers_per_group is a multiple of " + str(l.g - 1));
  l.cables = l.g > 1 ? static_cast<int>(ports / (l.g - 1)) : 0;
  if (l.cables > 1 && l.h % l.cables != 0)
    throw ConfigError("/cluster/fabric/global_links",
                      str(l.h) + " is not a multiple of the " + str(l.cables) +
                          " cables between each pair of groups; choose a multiple of it");
  const int radix = c.fabric.switch_radix;
  const double nic = c.fabric.nic_bandwidth, lat = c.fabric.latency;
  const double local_bw = p.get_bandwidth("local_bandwidth", nic);
  const double global_bw = p.get_bandwidth("global_bandwidth", nic);
  const int acc = static_cast<int>(c.total_accelerators());

  l.su_base = add_scale_up(c, f, 0);
  l.nic_base = static_cast<int>(f.links().size());
  for (int x = 0; x < acc; ++x)
    f.add_link({"nic" + str(x), nic, lat, LinkKind::nic});
  l.local_base = static_cast<int>(f.links().size());
  for (int grp = 0; grp < l.g; ++grp)
    for (int x = 0; x < l.a; ++x)
      for (int y = x + 1; y < l.a; ++y)
        f.add_link({"local" + str(grp) + "." + str(x) + "-" + str(y), local_bw, lat, LinkKind::local});
  l.global_base = static_cast<int>(f.links().size());
  for (int i = 0; i < l.g; ++i)
    for (int j = i + 1; j < l.g; ++j)
      f.add_link({"global" + str(i) + "-" + str(j), global_bw * l.cables, lat, LinkKind::global});

  const int total_routers = l.g * l.a;
  std::vector<int> rv(static_cast<size_t>(total_routers));
  for (int r = 0; r < total_routers; ++r)
    rv[static_cast<size_t>(r)] = f.add_vertex({VertexKind::router, r, 1, 0, 1, radix});
  for (int x = 0; x < acc; ++x)
    f.add_edge(x, rv[static_cast<size_t>(l.router_of(x))], l.nic_base + x, nic);
  for (int grp = 0; grp < l.g; ++grp)
    for (int x = 0; x < l.a; ++x)
      for (int y = x + 1; y < l.a; ++y)
        f.add_edge(rv[static_cast<size_t>(grp * l.a + x)], rv[static_cast<size_t>(grp * l.a + y)],
                   l.local_link(grp, x, y), local_bw);
  for (int i = 0; i < l.g; ++i)
    for (int j = i + 1; j < l.g; ++j)
      f.add_edge(rv[static_cast<size_t>(l.gateway(i, j))], rv[static_cast<size_t>(l.gateway(j, i))],
                 l.global_link(i, j), global_bw * l.cables, l.cables);
  f.set_router(std::make_shared<DragonflyRouter>(l));

  auto& sum = f.summary_mut();
  sum.pods = l.g;
  // Structural bisection: half the groups against the other half, over the global trunks.
  const double cut = static_cast<double>(l.g / 2) * (l.g - l.g / 2) * l.cables * global_bw;
  f.set_structural_bisection(acc > 1 ? std::min(nic, cut / (acc / 2)) : 0);
  sum.notes.push_back(str(l.g) + " groups x " + str(l.a) + " routers, " + str(l.cables) +
                      " global cable(s) per pair of groups aggregated into one trunk; minimal routing");
}

} // namespace

FabricModel dragonfly_model()
{
  return {"dragonfly",
          "groups of routers, all-to-all local links inside a group and global links between groups; minimal routing",
          {"switch_radix"},
          {{"groups", "int", 0, "number of groups (0: as many as the nodes need)"},
           {"routers_per_group", "int", nullptr, "routers in a group, joined all-to-all by local links"},
           {"nodes_per_router", "int", 1, "nodes whose NICs attach to one router"},
           {"global_links", "int", nullptr, "global links per router"},
           {"local_bandwidth", "bandwidth", "nic_bandwidth", "per local link and direction"},
           {"global_bandwidth", "bandwidth", "nic_bandwidth", "per global cable and direction"}},
          build_dragonfly};
}

} // namespace trainsim::topology
