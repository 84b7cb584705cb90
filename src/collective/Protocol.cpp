#include "trainsim/collective/Protocol.hpp"

#include <algorithm>

namespace trainsim::collective {

namespace {

double protocol_time(const Protocol& p, const Call& c, double& software)
{
  const int up_steps = std::max(0, c.steps - c.scale_out_steps);
  double latency = p.base_latency + up_steps * std::max(p.step_latency[scale_up], c.route_latency) +
                   c.scale_out_steps * std::max(p.step_latency[scale_out], c.route_latency);
  if (c.multi_node_all_reduce)
    latency *= p.all_reduce_latency_factor;
  software = std::max(0.0, latency - c.steps * c.route_latency); // the flows pay the route latencies themselves
  const double bw = c.link_bandwidth * p.bandwidth_factor[c.link];
  return c.steps * c.route_latency + software + (c.link_bytes > 0 ? c.link_bytes / bw : 0.0);
}

} // namespace

ProtocolChoice choose_protocol(const std::vector<Protocol>& protocols, const Call& call)
{
  ProtocolChoice best;
  for (size_t i = 0; i < protocols.size(); ++i) {
    const Protocol& p = protocols[i];
    if (p.bandwidth_factor[call.link] <= 0)
      continue;
    double software = 0;
    const double t = protocol_time(p, call, software);
    if (best.protocol < 0 || t <= best.time) {
      best.protocol = static_cast<int>(i);
      best.time = t;
      best.software_latency = software;
      best.bandwidth_factor[scale_up] = p.bandwidth_factor[scale_up] > 0 ? p.bandwidth_factor[scale_up] : 1.0;
      best.bandwidth_factor[scale_out] = p.bandwidth_factor[scale_out] > 0 ? p.bandwidth_factor[scale_out] : 1.0;
    }
  }
  return best;
}

double ideal_time(const Call& call, double step_latency)
{
  return call.steps * (call.route_latency + step_latency) +
         (call.link_bytes > 0 && call.link_bandwidth > 0 ? call.link_bytes / call.link_bandwidth : 0.0);
}

} // namespace trainsim::collective
