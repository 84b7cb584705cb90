// fifo: jobs start in submit order; the first that does not fit blocks the pool's queue (head-of-line), so
// a job never overtakes an earlier one. Wait of job k with known run times: the closed form of a
// single-server queue when every job takes the whole pool.
#include "trainsim/cluster/Scheduler.hpp"

namespace trainsim::cluster::impl {

namespace {
class Fifo final : public Scheduler {
public:
  std::vector<int> pick(const std::vector<PendingJob>& pending, const PoolView& pool) const override
  {
    return start_in_order(pending, pool.free_nodes);
  }
};
} // namespace

std::unique_ptr<Scheduler> make_fifo()
{
  return std::make_unique<Fifo>();
}

} // namespace trainsim::cluster::impl
