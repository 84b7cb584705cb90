#pragma once
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "trainsim/collective/Collective.hpp"
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
  void run(const std::vector<std::vector<int>>& groups, collective::CollectiveKind kind, double bytes,
           double ring_latency, const std::vector<std::vector<char>>* keep = nullptr);
  /// Largest route latency between ring neighbours over all groups.
  double ring_latency(const std::vector<std::vector<int>>& groups) const;
  /// Tensor-parallel ring traffic: each (from, to) pair sends its ring share at once (one pair: the
  /// representative, by symmetry; every pair: full fidelity); `latency` is one ring step's route latency.
  void ring_shares(const std::vector<std::pair<int, int>>& pairs, double bytes, int steps, double latency);
  long transfers() const { return transfers_; }

private:
  double efficiency(int a, int b) const;
  const platform::Platform& platform_;
  scenario::Calibration cal_;
  bool aggregate_;
  std::unique_ptr<collective::Algorithm> ring_;
  long transfers_ = 0;
  std::map<std::tuple<int, int, double>, collective::Schedule> schedules_; ///< (kind, members, bytes)
};

} // namespace trainsim::sim
