#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace trainsim::scenario {

enum class Precision { bf16, fp16, fp8 };
enum class Activation { gelu, swiglu };
enum class Recompute { none, selective, full };
enum class Attention { flash, standard };
enum class FabricType { fat_tree, rail_optimized };

const char* to_string(Precision p);
const char* to_string(Activation a);
const char* to_string(Recompute r);
const char* to_string(Attention a);
const char* to_string(FabricType f);

/// One accelerator model, all quantities in SI units (FLOP/s, bytes, bytes/s, W, s).
struct Accelerator {
  std::string id;
  std::string name;
  std::map<std::string, double> peak_flops; ///< precision name -> dense FLOP/s (absent: unsupported)
  double memory_bytes = 0;
  double memory_bandwidth = 0;
  double idle_power_w = 0;
  double peak_power_w = 0;
  std::string scale_up_type;
  double scale_up_bandwidth = 0; ///< per accelerator, per direction
  double scale_up_latency = 0;
  int accelerators_per_node = 8;
  double host_power_w = 0; ///< non-accelerator power of one node
  double nic_bandwidth = 0;

  /// Dense peak for a precision; 0 when the device does not support it.
  double peak(Precision p) const;
};

struct ScaleUp {
  std::string type;
  double bandwidth = 0; ///< per accelerator, per direction
  double latency = 0;
  bool nvls = false;    ///< the scale-up switch reduces in the network (NVLink SHARP)
};

struct Fabric {
  FabricType type = FabricType::fat_tree;
  double nic_bandwidth = 0; ///< per accelerator, per direction
  int tiers = 2;
  double oversubscription = 1.0; ///< downlink:uplink at the leaf tier (3 means 3:1)
  double latency = 0;            ///< per link hop
  int switch_radix = 64;
  bool in_network_reduction = false; ///< the switches reduce in the network (SHARP)
};

struct Cluster {
  Accelerator accelerator;
  int nodes = 0;
  int accelerators_per_node = 0;
  ScaleUp scale_up;
  Fabric fabric;
  double host_power_w = 0; ///< per node, non-accelerator
  long total_accelerators() const { return static_cast<long>(nodes) * accelerators_per_node; }
};

struct Model {
  std::string name;
  int layers = 0;
  int hidden_size = 0;
  int attention_heads = 0;
  int kv_heads = 0;
  int ffn_hidden_size = 0;
  int vocab_size = 0;
  int seq_length = 0;
  Activation activation = Activation::gelu;
  double dropout = 0.0; ///< hidden/attention dropout probability (adds memory-bound kernels when > 0)
};

struct Training {
  long global_batch_size = 0;
  int micro_batch_size = 1;
  double tokens = 0; ///< token budget for time-to-train
  Precision precision = Precision::bf16;
  Recompute recompute = Recompute::none;
  Attention attention = Attention::flash;
  int grad_reduce_bytes = 2; ///< bytes per gradient element in the DP reduction (2: bf16/fp16, 4: fp32)
};

struct Parallelism {
  int tp = 1;
  int pp = 1;
  int dp = 1;
  int vpp = 1;
  bool sequence_parallel = false;
  int zero_stage = 0;
  bool overlap_grad_reduce = true;
  double grad_bucket_bytes = 0; ///< DP gradient bucket size
  /// Collective algorithm per use ("dp", "tp"), a name from the collective registry.
  std::map<std::string, std::string> collectives{{"dp", "ring"}, {"tp", "ring"}};
};

struct Grid {
  std::string id;
  std::string name;
  double co2_kg_per_kwh = 0;
  std::optional<double> coal_share;
  std::optional<double> fossil_co2_kg_per_kwh;
};

struct Site {
  double pue = 1.0;
  Grid grid;
};

struct Simulation {
  int steps = 1;            ///< steps to simulate; with steps_auto, the most to simulate
  bool steps_auto = false;  ///< simulate until two consecutive steps agree (steady state)
  std::string fidelity = "auto"; ///< "auto", "full" or "reduced" (see sim::Fidelity)
  std::uint64_t seed = 1;
};

/// A published measurement the scenario reproduces (validation cases).
struct Reference {
  double step_time_s = 0;
  std::string source;
};

struct Scenario {
  int schema_version = 1;
  std::string name;
  Cluster cluster;
  Model model;
  Training training;
  Parallelism parallelism;
  Site site;
  Simulation simulation;
  std::optional<Reference> reference;

  long micro_batches_per_replica() const
  {
    return training.global_batch_size / (static_cast<long>(parallelism.dp) * training.micro_batch_size);
  }
  double tokens_per_step() const
  {
    return static_cast<double>(training.global_batch_size) * model.seq_length;
  }
};

} // namespace trainsim::scenario
