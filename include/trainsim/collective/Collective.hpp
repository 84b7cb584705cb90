#pragma once
#include "trainsim/core/Errors.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace trainsim::collective {

enum class CollectiveKind { all_reduce, reduce_scatter, all_gather, all_to_all };
const char* to_string(CollectiveKind k);

/// One point-to-point transfer between members of the group (indices into the group).
struct Transfer {
  int src = 0;
  int dst = 0;
  double bytes = 0;
  bool operator==(const Transfer& o) const { return src == o.src && dst == o.dst && bytes == o.bytes; }
};

/// Transfers that run concurrently; a phase ends when all of them have.
struct Phase {
  std::vector<Transfer> transfers;
  int steps = 1; ///< algorithm steps this phase stands for (aggregate() merges identical steps)
};

/// A collective expanded into phases. `latency_steps` is how many sequential message latencies it pays.
struct Schedule {
  std::vector<Phase> phases;
  int latency_steps = 0;
  /// In-network reduction: the transfers stand for each member's stream to the switch and back
  /// (impl/InNetwork.cpp explains the flow emulation); bytes per member are what its link carries.
  bool in_network = false;
  /// Bytes each member sends, summed over phases.
  double bytes_sent_by(int member) const;
  double bytes_received_by(int member) const;
  /// Every transfer goes to the ring successor (dst == src + 1 mod p): only such schedules may leave
  /// out ring-neighbour flows by symmetry (sim/Reduction.hpp).
  bool ring_neighbour_only(int group_size) const;
};

/// Cost parameters of one class of links, as an alpha-beta model: a member's link carries `bandwidth`
/// bytes/s per direction (already scaled by the bus efficiency), and one message pays `latency` seconds.
struct LinkCost {
  double bandwidth = 0;
  double latency = 0;
};

/// What an algorithm may know about where the group's members sit. Default-constructed: a flat group
/// (every member on its own node) on 400 Gb/s links with 2 us route latency and 6 us per step, no
/// in-network reduction — the figures `auto` uses when the caller gives none.
struct Topology {
  /// Node of each member (any ids; members with equal ids share a scale-up domain). Empty: every member
  /// on its own node.
  std::vector<int> node_of;
  LinkCost scale_up{450e9, 1e-6};
  LinkCost scale_out{50e9, 2e-6};
  double step_latency = 6e-6; ///< software latency per algorithm step
  /// Leaf switch of each member, and the bandwidth per direction of a leaf's uplink trunk available to
  /// this group (its share when other groups cross the same trunk at the same time). Empty or 0: the
  /// scale-out fabric is taken as non-blocking.
  std::vector<int> leaf_of;
  double leaf_uplink_bandwidth = 0;
  bool nvls = false;  ///< the scale-up switch reduces in the network (/cluster/scale_up/nvls)
  bool sharp = false; ///< the scale-out fabric reduces in the network (/cluster/fabric/in_network_reduction)

  /// Members grouped by node in order of first appearance (member indices, ascending within a node).
  std::vector<std::vector<int>> nodes(int group_size) const;
  bool same_node(int a, int b) const
  {
    return node_of.empty() ? a == b : node_of[static_cast<size_t>(a)] == node_of[static_cast<size_t>(b)];
  }
};

/// An algorithm that expands a collective over `group_size` members, where `bytes` is the size of
/// the full buffer (all-reduce input; reduce-scatter input; all-gather output; all-to-all: each member's
/// send buffer, of which it sends bytes/p to every member).
class Algorithm {
public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;
  /// Whether the algorithm implements `kind` at all, wherever the members sit.
  virtual bool supports(CollectiveKind kind) const = 0;
  /// Whether it can run `kind` over `group_size` members placed as `topo` says (members per node, in-network
  /// reduction declared): each algorithm answers for itself; `auto` and `trainsim list collectives` ask it.
  bool supports(CollectiveKind kind, int group_size, const Topology& topo) const
  {
    return why_unsupported(kind, group_size, topo).empty();
  }
  /// Empty where the algorithm can run `kind` on this group; otherwise why not, with the fix.
  virtual std::string why_unsupported(CollectiveKind kind, int group_size, const Topology& topo) const = 0;
  /// Throws core::InvalidArgument (the why_unsupported text) when the algorithm cannot run `kind` on this group.
  virtual Schedule expand(CollectiveKind kind, int group_size, double bytes, const Topology& topo) const = 0;
  /// A flat group with the default cost figures (Topology{}).
  Schedule expand(CollectiveKind kind, int group_size, double bytes) const
  {
    return expand(kind, group_size, bytes, Topology{});
  }
  /// estimate_time of the expanded schedule; algorithms with a closed form override it (equal by test).
  virtual double estimate(CollectiveKind kind, int group_size, double bytes, const Topology& topo) const;

protected:
  /// What expand() does first: core::InvalidArgument with why_unsupported's text, where it is not empty.
  void require(CollectiveKind kind, int group_size, const Topology& topo) const;
};

/// Registry of algorithms by name; filled by register_builtins().
class Registry {
public:
  using Factory = std::function<std::unique_ptr<Algorithm>()>;
  static Registry& instance();
  void add(const std::string& name, Factory f);
  /// Throws core::InvalidArgument naming the valid algorithms.
  std::unique_ptr<Algorithm> create(const std::string& name) const;
  std::vector<std::string> names() const;
  bool has(const std::string& name) const { return factories_.count(name) > 0; }

private:
  std::map<std::string, Factory> factories_;
};

void register_builtins();

/// Merges each run of consecutive identical phases (same transfers, same bytes) into one phase whose
/// transfers carry the run's summed bytes and whose `steps` count the run; latency_steps is kept. Exact
/// on uncontended or symmetrically loaded links: a phase of equal flows ends when its busiest link has
/// carried its load, so k identical phases take k times as long as one, as does one phase of k-fold
/// flows. A ring becomes one phase (one flow per member pair); algorithms whose phases differ
/// (halving-doubling, tree fill and drain) keep them. Transfers of one phase are never merged.
Schedule aggregate(const Schedule& s);

/// Alpha-beta time of a schedule: per phase, its steps times the latency of the slowest link class used
/// plus the busiest link's bytes in either direction over its bandwidth — member links (scale-up for
/// members on one node, scale-out otherwise) and, where given, leaf uplink trunks; plus `step_latency` per latency step
/// and the largest link latency per latency step not covered by a phase. This is the closed form a non-blocking fabric
/// gives (tests/Collectives_test.cpp).
double estimate_time(const Schedule& s, int group_size, const Topology& topo);

/// The algorithm `auto` picks for this collective (docs/collectives.md): the candidate with the least
/// estimate_time among those that can run it.
std::string auto_choice(CollectiveKind kind, int group_size, double bytes, const Topology& topo);

} // namespace trainsim::collective
