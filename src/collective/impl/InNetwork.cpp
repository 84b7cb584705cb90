#include <algorithm>
#include <memory>
#include <stdexcept>

#include "Support.hpp"
#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// In-network reduction: NVLink SHARP (NVLS) in the scale-up switch, SHARP in the scale-out switches.
/// Each member streams its data into the switch once and receives the result once; the switch reduces
/// (and multicasts). Per member link: all-reduce S up and S down; reduce-scatter S up, S/p down;
/// all-gather S/p up, S down. One message latency (up to the reducing switch and back).
/// Alpha-beta: a + S/B for all three.
///
/// Flow emulation: the platform's switches are routers, not endpoints, so the member-switch-member
/// streams run as one flow per member to its ring successor carrying the larger of the member's upload
/// and download. On each member link that is exactly the load of the heavier direction, which sets the
/// time; on a switch tier, a ring in node order crosses each switch's uplink once each way, which is the
/// one reduced stream up and one result stream down that a SHARP aggregation tree carries. The flow's
/// route latency is the path through the highest switch the group needs, as with SHARP.
///
/// Groups with several members on each of several nodes need both: an NVLS reduce-scatter inside each
/// node (S per member link), a SHARP all-reduce of each member's S/L shard across the nodes on its rail,
/// an NVLS all-gather (S): three steps, a_up + S/B_up twice plus a_out + S/(L B_out) (NCCL's NVLS+SHARP).
class InNetwork final : public Algorithm {
public:
  std::string name() const override { return "in_network"; }
  bool supports(CollectiveKind kind) const override { return kind != CollectiveKind::all_to_all; }
  std::string why_unsupported(CollectiveKind kind, int p, const Topology& topo) const override
  {
    if (!supports(kind))
      return "in_network does not implement all_to_all; use direct or pairwise";
    if (p <= 1)
      return "";
    const auto nodes = topo.nodes(p);
    if (auto why = impl::uneven_members(name(), nodes); !why.empty())
      return why;
    const size_t L = nodes.front().size();
    if (nodes.size() > 1 && !topo.sharp)
      return "in_network across " + std::to_string(nodes.size()) +
             " nodes needs a fabric that reduces in the network: set /cluster/fabric/in_network_reduction to true "
             "(SHARP), or choose another algorithm";
    if (L > 1 && !topo.nvls)
      return "in_network among members of one node needs /cluster/scale_up/nvls set to true (NVLink SHARP), or "
             "choose another algorithm";
    return "";
  }
  Schedule expand(CollectiveKind kind, int p, double S, const Topology& topo) const override
  {
    require(kind, p, topo);
    Schedule s;
    s.in_network = true;
    if (p <= 1)
      return s;
    const auto nodes = topo.nodes(p);
    const int N = static_cast<int>(nodes.size());
    size_t L = nodes.front().size();
    auto intra = [&](double bytes) {
      Phase ph;
      for (const auto& n : nodes)
        for (size_t l = 0; l < L; ++l)
          ph.transfers.push_back({n[l], n[(l + 1) % L], bytes});
      s.phases.push_back(std::move(ph));
    };
    auto inter = [&](double bytes) {
      Phase ph;
      for (int i = 0; i < N; ++i)
        for (size_t l = 0; l < L; ++l)
          ph.transfers.push_back({nodes[static_cast<size_t>(i)][l], nodes[static_cast<size_t>((i + 1) % N)][l], bytes});
      s.phases.push_back(std::move(ph));
    };
    if (N == 1) {
      intra(S);
    } else if (L == 1) {
      inter(S);
    } else {
      // NVLS inside the node around a SHARP stage on each rail.
      const double shard = S / static_cast<double>(L);
      switch (kind) {
      case CollectiveKind::all_reduce:
        intra(S);
        inter(shard);
        intra(S);
        break;
      case CollectiveKind::reduce_scatter:
        intra(S);
        inter(shard);
        break; // shard up, shard/N down
      case CollectiveKind::all_gather:
        inter(shard);
        intra(S);
        break;
      case CollectiveKind::all_to_all:
        break;
      }
    }
    for (auto& ph : s.phases)
      std::sort(ph.transfers.begin(), ph.transfers.end(),
                [](const Transfer& a, const Transfer& b) { return a.src < b.src; });
    s.latency_steps = static_cast<int>(s.phases.size());
    return s;
  }
};

} // namespace

void register_in_network()
{
  Registry::instance().add("in_network", [] { return std::make_unique<InNetwork>(); });
}

} // namespace trainsim::collective
