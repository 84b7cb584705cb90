#include "Reuse.hpp"

#include <simgrid/plugins/energy.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

#include "CollectiveRunner.hpp"
#include "LinkLoad.hpp"
#include "trainsim/sim/Simulator.hpp"

namespace trainsim::sim {

namespace {

/// The members' flows of a data-parallel group: ring neighbours, or every pair for other algorithms.
void add_group(LinkLoad& load, const std::vector<int>& g, bool ring)
{
  const size_t n = g.size();
  for (size_t i = 0; i < n; ++i)
    if (ring)
      load.add(g[i], g[(i + 1) % n]);
    else
      for (size_t j = 0; j < n; ++j)
        load.add(g[i], g[j]);
}

/// The tensor-parallel ring shares of replica d at stage s (every rank in full fidelity, the representative's).
std::vector<std::pair<int, int>> tp_pairs(const topology::Placement& pl, bool full, int d, int s)
{
  std::vector<std::pair<int, int>> out;
  const int tp = pl.tp();
  if (tp < 2)
    return out;
  for (int t = 0; t < (full ? tp : 1); ++t)
    out.emplace_back(pl.accelerator({t, d, s}), pl.accelerator({(t + 1) % tp, d, s}));
  return out;
}

} // namespace

std::vector<std::vector<char>> tp_alone(const topology::Fabric& fabric, const topology::Placement& pl,
                                        const ReductionPlan& plan, const scenario::Scenario& s)
{
  const auto& p = s.parallelism;
  const int pp = pl.pp(), dp = pl.dp(), tp = pl.tp();
  const size_t R = plan.replicas.size();
  std::vector<std::vector<char>> alone(R, std::vector<char>(static_cast<size_t>(pp), 0));
  if (tp < 2)
    return alone;
  const bool ring = s.parallelism.collectives.at("dp") == "ring";
  constexpr int max_all_pairs = 64; // beyond, every pair of every group is too many routes: no TP reuse
  if (!ring && dp > max_all_pairs)
    return alone;
  LinkLoad load(fabric);
  const int lanes = plan.full ? tp : 1;
  for (int st = 0; st < pp; ++st) {
    if (dp > 1)
      for (int t : plan.rails) {
        std::vector<int> g;
        for (int d = 0; d < dp; ++d)
          g.push_back(pl.accelerator({t, d, st}));
        add_group(load, g, ring);
        const int expert_dp = p.dp / p.ep;
        if (p.ep > 1 && expert_dp > 1)
          for (int e = 0; e < p.ep; ++e) {
            std::vector<int> eg;
            for (int k = 0; k < expert_dp; ++k)
              eg.push_back(pl.accelerator({t, e + k * p.ep, st}));
            add_group(load, eg, ring);
          }
      }
    for (int d : plan.replicas)
      for (int t = 0; t < lanes; ++t) {
        const int self = pl.accelerator({t, d, st});
        for (int peer : {st + 1, st - 1, st == 0 ? pp - 1 : -1, st == pp - 1 ? 0 : -1})
          if (peer >= 0 && peer < pp && peer != st)
            load.add(self, pl.accelerator({t, d, peer}));
        if (p.ep > 1)
          for (int j = d / p.ep * p.ep; j < d / p.ep * p.ep + p.ep && j < dp; ++j)
            load.add(self, pl.accelerator({t, j, st}));
        if (p.cp > 1)
          load.add(self, pl.accelerator({t, (d / p.cp) * p.cp + (d % p.cp + 1) % p.cp, st}));
      }
    for (int d : plan.replicas)
      for (const auto& [a, b] : tp_pairs(pl, plan.full, d, st))
        load.add(a, b);
  }
  for (size_t r = 0; r < R; ++r)
    for (int st = 0; st < pp; ++st) {
      std::map<size_t, int> own;
      std::vector<size_t> links;
      for (const auto& [a, b] : tp_pairs(pl, plan.full, plan.replicas[r], st)) {
        links.clear();
        load.links(a, b, links);
        for (size_t l : links)
          ++own[l];
      }
      bool free = true;
      for (const auto& [l, n] : own)
        free = free && load.at(l) == n;
      alone[r][static_cast<size_t>(st)] = free ? 1 : 0;
    }
  return alone;
}

ReplayCache::ReplayCache(simgrid::s4u::Host* host, bool enabled, bool tp_alone)
    : host_(host), enabled_(enabled), tp_alone_(tp_alone), idle_w_(sg_host_get_wattmin_at(host, 0))
{
}

bool ReplayCache::replayable(const workload::Op& op, Key& key) const
{
  using workload::OpKind;
  if (!enabled_)
    return false;
  const bool shape =
      op.kind == OpKind::compute || op.kind == OpKind::optimizer || (op.kind == OpKind::tp_comm && tp_alone_);
  if (shape)
    key = {static_cast<int>(op.kind), op.seconds, op.kind == OpKind::tp_comm ? op.bytes : 0.0,
           op.kind == OpKind::tp_comm ? op.steps : 0};
  return shape;
}

const ReplayCache::Outcome* ReplayCache::find(const Key& key) const
{
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : &it->second;
}

void ReplayCache::advance(const Outcome& o)
{
  pending_ += o.duration;
  energy_ += o.dynamic_energy_j;
  replayed_ += o.activities;
}

void ReplayCache::flush()
{
  if (pending_ > 0)
    simgrid::s4u::this_actor::sleep_for(pending_);
  pending_ = 0;
}

double ReplayCache::take_energy()
{
  const double e = energy_;
  energy_ = 0;
  return e;
}

ReplayCache::Snapshot snapshot(const StageBreakdown& sum, const std::vector<std::pair<double, double>>* tp_busy,
                               simgrid::s4u::Host* host)
{
  ReplayCache::Snapshot b;
  b.t = simgrid::s4u::Engine::get_clock();
  b.compute = sum.compute;
  b.tp_comm = sum.tp_comm;
  b.optimizer = sum.optimizer;
  b.collective_efficiency = sum.collective_efficiency;
  b.energy = sg_host_get_consumed_energy(host);
  b.busy = tp_busy ? tp_busy->size() : 0;
  return b;
}

ReplayCache::Outcome measure(const ReplayCache::Snapshot& b, double split, const StageBreakdown& sum,
                             const std::vector<std::pair<double, double>>* tp_busy, simgrid::s4u::Host* host,
                             double idle_w, long activities, double tp_bytes)
{
  ReplayCache::Outcome o;
  const double t1 = simgrid::s4u::Engine::get_clock();
  o.duration = t1 - b.t;
  o.split = split - b.t;
  o.compute = sum.compute - b.compute;
  o.tp_comm = sum.tp_comm - b.tp_comm;
  o.optimizer = sum.optimizer - b.optimizer;
  o.collective_efficiency = sum.collective_efficiency - b.collective_efficiency;
  o.dynamic_energy_j = sg_host_get_consumed_energy(host) - b.energy - idle_w * o.duration;
  o.tp_bytes = tp_bytes;
  if (tp_busy && tp_busy->size() > b.busy) {
    o.busy = true;
    o.busy_a = tp_busy->back().first - b.t;
    o.busy_b = tp_busy->back().second - b.t;
  }
  o.activities = activities;
  return o;
}

void replay(const ReplayCache::Outcome& o, double t0, StageBreakdown& sum, CollectiveRunner& runner,
            std::vector<std::pair<double, double>>* tp_busy)
{
  sum.compute += o.compute;
  sum.tp_comm += o.tp_comm;
  sum.optimizer += o.optimizer;
  sum.collective_efficiency += o.collective_efficiency;
  if (o.tp_bytes > 0)
    runner.count_bytes("tp", o.tp_bytes);
  if (o.busy && tp_busy)
    tp_busy->emplace_back(t0 + o.busy_a, t0 + o.busy_b);
}

} // namespace trainsim::sim
