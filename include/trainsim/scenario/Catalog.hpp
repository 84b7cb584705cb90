#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/collective/Protocol.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

/// The calibrated parameter set (platforms/calibration.json): one set for every scenario.
struct Calibration {
  double gemm_efficiency = 0.8; ///< achievable fraction of dense peak on large GEMMs
  /// Fraction of an accelerator's best-shape matmul rate (its compute.matmul_max_fraction, MAMF) that a
  /// training step's 16-bit GEMMs reach; replaces gemm_efficiency on parts with a MAMF. 0: not used.
  double gemm_mamf_fraction = 0;
  double fp8_gemm_efficiency = 0.6;        ///< FP8 GEMMs (precision fp8): achievable fraction of the FP8 dense peak
  double attention_efficiency = 0.55;      ///< fused (flash) attention kernels, fraction of dense peak
  double batched_gemm_efficiency = 0.5;    ///< unfused attention score/context batched GEMMs
  double memory_efficiency = 0.8;          ///< achievable fraction of HBM bandwidth for memory-bound kernels
  double kernel_overhead_s = 4e-6;         ///< launch/tail overhead per kernel
  double scale_up_bus_efficiency = 0.8;    ///< collective bus-bandwidth efficiency on the scale-up fabric
  double scale_out_bus_efficiency = 0.9;   ///< collective bus-bandwidth efficiency on the scale-out fabric
  double collective_step_latency_s = 6e-6; ///< software latency per algorithm step (NCCL protocol)
  double p2p_latency_s = 10e-6;            ///< software latency per pipeline send/recv
  double memory_usable_fraction = 0.95;    ///< of HBM capacity, after the allocator's fragmentation
  double workspace_bytes = 3.0e9;          ///< framework workspace, NCCL buffers, CUDA context
  nlohmann::json network_model;            ///< SimGrid network options (name -> value)
  /// tp_comm_overlap: GEMMs run this much slower while a pipelined TP collective shares the SMs
  /// (time x (1 + slowdown)); docs/calibration.md.
  double tp_overlap_gemm_slowdown = 0.1;
  /// DualPipe: share of the SMs the all-to-all kernels hold while an overlapped forward & backward pair
  /// runs (DeepSeek-V3 sec. 3.2.2: 20 of the H800's 132); the pair's compute runs on the rest.
  double ep_overlap_comm_sm_share = 20.0 / 132.0;
  // At-scale mechanisms (calibration.json "at_scale"; docs/at-scale.md).
  double compute_jitter_mean = 0.0077; ///< mean per-rank, per-step compute slowdown (exponential), fraction
  double host_pass_overhead_s = 20e-6; ///< exposed host time per forward/backward pass of a micro-batch
  double host_step_overhead_s = 10e-3; ///< framework work per step outside the schedule
  double step_small_allreduces = 3;    ///< latency-bound all-reduces per step (grad norm, overflow, loss)
  /// Collective efficiency (calibration.json "collective_efficiency"; docs/at-scale.md): NCCL's protocols LL, LL128,
  /// Simple with their tuning-model figures. Empty: the mechanism is unavailable (alpha-beta bound).
  std::vector<collective::Protocol> protocols;
};

/// One year of China's generation mix (platforms/grids.json `china_generation_mix`): shares of generation.
struct GenerationMix {
  int year = 0;
  double coal_share = 0;   ///< coal's share of generation
  double fossil_share = 0; ///< all fossil generation's share
};

/// Catalogue of accelerators, grids, model presets and the calibration, read from platforms/.
class Catalog {
public:
  /// Loads from a directory holding accelerators.json, grids.json, models.json, calibration.json.
  static Catalog load(const std::string& dir);
  /// The directory in use: $TRAINSIM_PLATFORMS, else the source tree's platforms/, else ./platforms.
  static std::string default_dir();
  static const Catalog& instance();

  const nlohmann::json& accelerators() const { return accelerators_; }
  const nlohmann::json& grids() const { return grids_; }
  const nlohmann::json& models() const { return models_; }
  /// Fabric presets (platforms/fabrics.json): id -> {fabric, reference_cluster, sources}.
  const nlohmann::json& fabrics() const { return fabrics_; }
  /// Site presets (platforms/sites.json): id -> site keys (grid, cooling, ...) with their sources.
  const nlohmann::json& sites() const { return sites_; }
  /// Framework presets (platforms/frameworks.json): id -> {name, training, parallelism, zero3, sources}.
  const nlohmann::json& frameworks() const { return frameworks_; }
  const Calibration& calibration() const { return calibration_; }
  /// The failure model of a scenario without a `failures` block (platforms/failures.json).
  const Failures& failure_defaults() const { return failure_defaults_; }
  /// China's generation mix by year, ascending (empty when grids.json has none).
  const std::vector<GenerationMix>& generation_mix() const { return generation_mix_; }
  /// The row for `year`, else the nearest year (the later on a tie); nullptr when there is none.
  const GenerationMix* generation_mix_for(int year) const;

  std::vector<std::string> accelerator_ids() const;
  std::vector<std::string> grid_ids() const;
  std::vector<std::string> model_ids() const;
  std::vector<std::string> fabric_ids() const;
  std::vector<std::string> site_ids() const;

private:
  nlohmann::json accelerators_, grids_, models_;
  nlohmann::json fabrics_ = nlohmann::json::object();
  nlohmann::json sites_ = nlohmann::json::object();
  nlohmann::json frameworks_ = nlohmann::json::object();
  Calibration calibration_;
  Failures failure_defaults_;
  std::vector<GenerationMix> generation_mix_;
};

class JsonReader;

/// Parses one accelerator object in the catalogue schema (also used for inline objects in scenarios: then
/// `parent` is the reader of the scenario's /cluster, and the object's keys are checked against its
/// declaration, KeySchema.hpp).
Accelerator parse_accelerator(const nlohmann::json& object, const std::string& pointer, const std::string& id,
                              const Accelerator* base, const JsonReader* parent = nullptr);
/// The same for a grid object; `parent`: the reader of the scenario's /site for an inline grid.
Grid parse_grid(const nlohmann::json& object, const std::string& pointer, const std::string& id,
                const JsonReader* parent = nullptr);

} // namespace trainsim::scenario
