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
                           double max_latency, const std::vector<std::vector<char>>* keep)
{
  if (groups.empty() || groups.front().size() < 2)
    return;
  const int p = static_cast<int>(groups.front().size());
  // Expanding (and aggregating) a ring of hundreds of members costs O(p^2); buckets repeat, so expand once.
  auto key = std::make_tuple(static_cast<int>(kind), p, bytes);
  auto it = schedules_.find(key);
  if (it == schedules_.end()) {
    collective::Schedule expanded = ring_->expand(kind, p, bytes);
    if (aggregate_)
      expanded = collective::aggregate(expanded);
    it = schedules_.emplace(key, std::move(expanded)).first;
  }
  const collective::Schedule& sched = it->second;
  std::vector<sg4::CommPtr> comms;
  for (const auto& phase : sched.phases) {
    comms.clear();
    for (size_t gi = 0; gi < groups.size(); ++gi)
      for (const auto& t : phase.transfers) {
        // Ring-neighbour flows that symmetry makes redundant are left out (sim/Reduction.hpp).
        if (keep && t.dst == (t.src + 1) % p && !(*keep)[gi][static_cast<size_t>(t.src)])
          continue;
        const auto& g = groups[gi];
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

void CollectiveRunner::ring_shares(const std::vector<std::pair<int, int>>& pairs, double bytes, int steps, double lat)
{
  std::vector<sg4::CommPtr> comms;
  comms.reserve(pairs.size());
  for (const auto& [from, to] : pairs)
    comms.push_back(sg4::Comm::sendto_async(platform_.host(from), platform_.host(to), bytes / efficiency(from, to)));
  transfers_ += static_cast<long>(comms.size());
  sg4::Comm::wait_all(comms);
  const double extra = (steps - 1) * lat + steps * cal_.collective_step_latency_s;
  if (extra > 0)
    sg4::this_actor::sleep_for(extra);
}

} // namespace trainsim::sim
