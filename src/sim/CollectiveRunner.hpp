#pragma once
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
  void run(const std::vector<std::vector<int>>& groups, collective::CollectiveKind kind, double bytes,
           double ring_latency);
  /// Largest route latency between ring neighbours over all groups.
  double ring_latency(const std::vector<std::vector<int>>& groups) const;
  /// Tensor-parallel traffic by symmetry: the representative sends its ring share to its successor,
  /// whose route latency is `latency`.
  void ring_share(int from, int to, double bytes, int steps, double latency);
  long transfers() const { return transfers_; }

private:
  double efficiency(int a, int b) const;
  const platform::Platform& platform_;
  scenario::Calibration cal_;
  bool aggregate_;
  std::unique_ptr<collective::Algorithm> ring_;
  long transfers_ = 0;
};

} // namespace trainsim::sim
