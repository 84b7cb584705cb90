#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trainsim::scenario {

enum class Precision { bf16, fp16, fp8 };
enum class Activation { gelu, swiglu, squared_relu };
enum class Recompute { none, selective, full };
enum class Attention { flash, standard };

const char* to_string(Precision p);
const char* to_string(Activation a);
const char* to_string(Recompute r);
const char* to_string(Attention a);

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
  /// Shape-aware GEMM ceiling (docs/calibration.md#gemm-ceiling): streaming multiprocessors and the measured
  /// best-shape matmul fraction of the 16-bit dense peak (the GEMMs run at the calibration's gemm_mamf_fraction of
  /// it); 0: unknown (calibration gemm_efficiency applies).
  int sm_count = 0;
  double matmul_max_fraction = 0;
  /// Fused (flash) attention's fraction of the 16-bit dense peak on this part (docs/calibration.md); 0: the
  /// calibration's attention_efficiency applies.
  double attention_efficiency = 0;

  /// Dense peak for a precision; 0 when the device does not support it.
  double peak(Precision p) const;
};

struct ScaleUp {
  std::string type;
  double bandwidth = 0; ///< per accelerator, per direction
  double latency = 0;
  bool nvls = false; ///< the scale-up switch reduces in the network (NVLink SHARP)
};

struct Fabric {
  std::string type = "fat_tree"; ///< a registered fabric model (topology/FabricRegistry.hpp)
  double nic_bandwidth = 0;      ///< per accelerator, per direction
  int tiers = 2;
  double oversubscription = 1.0; ///< downlink:uplink at the leaf tier (3 means 3:1)
  double latency = 0;            ///< per link hop
  int switch_radix = 64;
  /// Per switch tier, bottom up (leaf, spine): downlink:uplink; a scalar `oversubscription` gives {o, 1}.
  std::vector<double> tier_oversubscription;
  std::string preset;                ///< platforms/fabrics.json entry the keys were resolved from ("" for none)
  nlohmann::json params;             ///< model-specific keys (planes, ecmp_paths, groups, dims, ...), preset merged
  std::vector<std::string> given;    ///< the common keys written in the scenario or the preset (tiers, ...)
  bool in_network_reduction = false; ///< the switches reduce in the network (SHARP)
};

/// One node pool of a cluster of mixed accelerators (/cluster/pools/N, docs/cluster.md "One job over mixed
/// pools"): consecutive nodes of one accelerator type with their own scale-up domain, on the shared fabric.
struct Pool {
  std::string name; ///< /cluster/pools/N/name (the accelerator's id unless given)
  Accelerator accelerator;
  int nodes = 0;
  ScaleUp scale_up;
  double host_power_w = 0; ///< per node, non-accelerator
  int first_node = 0;      ///< the pool's first node (pools follow each other in node order)
};

struct Cluster {
  Accelerator accelerator; ///< with pools: the first pool's (the others are in `pools`)
  int nodes = 0;
  int accelerators_per_node = 0;
  ScaleUp scale_up; ///< with pools: the first pool's
  Fabric fabric;
  double host_power_w = 0; ///< per node, non-accelerator (with pools: the mean over the nodes)
  std::vector<Pool> pools; ///< mixed accelerators, in node order; empty: every node holds `accelerator`
  long total_accelerators() const { return static_cast<long>(nodes) * accelerators_per_node; }
  bool mixed() const { return !pools.empty(); }
  /// The pool holding node `node` (0 without pools).
  int pool_of_node(int node) const
  {
    int k = 0;
    while (k + 1 < static_cast<int>(pools.size()) && node >= pools[static_cast<size_t>(k + 1)].first_node)
      ++k;
    return k;
  }
  /// The scale-up interconnect of node `node`: its pool's.
  const ScaleUp& scale_up_of_node(int node) const
  {
    return pools.empty() ? scale_up : pools[static_cast<size_t>(pool_of_node(node))].scale_up;
  }
  /// Peak FLOP/s at a precision, the mean over the accelerators (the accelerator's without pools).
  double mean_peak(Precision p) const;
};

/// Mixture-of-experts FFN (absent: every layer has a dense FFN). docs/moe.md.
struct Moe {
  int experts = 0;        ///< routed experts per MoE layer (0: dense model)
  int top_k = 1;          ///< routed experts each token is sent to
  int shared_experts = 0; ///< always-active experts of expert_ffn_hidden_size each
  int expert_ffn_hidden_size = 0;
  int first_dense_layers = 0;            ///< the first layers keep a dense FFN of ffn_hidden_size
  double load_imbalance = 1.0;           ///< tokens of the busiest expert rank over the mean (>= 1)
  std::optional<double> capacity_factor; ///< tokens beyond factor x mean are dropped (absent: dropless)
  int dispatch_bytes = 2;                ///< bytes per element of the dispatch all-to-all (1: FP8 dispatch)
  /// Node-limited routing (DeepSeek-V3): a token's experts lie on at most this many nodes, and dispatch sends
  /// one copy per target node over the NIC, forwarded inside the node over the scale-up fabric (absent: no limit).
  std::optional<int> max_nodes_per_token;
  bool enabled() const { return experts > 0; }
  /// Busiest expert rank's load over the mean, after capacity dropping.
  double busiest_load() const { return capacity_factor ? std::min(load_imbalance, *capacity_factor) : load_imbalance; }
};

/// Multi-head latent attention (DeepSeek-V2/V3): low-rank query and joint KV compression. docs/moe.md.
struct Mla {
  int q_lora_rank = 0;      ///< query latent (0: no query compression, a full-rank query projection)
  int kv_lora_rank = 0;     ///< joint key/value latent, the compressed KV
  int qk_nope_head_dim = 0; ///< per-head query/key dimensions without rotary embedding
  int qk_rope_head_dim = 0; ///< per-head query/key dimensions with rotary embedding (the key's shared by all heads)
  int v_head_dim = 0;       ///< per-head value dimension
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
  Moe moe;
  std::optional<Mla> mla; ///< attention_type "mla" (absent: multi-head / grouped-query attention)
  int mtp_depth = 0;      ///< multi-token prediction modules on the last stage (DeepSeek-V3: 1)
  /// Attention and MLP side by side on one normalised input (GPT-J, PaLM): one TP reduction per layer and pass.
  bool parallel_block = false;
  int sliding_window = 0; ///< tokens each query attends to (Mistral); 0: the whole causal context
  /// Keys a query attends to on average under the non-causal MFU convention: the window, at most the sequence.
  double attended_keys() const
  {
    return sliding_window > 0 && sliding_window < seq_length ? sliding_window : seq_length;
  }
  bool is_moe_layer(int layer) const { return moe.enabled() && layer >= moe.first_dense_layers; }
};

struct Training {
  long global_batch_size = 0;
  int micro_batch_size = 1;
  double tokens = 0; ///< token budget for time-to-train
  Precision precision = Precision::bf16;
  Recompute recompute = Recompute::none;
  Attention attention = Attention::flash;
  int grad_reduce_bytes = 2; ///< bytes per gradient element in the DP reduction (2: bf16/fp16, 4: fp32)
  /// "fused": the backward accumulates straight into the gradient buffer (Megatron's fp32 main_grad through
  /// gradient_accumulation_fusion); "cast_add": after every micro-batch's backward each 16-bit gradient is
  /// cast to fp32 and added into an fp32 copy (DeepSpeed's BF16Optimizer.update_hp_grads), a memory-bound
  /// pass of 18 bytes per parameter (docs/frameworks.md).
  std::string grad_accumulation = "fused";
  /// FP8 primary weights (NeMo fp8_params, Megatron --fp8-param-gather): the linear layers' weights are kept
  /// in FP8 (with Transformer Engine's transpose cache) instead of 16-bit plus an FP8 cache; precision fp8 only.
  bool fp8_params = false;
  /// Selective recompute: what is recomputed (Megatron-core --recompute-modules); default core_attn only.
  struct RecomputeModules {
    bool core_attn = true;    ///< the attention core (scores, softmax; fused attention does it anyway)
    bool layernorm = false;   ///< the normalisations (their outputs, the GEMM inputs, are not kept)
    bool mla_up_proj = false; ///< MLA's query and key/value up-projections (Q, K, V are not kept)
    /// The routed and shared experts' activation function (SwiGLU): its input is kept, its output (the
    /// down-projection's input) recomputed in backward (Megatron-core "moe_act"; DeepSeek-V3 sec. 3.3.3).
    bool moe_act = false;
  } recompute_modules;
  bool fp8_blockwise = false; ///< fp8_recipe "blockwise": 1x128 activation tiles, 128x128 weight blocks (DeepSeek-V3)
  /// training.framework: the stack whose defaults apply (platforms/frameworks.json); empty: none.
  std::string framework;
};

struct Parallelism {
  int tp = 1;
  int pp = 1;
  int dp = 1;
  int vpp = 1;
  int ep = 1; ///< expert parallel: routed experts sharded over ep data-parallel ranks (divides dp)
  /// Uneven pipeline split (Megatron's decoder_first/last_pipeline_num_layers), vpp 1 only; 0: even share.
  int first_stage_layers = 0;
  int last_stage_layers = 0;
  int cp = 1; ///< context parallel: each rank holds seq/cp tokens (ring attention); world = tp*cp*dp*pp
  /// How the context-parallel ranks exchange K/V (Transformer Engine's cp_comm_type): "p2p" (the ring, beside the
  /// attention blocks) or "all_gather" (Llama 3: K/V all-gathered before attention, dK/dV reduce-scattered after,
  /// exposed). Ignored with cp 1.
  std::string cp_comm_type = "p2p";
  bool sequence_parallel = false;
  int zero_stage = 0;
  bool overlap_grad_reduce = true;
  /// Distributed optimizer: the all-gather of updated parameters overlaps the next step's forward pass
  /// (Megatron --overlap-param-gather, NeMo's default with the distributed optimizer) instead of blocking.
  bool overlap_param_gather = false;
  double grad_bucket_bytes = 0; ///< DP gradient bucket size
  /// Collective algorithm per use ("dp", "tp"), a name from the collective registry.
  std::map<std::string, std::string> collectives{{"dp", "ring"}, {"tp", "ring"}};
  bool fsdp = false;            ///< FSDP full-shard: the ZeRO-3 schedule (zero_stage is 3 when set)
  int zero_prefetch = 1;        ///< ZeRO-3/FSDP: parameter all-gathers in flight ahead of the unit computing
  bool tp_comm_overlap = false; ///< TP all-gather/reduce-scatter pipelined with the adjacent GEMMs (userbuffers)
  /// Megatron's overlap_p2p_comm (interleaved schedule): each pipeline receive is posted one pass ahead, so the
  /// transfer runs beside the pass before the one that needs it.
  bool overlap_p2p_comm = false;
  /// Without sequence parallelism: a column-parallel linear's input-gradient all-reduce runs beside its
  /// weight-gradient GEMM (Megatron-LM since September 2021; false: the 2021 code's blocking all-reduce).
  bool tp_async_allreduce = true;
  // Pipeline schedules and layer splits (docs/pipeline.md).
  std::string schedule = "1f1b"; ///< a name of workload/PipelineSchedule.hpp's registry (vpp > 1: "interleaved")
  bool schedule_given = false;   ///< /parallelism/schedule was in the file (else derived from vpp)
  /// "async" (a send returns at once) or "blocking" (DeepSpeed's pipeline engine, dist.send/recv: a send waits
  /// for its receiver, in TrainSchedule's exchange order; docs/pipeline.md).
  std::string pipeline_p2p = "async";
  std::vector<int> layer_split; ///< layers per virtual stage, resolved at parse (empty: even split)
  std::string split = "even";   ///< /parallelism/layer_split: "even", "balanced" or "list" (counts given)
  /// DualPipe (DeepSeek-V3 sec. 3.2.1): micro-batches enter from both ends; each rank holds two model chunks.
  bool dualpipe() const { return schedule == "dualpipe"; }
  /// ZB-V (Qi et al. 2024): vpp 2 chunks placed in a V, neighbours on the turn (rank pp - 1) in memory.
  bool v_shape() const { return schedule == "zb-v"; }
  /// Model chunks a rank runs: vpp, or DualPipe's two (one per direction).
  int chunks() const { return dualpipe() ? 2 : vpp; }
  /// Placement of virtual stages (interleaved: chunk c of stage s is virtual stage c*pp + s). DualPipe: the
  /// model is split into pp virtual stages (vpp 1); chunk 0 of rank s is virtual stage s (the direction
  /// entering at rank 0), chunk 1 is virtual stage pp - 1 - s (the direction entering at rank pp - 1).
  /// ZB-V (Qi et al. 2024, vpp 2): a V, chunk 0 of rank s is virtual stage s, chunk 1 is 2 pp - 1 - s.
  int virtual_stage(int stage, int chunk) const
  {
    if (dualpipe())
      return chunk == 0 ? stage : pp - 1 - stage;
    if (v_shape())
      return chunk == 0 ? stage : 2 * pp - 1 - stage;
    return chunk * pp + stage;
  }
  /// The rank and chunk of a virtual stage (DualPipe: those of the direction entering at rank 0).
  int stage_of_virtual(int v) const { return v_shape() && v >= pp ? 2 * pp - 1 - v : v % pp; }
  int chunk_of_virtual(int v) const { return v / pp; }
  /// Whether one of the rank's chunks is virtual stage `v` (DualPipe: two ranks hold each).
  bool holds_virtual(int stage, int v) const
  {
    for (int c = 0; c < chunks(); ++c)
      if (virtual_stage(stage, c) == v)
        return true;
    return false;
  }
  // ZeRO-3 / FSDP as the frameworks run them (docs/sharding.md).
  struct DeepSpeedZero {              ///< parallelism.zero: DeepSpeed's ZeRO-3 engine; counts in parameters
    double prefetch_bucket = 5e7;     ///< stage3_prefetch_bucket_size: parameters fetched ahead of the module computing
    double reduce_bucket = 5e8;       ///< reduce_bucket_size: gradient elements reduce-scattered at a time
    double max_live_parameters = 1e9; ///< stage3_max_live_parameters: gathered parameters resident before releasing
    double max_reuse_distance = 1e9;  ///< stage3_max_reuse_distance: kept gathered if reused within this many
  };
  std::optional<DeepSpeedZero> zero; ///< absent: whole layers gathered (FSDP units)
  bool reshard_after_forward = true; ///< FSDP: FULL_SHARD (true) or SHARD_GRAD_OP (false: kept to backward)
  int fsdp_shard_group = 0;          ///< HSDP: ranks a parameter is sharded over (0: all dp*cp ranks)
  int shard_ranks() const { return fsdp_shard_group > 0 ? fsdp_shard_group : dp * cp; }
};

struct Grid {
  std::string id;
  std::string name;
  double co2_kg_per_kwh = 0;
  std::optional<double> coal_share;
  std::optional<double> fossil_co2_kg_per_kwh;
  std::string basis;         ///< catalogue grids: "provincial", "regional" (a province's regional stand-in), or empty
  std::string regional_grid; ///< catalogue provinces: the id of their regional grid, or empty
};

/// Outdoor-temperature cooling model (docs/energy-carbon.md): free cooling below the supply temperature,
/// a chiller at a fraction of the Carnot COP above it.
struct Cooling {
  bool outdoor = false;              ///< false: the constant `Site::pue`
  std::vector<double> temperature_c; ///< 1 value (constant) or 12 monthly means, degrees C
  double supply_temperature_c = 18;  ///< chilled-water supply temperature
  double approach_k = 5;             ///< heat-rejection approach above outdoor temperature
  double carnot_fraction = 0.45;     ///< chiller COP as a fraction of the Carnot COP
  double fan_pump_overhead = 0.04;   ///< fans and pumps, fraction of IT power (always on)
  double distribution_loss = 0.05;   ///< UPS and power distribution, fraction of IT power
};

/// Carbon accounting options beyond the grid's average factor.
struct CarbonOptions {
  double green_share = 0;                         ///< contracted green power (market-based), 0..1
  std::optional<double> residual_kg_per_kwh;      ///< market-based factor of the rest (default: location factor)
  std::string intensity_profile;                  ///< hourly CSV (path), empty: constant factor
  std::vector<double> profile_kg_per_kwh;         ///< the profile's values, loaded at parse time
  std::string start_date;                         ///< "YYYY-MM-DD" or "YYYY-MM-DDTHH", calendar start of the run
  double embodied_kg_per_accelerator = 0;         ///< embodied carbon of one accelerator (with its share of node)
  double embodied_lifetime_s = 5 * 365.0 * 86400; ///< amortisation period
  std::optional<double> fossil_kg_per_kwh; ///< coal attribution: factor of fossil power (default: grid, else national)
  std::optional<double> coal_share;        ///< coal share of generation (default: grid, else implied)
  std::string coal_basis;                  ///< how the coal attribution was resolved (for the report)
  std::optional<int> generation_mix_year;  ///< which year of China's generation mix implies a coal share
};

struct Site {
  std::string preset; ///< a key of platforms/sites.json, or empty
  double pue = 1.0;
  std::optional<double> pue_target; ///< the site's PUE target (hub nodes: 1.25), reported beside the PUE reached
  Grid grid;
  Cooling cooling;
  CarbonOptions carbon;
  /// Prices at the site (search objective `cost`, report `cost_rmb`); absent: the cost is unknown.
  std::optional<double> electricity_rmb_per_kwh;  ///< facility electricity, per kWh (PUE included)
  std::optional<double> accelerator_rmb_per_hour; ///< rent or amortisation of one accelerator, per hour
};

/// Accelerator power states, power caps, DVFS and non-accelerator IT power (docs/energy-carbon.md).
struct PowerOptions {
  std::optional<double> cap_w;            ///< per-accelerator power limit
  double clock = 1.0;                     ///< DVFS state: fraction of the maximum clock
  double dvfs_exponent = 3.0;             ///< dynamic power ~ clock^exponent (P = C V^2 f with V ~ f)
  std::optional<double> compute_activity; ///< fraction of the dynamic range while computing (default: from utilisation)
  double memory_activity = 0.5;           ///< memory-bound kernels (optimizer), and the floor of compute activity
  double comm_activity = 0.25;            ///< communication-only phases (collective kernels)
  double bubble_activity = 0.0;           ///< pipeline bubble / waiting (idle with context)
  double nic_power_w = 25;                ///< per scale-out NIC port (part of host_power, split out)
  double switch_port_power_w = 25;        ///< per switch port incl. its share of the ASIC and optics
  double storage_w_per_Bps = 40e-9;       ///< storage power while serving checkpoint I/O, per byte/s
};

/// Failure, checkpoint and restart model (docs/energy-carbon.md); absent: an ideal run.
struct Failures {
  bool enabled = false;
  double accelerator_mtbf_s = 86300.0 * 3600;
  double node_mtbf_s = 24300.0 * 3600;
  double nic_mtbf_s = 3.03e6 * 3600;
  double link_mtbf_s = 1.28e6 * 3600;
  double switch_mtbf_s = 1.43e6 * 3600;
  std::string interval = "daly";   ///< "daly", "young" or a duration
  double interval_s = 0;           ///< when `interval` is a duration
  double bytes_per_parameter = 14; ///< bf16 weights + fp32 master, Adam m and v
  double write_bandwidth = 2e12;   ///< storage aggregate, bytes/s
  double read_bandwidth = 2e12;
  double checkpoint_overhead_s = 10; ///< fixed cost of one checkpoint (barrier, metadata)
  double restart_s = 600;            ///< detect, relaunch, initialise (excludes reading the checkpoint)
  double requeue_s = 3600;           ///< wait for a replacement node when no hot spare is free
  double repair_s = 48 * 3600.0;     ///< a failed node's time to return to the spare pool
  int hot_spare_nodes = 0;
  // Failures on by default (issue 15; platforms/failures.json, docs/energy-carbon.md).
  std::string source = "disabled"; ///< "defaults" (no `failures` block), "scenario", or "disabled"
  /// A root cause (Llama 3 Table 5 groups): its share of its component's failure rate, whether it takes a
  /// node out of the job (needs a hot spare or a re-queue), and the time to detect it.
  struct Cause {
    std::string id, component; ///< component: "accelerator", "node", "nic", "link" or "switch"
    double share = 1.0;
    bool replaces_node = false;
    double detection_s = 0;
  };
  std::vector<Cause> causes;        ///< empty: one cause per component (accelerator, node, NIC replace a node)
  double hot_spare_fraction = 0;    ///< spares as a fraction of the job's nodes (floor) unless hot_spare_nodes given
  bool async_checkpoint = false;    ///< snapshot to host memory, write to storage while training goes on
  double snapshot_bandwidth = 25e9; ///< device-to-host bytes/s per accelerator (async snapshot)
};

/// `auto` fidelity simulates a structurally asymmetric scenario in full up to this many accelerators
/// (docs/performance.md); symmetric ones, and everything above, reduced.
constexpr long full_fidelity_max_accelerators = 256;

struct Simulation {
  int steps = 1;                 ///< steps to simulate; with steps_auto, the most to simulate
  bool steps_auto = false;       ///< simulate until two consecutive steps agree (steady state)
  std::string fidelity = "auto"; ///< "auto", "full" or "reduced" (see sim::Fidelity)
  bool reuse = true;             ///< replay activities no other traffic can change (docs/performance.md)
  /// Steady-state extrapolation in micro-batches (docs/performance.md): "auto" (where it saves time),
  /// "always" (JSON true: wherever there are more micro-batches than the points) or "never" (JSON false).
  std::string extrapolate = "auto";
  std::uint64_t seed = 1;
  std::optional<double> max_memory_bytes; ///< resource guard (workload/ResourceGuard.hpp); default there
  std::optional<double> max_time_s;       ///< resource guard: estimated wall time allowed
  // At-scale mechanisms (docs/at-scale.md), on by default.
  bool variability = true;   ///< per-rank, per-step compute variability (calibration at_scale.compute_jitter_mean)
  bool host_overhead = true; ///< host and framework time per pass and per step (calibration at_scale)
  /// NCCL-like protocol choice, launch and step latencies and bandwidth share per collective call (calibration
  /// collective_efficiency); off: the alpha-beta bound (collective_step_latency per step, the bus efficiency).
  bool collective_efficiency = true;
  /// The data-parallel streams' collectives (gradient reduce-scatters and all-reduces, parameter all-gathers)
  /// run as NCCL kernels on SMs the compute beside them then lacks: that compute runs at 1 / (1 +
  /// tp_overlap_gemm_slowdown) of its speed while one is in flight (docs/at-scale.md#communication-beside-compute).
  /// Off by default: reduced fidelity does not yet keep within 1% of full with it on (docs/at-scale.md).
  bool comm_compute_contention = false;
  /// Shape-aware GEMM ceiling (docs/calibration.md#gemm-ceiling): 16-bit GEMMs at the accelerator's best-shape
  /// matmul fraction times tile and wave quantisation; off (the default): the calibration's gemm_mamf_fraction of
  /// that fraction, or gemm_efficiency without one. Off by default: on, it moves the validation MAPE from 6.39% to
  /// 6.74% (docs/calibration.md).
  bool gemm_ceiling = false;
  struct Stragglers {
    double fraction = 0; ///< of the job's nodes, chosen by the seed
    double slowdown = 0; ///< their compute takes (1 + slowdown) x as long
  } stragglers;
};

/// A published measurement the scenario reproduces (validation cases).
struct Reference {
  double step_time_s = 0;
  std::string source;
};

struct Scenario;
/// One stage of `training.phases` (issue 15): its token budget and the whole scenario of its step (the
/// top-level keys with the phase's seq_length, global_batch_size, micro_batch_size and parallelism).
struct TrainingPhase {
  std::string name;
  double tokens = 0;
  std::shared_ptr<const Scenario> scenario;
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
  PowerOptions power;
  Failures failures;
  std::vector<TrainingPhase> phases; ///< training.phases; empty: one phase, the scenario itself

  /// Layers of model chunk `chunk` of pipeline stage `stage` (virtual stage chunk*pp + stage): the first
  /// layer's index and the count. Even split unless /parallelism/first_stage_layers or last_stage_layers.
  std::pair<int, int> chunk_layers(int stage, int chunk) const
  {
    const auto& p = parallelism;
    const int L = model.layers;
    if (!p.layer_split.empty()) { // resolved split (first/last stage layers with vpp, balanced, V placement)
      const int v = p.virtual_stage(stage, chunk);
      int first = 0;
      for (int i = 0; i < v; ++i)
        first += p.layer_split[static_cast<size_t>(i)];
      return {first, p.layer_split[static_cast<size_t>(v)]};
    }
    const int v = p.virtual_stage(stage, chunk); // vpp 1: the rank, or DualPipe's model stage
    if (p.vpp > 1 || (p.first_stage_layers == 0 && p.last_stage_layers == 0)) {
      const int per = L / (p.pp * p.vpp);
      return {v * per, per};
    }
    if (p.pp == 1)
      return {0, L};
    const int first = p.first_stage_layers, last = p.last_stage_layers;
    const int fixed = (first > 0 ? 1 : 0) + (last > 0 ? 1 : 0);
    const int mid = (L - first - last) / std::max(1, p.pp - fixed); // every stage without a fixed count
    const int f = first > 0 ? first : mid;
    if (v == 0)
      return {0, f};
    if (v == p.pp - 1)
      return {L - (last > 0 ? last : mid), last > 0 ? last : mid};
    return {f + (v - 1) * mid, mid};
  }
  int virtual_stage(int stage, int chunk) const { return parallelism.virtual_stage(stage, chunk); }
  int stage_of_virtual(int v) const { return parallelism.stage_of_virtual(v); }
  int chunk_of_virtual(int v) const { return parallelism.chunk_of_virtual(v); }
  bool holds_virtual(int stage, int v) const { return parallelism.holds_virtual(stage, v); }
  /// Layers of every chunk of a stage.
  int stage_layers(int stage) const
  {
    int n = 0;
    for (int c = 0; c < parallelism.chunks(); ++c)
      n += chunk_layers(stage, c).second;
    return n;
  }

  long micro_batches_per_replica() const
  {
    return training.global_batch_size / (static_cast<long>(parallelism.dp) * training.micro_batch_size);
  }
  /// Ranks that hold a full copy of a stage's weights and reduce gradients together: dp*cp (Megatron
  /// reduces gradients over the data- and context-parallel ranks; placement order tp, cp, dp, pp).
  int grad_replicas() const { return parallelism.dp * parallelism.cp; }
  /// Mixed pools: the pools holding ranks of pipeline stage `stage`, in node order (stage s is the ranks
  /// s*tp*dp*cp .. (s+1)*tp*dp*cp-1 of the Megatron order); {} without pools.
  std::vector<int> stage_pools(int stage) const;
  /// The pool whose accelerator paces stage `stage`: of its pools, the one of the lowest peak at the training
  /// precision (its data-parallel peers wait for it at every gradient reduction); -1 without pools.
  int pacing_pool(int stage) const;
  /// The accelerator computing stage `stage`: its pacing pool's (the cluster's without pools).
  const Accelerator& stage_accelerator(int stage) const
  {
    const int k = pacing_pool(stage);
    return k < 0 ? cluster.accelerator : cluster.pools[static_cast<size_t>(k)].accelerator;
  }
  double tokens_per_step() const { return static_cast<double>(training.global_batch_size) * model.seq_length; }
};

/// The scenario as pipeline stage `stage` of a mixed-pool job sees it: the cluster's accelerator and scale-up
/// are those of the stage's pacing pool (Scenario::pacing_pool). Without pools: a copy of `s`.
Scenario stage_view(const Scenario& s, int stage);

} // namespace trainsim::scenario
