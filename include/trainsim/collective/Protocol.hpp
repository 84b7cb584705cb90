#pragma once
#include <string>
#include <vector>

/// Collective efficiency (docs/at-scale.md#collective-efficiency): NCCL's protocols and its tuning model, which
/// sets the bus bandwidth and latency a collective call reaches from its message size and its group.
namespace trainsim::collective {

/// Link classes a protocol's figures are given for: [scale_up] between members of one node, [scale_out] across.
enum LinkClass { scale_up = 0, scale_out = 1 };

/// One of NCCL's protocols (LL, LL128, Simple) with the figures of its tuning model (platforms/calibration.json
/// `collective_efficiency`).
struct Protocol {
  std::string name;
  double base_latency = 0;             ///< per call: kernel launch and set-up, seconds
  double step_latency[2] = {0, 0};     ///< per algorithm step on a link of each class, wire included, seconds
  double bandwidth_factor[2] = {1, 1}; ///< of the link's bus-bandwidth ceiling on each class; 0: not used there
  /// A ring all-reduce across nodes pays its latency (base and steps) this many times (NCCL's "plateau effect of
  /// ring" for Simple: 1.4 on Ampere and later)
  double all_reduce_latency_factor = 1;
};

/// One collective call as the protocol choice sees it: its steps, the bytes through its busiest member link
/// and that link's ceiling.
struct Call {
  int steps = 0;                      ///< sequential algorithm steps (message latencies)
  int scale_out_steps = 0;            ///< of which cross nodes (NCCL's inter-node steps)
  double link_bytes = 0;              ///< bytes through the busiest member link
  double link_bandwidth = 0;          ///< its bus-bandwidth ceiling per direction (link rate x bus efficiency), bytes/s
  LinkClass link = scale_up;          ///< the busiest link's class
  double route_latency = 0;           ///< wire latency per step that the simulated flows pay themselves, seconds
  bool multi_node_all_reduce = false; ///< an all-reduce whose group spans nodes (all_reduce_latency_factor applies)
};

/// What the choice decided for one call.
struct ProtocolChoice {
  int protocol = -1;                   ///< index into the protocols; -1: no protocol (the mechanism is off)
  double bandwidth_factor[2] = {1, 1}; ///< flows of each link class carry their bytes at this share of the ceiling
  double software_latency = 0;         ///< per call: the protocol's latency minus the route latency of every step
  double time = 0;                     ///< the call's closed-form time on uncontended links
};

/// NCCL's tuning model (NVIDIA/nccl src/graph/tuning.cc): a protocol's time is its latency — base latency plus per
/// step the larger of its step latency on that step's link class and the route latency, times
/// all_reduce_latency_factor for an all-reduce across nodes — plus the busiest link's bytes at its share of the
/// link's ceiling; the call takes the protocol with the least time (ties: the later, Simple).
/// Protocols with a zero bandwidth factor on the busiest link's class are not candidates. Empty: off.
ProtocolChoice choose_protocol(const std::vector<Protocol>& protocols, const Call& call);

/// The alpha-beta bound the simulator reaches without the mechanism: steps x (route latency + step_latency) plus
/// the busiest link's bytes at the ceiling.
double ideal_time(const Call& call, double step_latency);

/// Bus bandwidth of a call (nccl-tests' busbw: the busiest link's bytes over the time), bytes/s.
inline double bus_bandwidth(const Call& call, double time)
{
  return time > 0 ? call.link_bytes / time : 0.0;
}

} // namespace trainsim::collective
