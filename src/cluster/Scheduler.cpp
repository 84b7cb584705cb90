#include "trainsim/cluster/Scheduler.hpp"

#include <functional>
#include <utility>

#include "trainsim/core/Errors.hpp"

namespace trainsim::cluster {

namespace {
using Factory = std::unique_ptr<Scheduler> (*)();
const std::vector<std::pair<std::string, Factory>>& registry()
{
  static const std::vector<std::pair<std::string, Factory>> r{
      {"fifo", impl::make_fifo}, {"backfill", impl::make_backfill}, {"priority", impl::make_priority}};
  return r;
}
} // namespace

std::vector<std::string> scheduler_names()
{
  std::vector<std::string> names;
  for (const auto& [name, make] : registry())
    names.push_back(name);
  return names;
}

std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const std::string& pointer)
{
  std::string valid;
  for (const auto& [n, make] : registry()) {
    if (n == name)
      return make();
    valid += (valid.empty() ? "" : ", ") + n;
  }
  throw core::ConfigError(pointer, "unknown scheduler \"" + name + "\"; valid: " + valid);
}

std::vector<int> impl::start_in_order(const std::vector<PendingJob>& ordered, int free_nodes)
{
  std::vector<int> out;
  for (const auto& j : ordered) {
    if (j.nodes > free_nodes)
      break;
    free_nodes -= j.nodes;
    out.push_back(j.id);
  }
  return out;
}

} // namespace trainsim::cluster
