#pragma once
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <simgrid/s4u/Comm.hpp>

#include "trainsim/collective/Collective.hpp"
#include "trainsim/collective/Protocol.hpp"
#include "trainsim/platform/Platform.hpp"
#include "trainsim/scenario/Catalog.hpp"

namespace trainsim::sim {

/// Runs collectives as transfers on the SimGrid platform, from the calling actor (blocking).
class CollectiveRunner {
public:
  CollectiveRunner(const platform::Platform& p, const scenario::Calibration& cal, bool aggregate);
  /// Runs `kind` over every group at once (groups of equal size), `bytes` per group; returns when all end.
  /// `ring_latency` is ring_latency(groups), computed once by the caller for groups it reuses.
  /// `keep`, when given, says per group which ring-neighbour flows (i -> i+1) to issue.
  /// Returns the collective-efficiency cost of the call: its closed-form time with the protocol model minus
  /// the alpha-beta bound (0 when the mechanism is off; docs/at-scale.md#collective-efficiency).
  double run(const std::vector<std::vector<int>>& groups, collective::CollectiveKind kind, double bytes,
             double ring_latency, const std::vector<std::vector<char>>* keep = nullptr);
  /// Largest route latency between ring neighbours over all groups.
  double ring_latency(const std::vector<std::vector<int>>& groups) const;
  /// Tensor-parallel ring traffic: each (from, to) pair sends its ring share at once (one pair: the
  /// representative, by symmetry; every pair: full fidelity); `latency` is one ring step's route latency.
  /// Returns the collective-efficiency cost, as run().
  /// `use` names the payload bytes in bytes() ("tp"; "cp": context-parallel all-gathers).
  double ring_shares(const std::vector<std::pair<int, int>>& pairs, double bytes, int steps, double latency,
                     const char* use = "tp");
  /// ring_shares in two halves, for communication that runs beside compute: start issues the flows,
  /// finish waits for them and pays the ring steps' latency (and the chosen protocol's).
  struct Shares {
    std::vector<simgrid::s4u::CommPtr> comms;
    collective::ProtocolChoice choice; ///< of the call (protocol -1: the mechanism is off)
    double cost = 0;                   ///< collective-efficiency cost, as run()
  };
  Shares ring_shares_start(const std::vector<std::pair<int, int>>& pairs, double bytes, int steps, double latency,
                           const char* use = "tp");
  void ring_shares_finish(Shares& shares, int steps, double latency);
  /// The protocol choice for one call (protocol -1 when the mechanism is off) and its cost against the
  /// alpha-beta bound.
  collective::ProtocolChoice choose(const collective::Call& call, double& cost) const;
  /// The bus-bandwidth ceiling of a link class (link rate x bus efficiency).
  double ceiling(collective::LinkClass c) const
  {
    return c == collective::scale_up ? scale_up_ceiling_ : scale_out_ceiling_;
  }
  bool collective_efficiency() const { return nccl_; }
  long transfers() const { return transfers_; }
  /// Payload bytes issued, by use ("dp": run(), "tp" and "cp": ring shares).
  const std::map<std::string, double>& bytes() const { return bytes_; }
  /// Counts payload bytes of transfers replayed rather than issued (sim/Reuse.hpp).
  void count_bytes(const std::string& kind, double b) { bytes_[kind] += b; }
  /// Runs later collectives with the named algorithm (collective registry; "ring" until called), costed
  /// for `auto` with the scenario's link figures and in-network reduction flags.
  void set_algorithm(const std::string& name, const scenario::Scenario& s);

private:
  double efficiency(int a, int b) const;
  /// efficiency() times the chosen protocol's bandwidth share on the pair's link class.
  double efficiency(int a, int b, const collective::ProtocolChoice& choice) const;
  /// Software latency of a call beyond its route latencies: the protocol's, or collective_step_latency per step.
  double software_latency(const collective::ProtocolChoice& choice, int steps) const;
  bool nccl_ = false; ///< /simulation/collective_efficiency and a calibration with protocols
  double scale_up_ceiling_ = 0, scale_out_ceiling_ = 0;
  const platform::Platform& platform_;
  scenario::Calibration cal_;
  bool aggregate_;
  std::unique_ptr<collective::Algorithm> algorithm_;
  collective::Topology topology_; ///< cost figures and flags; node_of is filled per group layout
  int trunk_sharers_ = 1;         ///< data-parallel groups that cross one leaf uplink at once
  long transfers_ = 0;
  std::map<std::string, double> bytes_;
  struct Expanded {
    collective::Schedule schedule;
    bool ring_neighbour_only = true;   ///< the keep mask may apply
    double latency = -1;               ///< largest route latency among the schedule's pairs (non-ring)
    std::vector<double> phase_latency; ///< per phase, its largest route latency (non-ring)
    double link_bytes = 0;             ///< bytes through the busiest member link (sent or received)
    int nodes = 1;                     ///< distinct nodes of the group
  };
  /// (kind, members, bytes, the members' nodes numbered by first appearance)
  std::map<std::tuple<int, int, double, std::vector<int>>, Expanded> schedules_;
};

} // namespace trainsim::sim
