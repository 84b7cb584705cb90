#include "trainsim/collective/Collective.hpp"

#include <stdexcept>

namespace trainsim::collective {

const char* to_string(CollectiveKind k)
{
  switch (k) {
  case CollectiveKind::all_reduce: return "all_reduce";
  case CollectiveKind::reduce_scatter: return "reduce_scatter";
  case CollectiveKind::all_gather: return "all_gather";
  }
  return "?";
}

double Schedule::bytes_sent_by(int member) const
{
  double total = 0;
  for (const auto& ph : phases)
    for (const auto& t : ph.transfers)
      if (t.src == member)
        total += t.bytes;
  return total;
}

double Schedule::bytes_received_by(int member) const
{
  double total = 0;
  for (const auto& ph : phases)
    for (const auto& t : ph.transfers)
      if (t.dst == member)
        total += t.bytes;
  return total;
}

Registry& Registry::instance()
{
  static Registry r;
  return r;
}

void Registry::add(const std::string& name, Factory f)
{
  factories_[name] = std::move(f);
}

std::unique_ptr<Algorithm> Registry::create(const std::string& name) const
{
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string valid;
    for (const auto& [n, f] : factories_)
      valid += (valid.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown collective algorithm \"" + name + "\"; valid: " + valid);
  }
  return it->second();
}

std::vector<std::string> Registry::names() const
{
  std::vector<std::string> out;
  for (const auto& [n, f] : factories_)
    out.push_back(n);
  return out;
}

void register_ring(); // impl/Ring.cpp

void register_builtins()
{
  register_ring();
}

Schedule aggregate(const Schedule& s)
{
  std::map<std::pair<int, int>, double> sums;
  for (const auto& ph : s.phases)
    for (const auto& t : ph.transfers)
      sums[{t.src, t.dst}] += t.bytes;
  Schedule out;
  out.latency_steps = s.latency_steps;
  out.phases.emplace_back();
  for (const auto& [k, bytes] : sums)
    out.phases.front().transfers.push_back({k.first, k.second, bytes});
  return out;
}

} // namespace trainsim::collective
