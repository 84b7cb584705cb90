// priority: the highest priority first (ties: earlier submit, then file order); like fifo, the first job in
// that order that does not fit blocks the jobs behind it, so a large urgent job is not starved by small ones.
#include <algorithm>

#include "trainsim/cluster/Scheduler.hpp"

namespace trainsim::cluster::impl {

namespace {
class Priority final : public Scheduler {
public:
  std::vector<int> pick(const std::vector<PendingJob>& pending, const PoolView& pool) const override
  {
    auto ordered = pending;
    std::stable_sort(ordered.begin(), ordered.end(), [](const PendingJob& a, const PendingJob& b) {
      if (a.priority != b.priority)
        return a.priority > b.priority;
      if (a.submit_s != b.submit_s)
        return a.submit_s < b.submit_s;
      return a.id < b.id;
    });
    return start_in_order(ordered, pool.free_nodes);
  }
};
} // namespace

std::unique_ptr<Scheduler> make_priority()
{
  return std::make_unique<Priority>();
}

} // namespace trainsim::cluster::impl
