#include <memory>
#include <stdexcept>

#include "Support.hpp"
#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Hierarchical collectives (NCCL across NVLink and rails; Horovod's hierarchical all-reduce): with N
/// nodes of L members each, all-reduce is
///   1. a ring reduce-scatter among the L members of each node on the scale-up links (L-1 steps of S/L),
///   2. a ring all-reduce of each member's S/L shard among the N members with the same local index, one
///      ring per rail on the scale-out links (2(N-1) steps of S/(LN)), all rails at once,
///   3. a ring all-gather inside each node (L-1 steps of S/L).
/// Reduce-scatter is 1 then the rails' reduce-scatter (N-1 steps); all-gather the rails' all-gather then 3.
/// Alpha-beta all-reduce: 2(L-1)(a_up + S/(L B_up)) + 2(N-1)(a_out + S/(LN B_out)); each NIC carries 1/L of
/// what a flat ring's busiest NIC carries. Needs the same number of members on every node; with one
/// member per node, or one node, it is the ring.
class Hierarchical final : public Algorithm {
public:
  std::string name() const override { return "hierarchical"; }
  bool supports(CollectiveKind kind) const override { return kind != CollectiveKind::all_to_all; }
  std::string why_unsupported(CollectiveKind kind, int p, const Topology& topo) const override
  {
    if (!supports(kind))
      return "hierarchical does not implement all_to_all; use direct or pairwise";
    if (p <= 1)
      return "";
    return impl::uneven_members(name(), topo.nodes(p));
  }
  Schedule expand(CollectiveKind kind, int p, double S, const Topology& topo) const override
  {
    require(kind, p, topo);
    Schedule s;
    if (p <= 1)
      return s;
    const auto nodes = topo.nodes(p);
    const int N = static_cast<int>(nodes.size());
    const int L = static_cast<int>(nodes.front().size());
    auto ring_steps = [&](int steps, bool intra, double bytes) {
      for (int k = 0; k < steps; ++k) {
        Phase ph;
        if (intra) {
          for (const auto& n : nodes)
            for (int l = 0; l < L; ++l)
              ph.transfers.push_back({n[static_cast<size_t>(l)], n[static_cast<size_t>((l + 1) % L)], bytes});
        } else {
          for (int i = 0; i < N; ++i)
            for (int l = 0; l < L; ++l)
              ph.transfers.push_back({nodes[static_cast<size_t>(i)][static_cast<size_t>(l)],
                                      nodes[static_cast<size_t>((i + 1) % N)][static_cast<size_t>(l)], bytes});
        }
        s.phases.push_back(std::move(ph));
      }
    };
    const double shard = S / L, piece = S / (static_cast<double>(L) * N);
    switch (kind) {
    case CollectiveKind::all_reduce:
      ring_steps(L - 1, true, shard);
      ring_steps(2 * (N - 1), false, piece);
      ring_steps(L - 1, true, shard);
      break;
    case CollectiveKind::reduce_scatter:
      ring_steps(L - 1, true, shard);
      ring_steps(N - 1, false, piece);
      break;
    case CollectiveKind::all_gather:
      ring_steps(N - 1, false, piece);
      ring_steps(L - 1, true, shard);
      break;
    case CollectiveKind::all_to_all:
      break;
    }
    s.latency_steps = static_cast<int>(s.phases.size());
    return s;
  }
};

} // namespace

void register_hierarchical()
{
  Registry::instance().add("hierarchical", [] { return std::make_unique<Hierarchical>(); });
}

} // namespace trainsim::collective
