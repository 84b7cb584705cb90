#pragma once
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

/// Reads /parallelism/schedule and /parallelism/layer_split (docs/pipeline.md) into `p`; call before
/// r.finish().
void parse_pipeline_keys(JsonReader& r, Parallelism& p);

/// Checks the schedule against the rest of the scenario and resolves the layers of every virtual stage
/// (Parallelism::layer_split): the even split, first/last_stage_layers (Megatron-core's
/// num_layers_in_first/last_pipeline_stage, with vpp too), DeepSpeed's balanced partition, or a list.
/// Throws core::ConfigError naming the key when no such split exists.
void resolve_pipeline(Scenario& s);

/// DeepSpeed's partition_balanced: contiguous parts of `weights`, each part at least one item, that
/// minimise the heaviest part (binary search on it, then a greedy fill); returns the item count per part.
std::vector<int> partition_balanced(const std::vector<double>& weights, int parts);

/// Mixed pools: contiguous parts of `weights`, one per entry of `speeds` (at least one item each), that minimise
/// the slowest part's time (its weight over its speed); returns the item count per part.
std::vector<int> partition_by_speed(const std::vector<double>& weights, const std::vector<double>& speeds);

} // namespace trainsim::scenario
