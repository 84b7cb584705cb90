#include "CollectiveRunner.hpp"

#include <algorithm>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>

namespace trainsim::sim {

namespace sg4 = simgrid::s4u;

CollectiveRunner::CollectiveRunner(const platform::Platform& p, const scenario::Calibration& cal, bool aggregate)
    : platform_(p), cal_(cal), aggregate_(aggregate)
{
  collective::register_builtins();
  ring_ = collective::Registry::instance().create("ring");
}

double CollectiveRunner::efficiency(int a, int b) const
{
  const auto& f = platform_.fabric();
  return f.node_of(a) == f.node_of(b) ? cal_.scale_up_bus_efficiency : cal_.scale_out_bus_efficiency;
}

double CollectiveRunner::ring_latency(const std::vector<std::vector<int>>& groups) const
{
  double max_latency = 0;
  for (const auto& g : groups)
    for (size_t i = 0; i < g.size(); ++i)
      max_latency = std::max(max_latency, platform_.route_latency(g[i], g[(i + 1) % g.size()]));
  return max_latency;
}

void CollectiveRunner::run(const std::vector<std::vector<int>>& groups, collective::CollectiveKind kind, double bytes,
                           double max_latency)
{
  if (groups.empty() || groups.front().size() < 2)
    return;
  const int p = static_cast<int>(groups.front().size());
  collective::Schedule sched = ring_->expand(kind, p, bytes);
  if (aggregate_)
    sched = collective::aggregate(sched);
  std::vector<sg4::CommPtr> comms;
  for (const auto& phase : sched.phases) {
    comms.clear();
    for (const auto& g : groups)
      for (const auto& t : phase.transfers) {
        int a = g[static_cast<size_t>(t.src)], b = g[static_cast<size_t>(t.dst)];
        comms.push_back(sg4::Comm::sendto_async(platform_.host(a), platform_.host(b), t.bytes / efficiency(a, b)));
      }
    transfers_ += static_cast<long>(comms.size());
    sg4::Comm::wait_all(comms);
  }
  // Flows paid one route latency per phase; the algorithm pays one per step, plus software latency.
  const double extra = (sched.latency_steps - static_cast<double>(sched.phases.size())) * max_latency +
                       sched.latency_steps * cal_.collective_step_latency_s;
  if (extra > 0)
    sg4::this_actor::sleep_for(extra);
}

void CollectiveRunner::ring_share(int from, int to, double bytes, int steps, double lat)
{
  auto comm = sg4::Comm::sendto_async(platform_.host(from), platform_.host(to), bytes / efficiency(from, to));
  ++transfers_;
  comm->wait();
  const double extra = (steps - 1) * lat + steps * cal_.collective_step_latency_s;
  if (extra > 0)
    sg4::this_actor::sleep_for(extra);
}

} // namespace trainsim::sim
