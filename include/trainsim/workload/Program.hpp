#pragma once
#include <string>
#include <vector>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/Memory.hpp"
#include "trainsim/workload/ModelShape.hpp"

namespace trainsim::workload {

enum class OpKind {
  compute,        ///< kernels on the accelerator: `seconds`
  tp_comm,        ///< blocking tensor-parallel ring traffic: `bytes` per rank over `steps` ring steps
  recv,           ///< blocking receive of `bytes` from pipeline stage `peer` (mailbox `tag`)
  send,           ///< asynchronous send of `bytes` to pipeline stage `peer` (mailbox `tag`)
  grad_bucket,    ///< hand a gradient bucket of `bytes` to the data-parallel stream (asynchronous)
  grad_wait,      ///< wait until every gradient bucket of this step is reduced
  optimizer,      ///< optimizer step: `seconds`
  ep_comm,        ///< blocking expert-parallel all-to-alls: `bytes` this rank sends to its group over `steps` of them
  param_prefetch, ///< ZeRO-3/FSDP: hand the all-gather of one unit's `bytes` (whole unit) to the parameter stream
                  ///< (asynchronous)
  param_wait,     ///< ZeRO-3/FSDP: wait until the first `steps` parameter all-gathers of this step are done
  param_gather,   ///< distributed optimizer: all-gather of updated parameters, `bytes` per rank (blocking;
                  ///< with `steps` 1 handed to the DP stream and waited with the next step's gradients)
  cp_comm,        ///< context-parallel ring attention: `seconds` of attention compute overlapped with `bytes`
                  ///< sent to the CP ring neighbour over `steps` ring steps; only the excess is exposed.
                  ///< `seconds` 0 (cp_comm_type all_gather): blocking ring all-gathers / reduce-scatters over
                  ///< the CP group, `bytes` per rank over `steps` ring steps, all exposed
};

/// HSDP (fsdp_shard_group): which data-parallel groups a grad_bucket or parameter all-gather runs over.
enum class DpGroup {
  all,    ///< every dp*cp rank of the stage (and rail)
  shard,  ///< the fsdp_shard_group consecutive ranks a parameter is sharded over
  replica ///< the ranks holding the same shard, one per shard group (an all-reduce)
};

/// Which pass an op belongs to (for the breakdown and traces).
enum class Pass { forward, backward, step };

struct Op {
  OpKind kind = OpKind::compute;
  Pass pass = Pass::forward;
  double seconds = 0;
  double bytes = 0;
  int steps = 0;
  int peer = -1;
  int microbatch = -1;
  int chunk = 0;
  std::string tag;
  bool expert = false;   ///< grad_bucket / param_gather: routed experts' state, over the expert-data-parallel group
  double nic_bytes = -1; ///< ep_comm, node-limited routing: of `bytes`, those over the NIC (-1: direct to every member)
  DpGroup group = DpGroup::all; ///< grad_bucket: HSDP's shard or replica groups (param_prefetch: StreamPlan)
  bool blocking = false;        ///< send/recv: the sender waits until its receiver has the message (pipeline_p2p)
  // tp_comm with `seconds` > 0 (tp_comm_overlap): the ring traffic runs concurrently with these seconds of
  // the GEMMs it is pipelined with (taken out of the preceding compute op), both sharing the time.
};

/// The program one representative rank of a pipeline stage runs for one step.
struct StageProgram {
  int stage = 0;
  std::vector<Op> ops;
  double compute_s = 0; ///< sum of compute and optimizer seconds
};

enum class GradCollective { all_reduce, reduce_scatter };

/// The communication streams the programs use, decided once by build_workload (and checked by
/// check_programs): the simulator creates exactly these, never re-deriving them from the scenario.
struct StreamPlan {
  bool grad = false;   ///< the data-parallel stream (gradient buckets, parameter all-gathers) over dp*cp ranks
  bool params = false; ///< ZeRO-3/FSDP: the parameter all-gather stream (param_prefetch, param_wait)
  int expert_dp = 1;   ///< members of an expert-data-parallel group (dp*cp / ep); expert jobs need > 1
  int shard = 0; ///< HSDP: members of a shard group (fsdp_shard_group; parameter all-gathers run over them); 0: none
};

/// The pipeline schedule as laid out (docs/pipeline.md): for the report and the closed-form bubble.
struct PipelineSummary {
  std::string schedule;
  std::vector<int> layers_per_virtual_stage; ///< in virtual-stage order (the chain a micro-batch walks)
  std::vector<int> layers_per_stage;         ///< per pipeline rank, all its chunks
  /// Per micro-batch and stage (all chunks), mean over the stages: forward, input-gradient backward (with
  /// recompute) and weight-gradient backward seconds.
  double forward_s = 0, backward_input_s = 0, backward_weight_s = 0;
  /// The busiest stage's time over the mean stage's (1: equal stages): it paces the steady state when the
  /// split leaves the stages unequal. Here from the passes' compute; the run's metrics take it from the
  /// simulated stages' compute and blocking communication (metrics::compute).
  double stage_imbalance = 1;
  double bubble_closed_form = 0; ///< the schedule's closed-form bubble fraction (bubble_closed_form())
};

/// The 16-bit GEMMs of a step under the shape-aware ceiling (docs/calibration.md#gemm-ceiling), for the report.
struct GemmSummary {
  bool ceiling = false; ///< the accelerator's ceiling applied (/simulation/gemm_ceiling and the catalogue fields)
  int sm_count = 0;
  double matmul_max_fraction = 0;
  /// FLOP-weighted fraction of the peak the 16-bit GEMMs' compute runs at (gemm_efficiency without the ceiling).
  double efficiency = 0;
  /// Per step and rank, mean over the stages: their time minus their time at matmul_max_fraction (what tile
  /// and wave quantisation cost), hidden or not; 0 without the ceiling.
  double shape_cost_s = 0;
};

/// Everything the simulator needs, derived from the scenario: no SimGrid here.
struct Workload {
  ModelShape shape;
  MemoryBreakdown memory;
  std::vector<StageProgram> stages;
  GradCollective grad_collective = GradCollective::all_reduce;
  double model_flops_per_step = 0;
  double hardware_flops_per_step = 0;
  long microbatches = 0;
  double clock = 1.0;                     ///< DVFS state compute runs at (power.clock, lowered under power.cap)
  double compute_activity = 1.0;          ///< fraction of the accelerator's dynamic power range while computing
  StreamPlan streams;                     ///< the communication streams the programs use (read by the simulator)
  PipelineSummary pipeline;               ///< schedule, layer split and closed-form bubble
  double model_flops_per_step_causal = 0; ///< attention counted causally (ModelShape)
  GemmSummary gemm;                       ///< the 16-bit GEMMs' efficiency and shape cost

  /// False for build_workload_figures' workload: every figure, no programs (stages empty).
  bool has_programs() const { return !stages.empty(); }
};

/// The streams a scenario's programs use (Workload::streams).
StreamPlan plan_streams(const scenario::Scenario& s);
/// Builds the per-stage programs and checks them (check_programs). Throws core::InfeasibleError when the
/// model does not fit in memory.
Workload build_workload(const scenario::Scenario& s, const scenario::Calibration& cal);
/// Every figure of build_workload's workload but the programs (stages empty), bit for bit: shape, memory,
/// FLOPs, micro-batches, streams, pipeline summary, and the clock and compute activity, whose compute seconds
/// are summed over the programs' ops as they are built and dropped. For the metrics of a step that the
/// simulation extrapolates from fewer micro-batches (sim::simulate builds and checks the programs of the
/// counts it simulates, and the whole program if it must simulate the whole step after all). Throws as
/// build_workload does when the model does not fit in memory.
Workload build_workload_figures(const scenario::Scenario& s, const scenario::Calibration& cal);
/// FLOP utilisation of the compute state: hardware FLOPs per rank over compute-op seconds x peak at the clock.
double compute_state_utilisation(const scenario::Scenario& s, const Workload& w);

} // namespace trainsim::workload
