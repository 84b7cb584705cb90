#include "CollectiveRunner.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>

#include "trainsim/core/Log.hpp"
#include "trainsim/topology/FabricModel.hpp"

namespace trainsim::sim {

namespace sg4 = simgrid::s4u;

namespace {

/// The busiest member's bytes either way (the largest Schedule::bytes_sent_by / bytes_received_by over the
/// members), summed in one pass over the transfers, in the same order as those do, instead of one pass per member.
double busiest_member_bytes(const collective::Schedule& schedule, int p)
{
  std::vector<double> sent(static_cast<size_t>(p), 0.0), received(static_cast<size_t>(p), 0.0);
  for (const auto& ph : schedule.phases)
    for (const auto& t : ph.transfers) {
      if (t.src >= 0 && t.src < p)
        sent[static_cast<size_t>(t.src)] += t.bytes;
      if (t.dst >= 0 && t.dst < p)
        received[static_cast<size_t>(t.dst)] += t.bytes;
    }
  double most = 0;
  for (size_t m = 0; m < sent.size(); ++m)
    most = std::max({most, sent[m], received[m]});
  return most;
}

} // namespace

CollectiveRunner::CollectiveRunner(const platform::Platform& p, const scenario::Calibration& cal, bool aggregate)
    : platform_(p), cal_(cal), aggregate_(aggregate)
{
  collective::register_builtins();
  algorithm_ = collective::Registry::instance().create("ring");
}

void CollectiveRunner::set_algorithm(const std::string& name, const scenario::Scenario& s)
{
  algorithm_ = collective::Registry::instance().create(name);
  const auto& c = s.cluster;
  topology_.scale_up = {c.scale_up.bandwidth * cal_.scale_up_bus_efficiency, 2 * c.scale_up.latency};
  topology_.scale_out = {c.fabric.nic_bandwidth * cal_.scale_out_bus_efficiency, 2 * c.fabric.latency};
  topology_.step_latency = cal_.collective_step_latency_s;
  nccl_ = s.simulation.collective_efficiency && !cal_.protocols.empty();
  scale_up_ceiling_ = topology_.scale_up.bandwidth;
  scale_out_ceiling_ = topology_.scale_out.bandwidth;
  topology_.nvls = c.scale_up.nvls;
  topology_.sharp = c.fabric.in_network_reduction;
  // A leaf that carries the NICs of whole nodes (fat tree) has the data-parallel groups of all tensor-parallel
  // ranks cross its uplink together; a rail-optimized leaf carries one rail. The fabric model says which.
  trunk_sharers_ = topology::fabric_model(c.fabric.type).node_on_one_leaf ? s.parallelism.tp : 1;
  schedules_.clear();
}

double CollectiveRunner::efficiency(int a, int b) const
{
  const auto& f = platform_.fabric();
  return f.node_of(a) == f.node_of(b) ? cal_.scale_up_bus_efficiency : cal_.scale_out_bus_efficiency;
}

double CollectiveRunner::efficiency(int a, int b, const collective::ProtocolChoice& choice) const
{
  const auto& f = platform_.fabric();
  return efficiency(a, b) *
         choice.bandwidth_factor[f.node_of(a) == f.node_of(b) ? collective::scale_up : collective::scale_out];
}

double CollectiveRunner::software_latency(const collective::ProtocolChoice& choice, int steps) const
{
  return choice.protocol >= 0 ? choice.software_latency : steps * cal_.collective_step_latency_s;
}

collective::ProtocolChoice CollectiveRunner::choose(const collective::Call& call, double& cost) const
{
  cost = 0;
  if (!nccl_)
    return {};
  collective::ProtocolChoice c = collective::choose_protocol(cal_.protocols, call);
  cost = c.time - collective::ideal_time(call, cal_.collective_step_latency_s);
  return c;
}

double CollectiveRunner::ring_latency(const std::vector<std::vector<int>>& groups) const
{
  double max_latency = 0;
  for (const auto& g : groups)
    for (size_t i = 0; i < g.size(); ++i)
      max_latency = std::max(max_latency, platform_.route_latency(g[i], g[(i + 1) % g.size()]));
  return max_latency;
}

double CollectiveRunner::run(const std::vector<std::vector<int>>& groups, collective::CollectiveKind kind, double bytes,
                             double max_latency, const std::vector<std::vector<char>>* keep)
{
  if (groups.empty() || groups.front().size() < 2)
    return 0;
  const int p = static_cast<int>(groups.front().size());
  // The members' node layout (groups of one call are rails: translates with the same layout).
  std::vector<int> nodes;
  {
    std::map<int, int> number;
    for (int a : groups.front())
      nodes.push_back(number.emplace(platform_.fabric().node_of(a), static_cast<int>(number.size())).first->second);
  }
  // Expanding (and aggregating) a ring of hundreds of members costs O(p^2); buckets repeat, so expand once.
  auto key = std::make_tuple(static_cast<int>(kind), p, bytes, nodes);
  auto it = schedules_.find(key);
  if (it == schedules_.end()) {
    collective::Topology topo = topology_;
    topo.node_of = nodes;
    const auto& fabric = platform_.fabric();
    std::vector<topology::Hop> hops;
    for (int a : groups.front())
      topo.leaf_of.push_back(fabric.leaf_of(a));
    // The leaves' uplink trunk: the first leaf-uplink hop of a route between members on two leaves.
    {
      const int a = groups.front().front();
      for (int b : groups.front())
        if (fabric.leaf_of(b) != fabric.leaf_of(a)) {
          fabric.route(a, b, hops);
          for (const auto& h : hops)
            if (fabric.links()[static_cast<size_t>(h.link)].kind == topology::LinkKind::leaf_uplink) {
              topo.leaf_uplink_bandwidth = fabric.links()[static_cast<size_t>(h.link)].bandwidth *
                                           cal_.scale_out_bus_efficiency / trunk_sharers_;
              break;
            }
          break;
        }
    }
    Expanded e;
    e.schedule = algorithm_->expand(kind, p, bytes, topo);
    if (algorithm_->name() == "auto" && core::logger("sim")->should_log(spdlog::level::debug))
      core::logger("sim")->debug(
          "auto runs {} of {} bytes over {} members on {} nodes as {}", collective::to_string(kind), bytes, p,
          std::set<int>(nodes.begin(), nodes.end()).size(), collective::auto_choice(kind, p, bytes, topo));
    e.ring_neighbour_only = e.schedule.ring_neighbour_only(p);
    e.link_bytes = busiest_member_bytes(e.schedule, p);
    e.nodes = static_cast<int>(std::set<int>(nodes.begin(), nodes.end()).size());
    if (aggregate_)
      e.schedule = collective::aggregate(e.schedule);
    if (!e.ring_neighbour_only) {
      // The steps a merged phase stands for pay the longest route among its pairs; steps no phase
      // covers, the longest route of the schedule.
      const auto& g = groups.front();
      e.latency = 0;
      for (const auto& ph : e.schedule.phases) {
        std::set<std::pair<int, int>> pairs;
        for (const auto& t : ph.transfers)
          pairs.emplace(t.src, t.dst);
        double lat = 0;
        for (const auto& [a, b] : pairs)
          lat = std::max(lat, platform_.route_latency(g[static_cast<size_t>(a)], g[static_cast<size_t>(b)]));
        e.phase_latency.push_back(lat);
        e.latency = std::max(e.latency, lat);
      }
    }
    it = schedules_.emplace(key, std::move(e)).first;
  }
  const collective::Schedule& sched = it->second.schedule;
  const auto& phase_latency = it->second.phase_latency;
  if (!it->second.ring_neighbour_only) {
    keep = nullptr; // the mask describes ring-neighbour flows alone on their links
    max_latency = it->second.latency;
  }
  // Collective efficiency: NCCL's protocol for this call (its inter-node steps in proportion to the nodes a
  // ring crosses), its bandwidth share on each link class and its latencies.
  collective::Call call;
  call.steps = sched.latency_steps;
  call.scale_out_steps =
      it->second.nodes > 1 ? static_cast<int>(std::lround(call.steps * (it->second.nodes - 1.0) / (p - 1.0))) : 0;
  call.link = it->second.nodes > 1 ? collective::scale_out : collective::scale_up;
  call.link_bandwidth = ceiling(call.link);
  call.link_bytes = it->second.link_bytes;
  call.route_latency = max_latency;
  call.multi_node_all_reduce = kind == collective::CollectiveKind::all_reduce && it->second.nodes > 1;
  double cost = 0;
  const collective::ProtocolChoice choice = choose(call, cost);
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
        comms.push_back(
            sg4::Comm::sendto_async(platform_.host(a), platform_.host(b), t.bytes / efficiency(a, b, choice)));
        bytes_["dp"] += t.bytes;
      }
    transfers_ += static_cast<long>(comms.size());
    sg4::Comm::wait_all(comms);
  }
  // Flows paid one route latency per phase; the algorithm pays one per step, plus software latency.
  double extra = 0;
  int covered = 0;
  for (size_t k = 0; k < sched.phases.size(); ++k) {
    extra += (sched.phases[k].steps - 1) * (phase_latency.empty() ? max_latency : phase_latency[k]);
    covered += sched.phases[k].steps;
  }
  extra += (sched.latency_steps - static_cast<double>(covered)) * max_latency +
           software_latency(choice, sched.latency_steps);
  if (extra > 0)
    sg4::this_actor::sleep_for(extra);
  return cost;
}

CollectiveRunner::Shares CollectiveRunner::ring_shares_start(const std::vector<std::pair<int, int>>& pairs,
                                                             double bytes, int steps, double latency, const char* use)
{
  Shares sh;
  if (!pairs.empty()) {
    collective::Call call;
    call.steps = steps;
    const auto& f = platform_.fabric();
    call.link = f.node_of(pairs.front().first) == f.node_of(pairs.front().second) ? collective::scale_up
                                                                                  : collective::scale_out;
    call.scale_out_steps = call.link == collective::scale_out ? steps : 0;
    call.link_bandwidth = ceiling(call.link);
    call.link_bytes = bytes;
    call.route_latency = latency;
    sh.choice = choose(call, sh.cost);
  }
  sh.comms.reserve(pairs.size());
  for (const auto& [from, to] : pairs)
    sh.comms.push_back(
        sg4::Comm::sendto_async(platform_.host(from), platform_.host(to), bytes / efficiency(from, to, sh.choice)));
  transfers_ += static_cast<long>(sh.comms.size());
  bytes_[use] += bytes * static_cast<double>(pairs.size());
  return sh;
}

void CollectiveRunner::ring_shares_finish(Shares& shares, int steps, double lat)
{
  sg4::Comm::wait_all(shares.comms);
  const double extra = (steps - 1) * lat + software_latency(shares.choice, steps);
  if (extra > 0)
    sg4::this_actor::sleep_for(extra);
}

double CollectiveRunner::ring_shares(const std::vector<std::pair<int, int>>& pairs, double bytes, int steps, double lat,
                                     const char* use)
{
  Shares sh = ring_shares_start(pairs, bytes, steps, lat, use);
  ring_shares_finish(sh, steps, lat);
  return sh.cost;
}

} // namespace trainsim::sim
