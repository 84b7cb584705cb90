#include "trainsim/collective/Collective.hpp"

#include <algorithm>
#include <stdexcept>

namespace trainsim::collective {

const char* to_string(CollectiveKind k)
{
  switch (k) {
  case CollectiveKind::all_reduce:
    return "all_reduce";
  case CollectiveKind::reduce_scatter:
    return "reduce_scatter";
  case CollectiveKind::all_gather:
    return "all_gather";
  case CollectiveKind::all_to_all:
    return "all_to_all";
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

bool Schedule::ring_neighbour_only(int p) const
{
  for (const auto& ph : phases)
    for (const auto& t : ph.transfers)
      if (t.dst != (t.src + 1) % p)
        return false;
  return true;
}

std::vector<std::vector<int>> Topology::nodes(int p) const
{
  std::vector<std::vector<int>> out;
  if (node_of.empty()) {
    for (int i = 0; i < p; ++i)
      out.push_back({i});
    return out;
  }
  if (static_cast<int>(node_of.size()) != p)
    throw core::InvalidArgument("topology describes " + std::to_string(node_of.size()) + " members, the group has " +
                                std::to_string(p));
  std::map<int, size_t> index;
  for (int i = 0; i < p; ++i) {
    auto [it, fresh] = index.emplace(node_of[static_cast<size_t>(i)], out.size());
    if (fresh)
      out.emplace_back();
    out[it->second].push_back(i);
  }
  return out;
}

double Algorithm::estimate(CollectiveKind kind, int p, double bytes, const Topology& topo) const
{
  return estimate_time(expand(kind, p, bytes, topo), p, topo);
}

void Algorithm::require(CollectiveKind kind, int p, const Topology& topo) const
{
  const std::string why = why_unsupported(kind, p, topo);
  if (!why.empty())
    throw core::InvalidArgument(why);
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
    throw core::InvalidArgument("unknown collective algorithm \"" + name + "\"; valid: " + valid);
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

// One file per algorithm in impl/.
void register_ring();
void register_double_binary_tree();
void register_halving_doubling();
void register_hierarchical();
void register_direct();
void register_pairwise();
void register_in_network();
void register_auto();

void register_builtins()
{
  register_ring();
  register_double_binary_tree();
  register_halving_doubling();
  register_hierarchical();
  register_direct();
  register_pairwise();
  register_in_network();
  register_auto();
}

Schedule aggregate(const Schedule& s)
{
  Schedule out;
  out.latency_steps = s.latency_steps;
  out.in_network = s.in_network;
  size_t i = 0;
  while (i < s.phases.size()) {
    const Phase& first = s.phases[i];
    size_t j = i + 1;
    while (j < s.phases.size() && s.phases[j].transfers == first.transfers && s.phases[j].steps == first.steps)
      ++j;
    Phase merged = first; // phases i..j-1 are identical: the same flows, (j - i) times the bytes
    const double k = static_cast<double>(j - i);
    for (auto& t : merged.transfers)
      t.bytes *= k;
    merged.steps = first.steps * static_cast<int>(j - i);
    out.phases.push_back(std::move(merged));
    i = j;
  }
  return out;
}

double estimate_time(const Schedule& s, int p, const Topology& topo)
{
  double total = 0, worst_latency = 0, covered = 0;
  std::vector<double> up_out(static_cast<size_t>(p)), up_in(static_cast<size_t>(p)), out_out(static_cast<size_t>(p)),
      out_in(static_cast<size_t>(p));
  for (const auto& ph : s.phases) {
    std::fill(up_out.begin(), up_out.end(), 0.0);
    std::fill(up_in.begin(), up_in.end(), 0.0);
    std::fill(out_out.begin(), out_out.end(), 0.0);
    std::fill(out_in.begin(), out_in.end(), 0.0);
    bool uses_up = false, uses_out = false;
    for (const auto& t : ph.transfers) {
      const bool local = topo.same_node(t.src, t.dst);
      (local ? up_out : out_out)[static_cast<size_t>(t.src)] += t.bytes;
      (local ? up_in : out_in)[static_cast<size_t>(t.dst)] += t.bytes;
      (local ? uses_up : uses_out) = true;
    }
    double busiest = 0;
    if (!topo.leaf_of.empty() && topo.leaf_uplink_bandwidth > 0) {
      std::map<int, double> leaf_out, leaf_in;
      for (const auto& t : ph.transfers) {
        const int a = topo.leaf_of[static_cast<size_t>(t.src)], b = topo.leaf_of[static_cast<size_t>(t.dst)];
        if (a != b) {
          leaf_out[a] += t.bytes;
          leaf_in[b] += t.bytes;
        }
      }
      for (const auto* m : {&leaf_out, &leaf_in})
        for (const auto& [leaf, bytes] : *m)
          busiest = std::max(busiest, bytes / topo.leaf_uplink_bandwidth);
    }
    for (size_t m = 0; m < static_cast<size_t>(p); ++m) {
      busiest = std::max({busiest, up_out[m] / topo.scale_up.bandwidth, up_in[m] / topo.scale_up.bandwidth,
                          out_out[m] / topo.scale_out.bandwidth, out_in[m] / topo.scale_out.bandwidth});
    }
    const double latency = std::max(uses_up ? topo.scale_up.latency : 0.0, uses_out ? topo.scale_out.latency : 0.0);
    worst_latency = std::max(worst_latency, latency);
    total += ph.steps * latency + busiest;
    covered += ph.steps;
  }
  const double uncovered = s.latency_steps - covered;
  if (uncovered > 0)
    total += uncovered * worst_latency;
  return total + s.latency_steps * topo.step_latency;
}

} // namespace trainsim::collective
