#include "trainsim/scenario/Scenario.hpp"

#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::scenario {

const char* to_string(Precision p)
{
  switch (p) {
  case Precision::bf16:
    return "bf16";
  case Precision::fp16:
    return "fp16";
  case Precision::fp8:
    return "fp8";
  }
  return "?";
}
const char* to_string(Activation a)
{
  return a == Activation::gelu ? "gelu" : a == Activation::swiglu ? "swiglu" : "squared_relu";
}
const char* to_string(Recompute r)
{
  return r == Recompute::none ? "none" : r == Recompute::selective ? "selective" : "full";
}
const char* to_string(Attention a)
{
  return a == Attention::flash ? "flash" : "standard";
}
double Accelerator::peak(Precision p) const
{
  auto it = peak_flops.find(to_string(p));
  return it == peak_flops.end() ? 0.0 : it->second;
}

double Cluster::mean_peak(Precision p) const
{
  if (pools.empty())
    return accelerator.peak(p);
  double sum = 0;
  for (const auto& pool : pools)
    sum += pool.nodes * pool.accelerator.peak(p);
  return nodes > 0 ? sum / nodes : 0.0;
}

std::vector<int> Scenario::stage_pools(int stage) const
{
  std::vector<int> out;
  if (!cluster.mixed() || cluster.accelerators_per_node < 1)
    return out;
  const long per_stage = static_cast<long>(parallelism.tp) * grad_replicas();
  const long first = stage * per_stage, last = first + per_stage - 1;
  const int a = cluster.pool_of_node(static_cast<int>(first / cluster.accelerators_per_node));
  const int b = cluster.pool_of_node(static_cast<int>(last / cluster.accelerators_per_node));
  for (int k = a; k <= b; ++k)
    out.push_back(k);
  return out;
}

int Scenario::pacing_pool(int stage) const
{
  int best = -1;
  for (int k : stage_pools(stage))
    if (best < 0 || cluster.pools[static_cast<size_t>(k)].accelerator.peak(training.precision) <
                        cluster.pools[static_cast<size_t>(best)].accelerator.peak(training.precision))
      best = k;
  return best;
}

Scenario stage_view(const Scenario& s, int stage)
{
  Scenario v = s;
  const int k = s.pacing_pool(stage);
  if (k >= 0) {
    const auto& pool = s.cluster.pools[static_cast<size_t>(k)];
    v.cluster.accelerator = pool.accelerator;
    v.cluster.scale_up = pool.scale_up;
  }
  return v;
}

nlohmann::json to_json(const Scenario& s)
{
  return dump_of(s); // every field from the declaration of its key (src/scenario/Keys*.cpp)
}

} // namespace trainsim::scenario
