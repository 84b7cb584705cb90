// backfill (EASY, Lifka 1995): jobs start in submit order while they fit. The first that does not fit gets
// a reservation at the shadow time, the earliest time enough nodes come back (jobs ending, repairs). A later
// job may jump ahead if it fits now and either ends by the shadow time or uses only the nodes the reserved
// job leaves spare at that time, so the reservation is never delayed.
#include <limits>

#include "trainsim/cluster/Scheduler.hpp"

namespace trainsim::cluster::impl {

namespace {
class Backfill final : public Scheduler {
public:
  std::vector<int> pick(const std::vector<PendingJob>& pending, const PoolView& pool) const override
  {
    auto out = start_in_order(pending, pool.free_nodes);
    if (out.size() == pending.size())
      return out;
    int free = pool.free_nodes;
    for (size_t k = 0; k < out.size(); ++k)
      free -= pending[k].nodes;
    const PendingJob& head = pending[out.size()];
    // Shadow time: walk the releases until the head fits; `extra` nodes are spare at that time.
    double shadow = std::numeric_limits<double>::infinity();
    int avail = free, extra = 0;
    for (const auto& r : pool.releases) {
      avail += r.nodes;
      if (avail >= head.nodes) {
        shadow = r.at_s;
        extra = avail - head.nodes;
        break;
      }
    }
    for (size_t k = out.size() + 1; k < pending.size(); ++k) {
      const PendingJob& j = pending[k];
      if (j.nodes > free)
        continue;
      const bool ends_before = pool.now + j.run_s <= shadow;
      if (!ends_before && j.nodes > extra)
        continue;
      free -= j.nodes;
      if (!ends_before)
        extra -= j.nodes;
      out.push_back(j.id);
    }
    return out;
  }
};
} // namespace

std::unique_ptr<Scheduler> make_backfill()
{
  return std::make_unique<Backfill>();
}

} // namespace trainsim::cluster::impl
