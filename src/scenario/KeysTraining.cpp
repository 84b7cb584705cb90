// The declared keys of /training and /parallelism (KeySchema.hpp): one line per key, the parser reads ranges
// and defaults here.
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"

namespace trainsim::scenario {

using core::Dimension;

std::vector<KeySpec> training_keys()
{
  const std::string t = "/training";
  const std::string ph = t + "/phases/*";
  return {
      key_object(t, "the training run"),
      key_int(t + "/global_batch_size", 1, 1L << 40, nullptr, "samples per step", "required"),
      key_int(t + "/micro_batch_size", 1, 1 << 20, 1, "samples per micro-batch"),
      key_quantity(t + "/tokens", Dimension::count, 0, 1e18, nullptr, "tokens to train on, e.g. \"15T\"",
                   "required (the phases' sum with phases)"),
      key_choice(t + "/precision", {"bf16", "fp16", "fp8"}, "bf16", "GEMM precision"),
      key_choice(t + "/recompute", {"none", "selective", "full"}, "none", "activation recomputation"),
      key_choice(t + "/attention", {"flash", "standard"}, "flash", "attention kernel"),
      key_choice(t + "/grad_reduce_precision", {"bf16", "fp16", "fp32"}, "bf16", "precision of gradient reductions"),
      key_bool(t + "/fp8_params", false, "parameters kept in fp8 (needs precision fp8)"),
      key_string(t + "/framework", nullptr,
                 "a framework preset whose defaults fill the keys left out (docs/frameworks.md)", "none"),
      key_value(t + "/recompute_modules",
                "list of modules selective recompute recomputes: core_attn, layernorm, mla_up_proj, moe_act",
                "[\"core_attn\"]"),
      key_choice(t + "/fp8_recipe", {"tensorwise", "blockwise"}, "tensorwise", "fp8 scaling (blockwise: DeepSeek-V3)"),
      key_value(t + "/phases", "list of 1 to 100 phases that run one after another (docs/phases.md)", "one phase"),
      key_object(ph, "one phase: the keys below replace the scenario's for its tokens"),
      key_string(ph + "/name", nullptr, "1 to 64 characters, unique", "\"phase N\""),
      key_value(ph + "/tokens", "the phase's /training/tokens", "required"),
      key_value(ph + "/global_batch_size", "the phase's /training/global_batch_size"),
      key_value(ph + "/micro_batch_size", "the phase's /training/micro_batch_size"),
      key_value(ph + "/seq_length", "the phase's /model/seq_length"),
      key_value(ph + "/nodes", "the phase's /cluster/nodes (a phase on part of the cluster)"),
      key_value(ph + "/parallelism", "an object of /parallelism keys that change in this phase"),
      key_note(ph + "/note", "free text"),
  };
}

std::vector<KeySpec> parallelism_keys()
{
  const std::string p = "/parallelism";
  const std::string z = p + "/zero";
  return {
      key_object(p, "how the model is split over the accelerators (tp*cp*pp*dp = accelerators)"),
      key_int(p + "/tp", 1, 1 << 20, 1, "tensor-parallel ranks"),
      key_int(p + "/pp", 1, 1 << 20, 1, "pipeline stages"),
      key_int(p + "/dp", 1, 1 << 24, nullptr, "data-parallel replicas", "required"),
      key_int(p + "/vpp", 1, 1024, 1, "virtual stages (model chunks) per pipeline rank"),
      key_int(p + "/ep", 1, 1 << 24, 1, "expert-parallel ranks, made of data-parallel ranks"),
      key_int(p + "/first_stage_layers", 1, 1'000'000, 0, "layers of the first stage (0: even split)"),
      key_int(p + "/last_stage_layers", 1, 1'000'000, 0, "layers of the last stage (0: even split)"),
      key_int(p + "/cp", 1, 1 << 16, 1, "context-parallel ranks (ring attention)"),
      key_bool(p + "/sequence_parallel", false, "sequence parallelism beside tp"),
      key_int(p + "/zero_stage", 0, 3, 0, "ZeRO stage: 1 shards optimizer states, 2 gradients, 3 parameters"),
      key_bool(p + "/overlap_grad_reduce", true, "gradient reductions overlap the backward pass"),
      key_bool(p + "/overlap_param_gather", false, "parameter all-gathers overlap the next forward pass"),
      key_quantity(p + "/grad_bucket_size", Dimension::bytes, 0, 1e12, "160MB", "gradient bucket"),
      key_object(p + "/collectives", "algorithm per use, from `trainsim list collectives`"),
      key_value(p + "/collectives/dp", "algorithm of the data-parallel reductions", "ring"),
      key_value(p + "/collectives/tp", "algorithm of the tensor-parallel collectives (ring only so far)", "ring"),
      key_bool(p + "/fsdp", false, "PyTorch FSDP full-shard (zero_stage 3)"),
      key_int(p + "/zero_prefetch", 0, 64, 1, "ZeRO-3 / FSDP units gathered ahead"),
      key_bool(p + "/tp_comm_overlap", false, "tp collectives overlap the GEMMs (needs sequence_parallel)"),
      key_choice(p + "/schedule", workload::schedule_names(), nullptr, "pipeline schedule (docs/pipeline.md)",
                 "interleaved with vpp > 1, else 1f1b"),
      key_value(p + "/layer_split", "\"even\", \"balanced\" or a list of layers per virtual stage", "even"),
      key_object(z, "DeepSpeed ZeRO-3 parameter fetching (docs/frameworks.md)"),
      key_quantity(z + "/prefetch_bucket_size", Dimension::count, 0, 1e13, 5e7, "parameters fetched ahead"),
      key_quantity(z + "/reduce_bucket_size", Dimension::count, 0, 1e13, 5e8, "gradient elements per reduce-scatter"),
      key_quantity(z + "/max_live_parameters", Dimension::count, 0, 1e13, 1e9, "gathered parameters kept resident"),
      key_nonnegative(z + "/max_reuse_distance", Dimension::count, 1e13, 1e9, "kept gathered if reused within this"),
      key_bool(p + "/reshard_after_forward", true, "FSDP frees gathered parameters after the forward pass"),
      key_int(p + "/fsdp_shard_group", 2, 1 << 24, 0, "HSDP: ranks a parameter is sharded over (0: all)"),
  };
}

} // namespace trainsim::scenario
