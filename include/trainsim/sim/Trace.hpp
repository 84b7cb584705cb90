#pragma once
#include <string>
#include <vector>

namespace trainsim::sim {

/// One interval on one track of the traced step, in absolute simulated seconds.
struct TraceEvent {
  int stage = 0;
  int lane = 0;     ///< 0: the representative rank's stream; 1: its data-parallel communication stream
  std::string kind; ///< compute, tp_comm, pp_comm, bubble, dp_comm, optimizer (lane 0); dp_stream (lane 1)
  std::string name; ///< human-readable, e.g. "fwd mb3 c1"
  std::string pass; ///< forward, backward or step
  double start_s = 0;
  double end_s = 0;
  int microbatch = -1;
  int chunk = -1;
  double bytes = 0;
};

/// Bytes/s carried by the links of one fabric tier over [start_s, end_s) (both directions summed).
struct TierSample {
  int tier = 0;
  double start_s = 0;
  double end_s = 0;
  double bytes_per_s = 0;
};

/// The per-op timeline of one simulated step: a track per representative rank (and its DP stream),
/// and the utilisation of every fabric tier between the step's op boundaries.
struct StepTrace {
  int step = -1; ///< which simulated step; -1: nothing recorded
  double start_s = 0;
  double end_s = 0;
  std::vector<int> stage_accelerators; ///< the accelerator (= rank) of each stage's representative
  std::vector<TraceEvent> events;
  std::vector<std::string> tiers;    ///< tier names (topology::LinkKind)
  std::vector<double> tier_capacity; ///< bytes/s: both directions of every link of the tier
  std::vector<long> tier_links;      ///< links in the tier
  std::vector<TierSample> samples;
};

} // namespace trainsim::sim
