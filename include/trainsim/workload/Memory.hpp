#pragma once
#include <string>
#include <vector>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/workload/ModelShape.hpp"

namespace trainsim::workload {

/// Memory of one accelerator on its busiest pipeline stage, in bytes.
struct MemoryBreakdown {
  int stage = 0;
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double activations = 0;
  double workspace = 0;
  double capacity = 0; ///< usable HBM (capacity x usable fraction)
  int pool = -1;       ///< mixed pools: the pool whose memory `capacity` is (-1: the cluster's accelerator)
  double total() const { return weights + gradients + optimizer + activations + workspace; }
  std::string describe() const;
};

/// Parameters one TP rank of pipeline stage `stage` holds (of one model chunk when `chunk` >= 0), routed
/// experts included (sharded over the expert-parallel ranks).
double stage_params_per_rank(const scenario::Scenario& s, const ModelShape& shape, int stage, int chunk = -1);
/// Of those, the routed experts' parameters (their gradients reduce over the expert-data-parallel group).
double stage_expert_params_per_rank(const scenario::Scenario& s, const ModelShape& shape, int stage, int chunk = -1);
/// MoE layers of a stage (of one chunk when `chunk` >= 0).
int stage_moe_layers(const scenario::Scenario& s, int stage, int chunk = -1);

/// ZeRO-3 / FSDP units of one model chunk (virtual stage `chunk` of pipeline stage `stage`): the parameters
/// one TP rank holds per unit, in execution order. A unit is one transformer layer; the embedding joins the
/// first unit of the first virtual stage and the tied output copy the last unit of the last (docs/parallelism.md).
std::vector<double> zero3_units(const scenario::Scenario& s, const ModelShape& shape, int stage, int chunk);

/// Korthikanti et al. (2022) activation memory, generalised to GQA/SwiGLU, with the 1F1B in-flight count.
MemoryBreakdown estimate_memory(const scenario::Scenario& s, const ModelShape& shape, const scenario::Calibration& cal);

/// Throws core::InfeasibleError with the per-component breakdown when the busiest stage does not fit.
void check_fits(const MemoryBreakdown& m, const scenario::Scenario& s);

} // namespace trainsim::workload
