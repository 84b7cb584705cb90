// The declared keys of /training and /parallelism (KeySchema.hpp): one line per key, the parser reads ranges
// and defaults here.
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"

namespace trainsim::scenario {

using nlohmann::json;
using S = const Scenario&; ///< what a dump getter reads

using core::Dimension;

namespace {

/// Selective recompute's modules, where they differ from the default (core_attn alone).
json recompute_modules(S s)
{
  const auto& rm = s.training.recompute_modules;
  if (s.training.recompute != Recompute::selective || (rm.core_attn && !rm.layernorm && !rm.mla_up_proj && !rm.moe_act))
    return hidden();
  std::vector<std::string> mods;
  for (auto [on, name] : {std::pair<bool, const char*>{rm.core_attn, "core_attn"},
                          {rm.layernorm, "layernorm"},
                          {rm.mla_up_proj, "mla_up_proj"},
                          {rm.moe_act, "moe_act"}})
    if (on)
      mods.emplace_back(name);
  return mods;
}

/// The resolved phases (issue 15), each with its parallelism.
json phases(S s)
{
  json out;
  for (const auto& ph : s.phases)
    out.push_back({{"name", ph.name},
                   {"tokens", ph.tokens},
                   {"seq_length", ph.scenario->model.seq_length},
                   {"global_batch_size", ph.scenario->training.global_batch_size},
                   {"micro_batch_size", ph.scenario->training.micro_batch_size},
                   {"parallelism", dump_of(*ph.scenario, "/parallelism")}});
  return out.is_null() ? hidden() : out;
}

/// Shown only where it differs from `fallback` (beside the defaults, so that older reports keep their shape).
template <typename T> json unless(const T& value, const T& fallback)
{
  return value == fallback ? hidden() : json(value);
}

} // namespace

std::vector<KeySpec> training_keys()
{
  const std::string t = "/training";
  const std::string ph = t + "/phases/*";
  return {
      key_object(t, "the training run"),
      key_int(t + "/global_batch_size", 1, 1L << 40, nullptr, "samples per step", "required").shows([](S s) {
        return json(s.training.global_batch_size);
      }),
      key_int(t + "/micro_batch_size", 1, 1 << 20, 1, "samples per micro-batch").shows([](S s) {
        return json(s.training.micro_batch_size);
      }),
      key_quantity(t + "/tokens", Dimension::count, 0, 1e18, nullptr, "tokens to train on, e.g. \"15T\"",
                   "required (the phases' sum with phases)")
          .shows([](S s) { return json(s.training.tokens); }),
      key_choice(t + "/precision", {"bf16", "fp16", "fp8"}, "bf16", "GEMM precision").shows([](S s) {
        return json(to_string(s.training.precision));
      }),
      key_choice(t + "/recompute", {"none", "selective", "full"}, "none", "activation recomputation").shows([](S s) {
        return json(to_string(s.training.recompute));
      }),
      key_choice(t + "/attention", {"flash", "standard"}, "flash", "attention kernel").shows([](S s) {
        return json(to_string(s.training.attention));
      }),
      key_choice(t + "/grad_reduce_precision", {"bf16", "fp16", "fp32"}, "bf16", "precision of gradient reductions")
          .shows([](S s) { return json(s.training.grad_reduce_bytes); }, t + "/grad_reduce_bytes"),
      key_choice(t + "/grad_accumulation", {"fused", "cast_add"}, "fused",
                 "gradient accumulation over micro-batches: fused (into the gradient buffer) or cast_add (DeepSpeed's "
                 "BF16 optimizer: each backward's 16-bit gradients cast to fp32 and added, 18 bytes per parameter)")
          .shows([](S s) { return unless(s.training.grad_accumulation, std::string("fused")); }),
      key_bool(t + "/fp8_params", false, "parameters kept in fp8 (needs precision fp8)").shows([](S s) {
        return s.training.fp8_params ? json(true) : hidden();
      }),
      key_string(t + "/framework", nullptr,
                 "a framework preset whose defaults fill the keys left out (docs/frameworks.md)", "none")
          .shows([](S s) { return s.training.framework.empty() ? hidden() : json(s.training.framework); }),
      key_value(t + "/recompute_modules",
                "list of modules selective recompute recomputes: core_attn, layernorm, mla_up_proj, moe_act",
                "[\"core_attn\"]")
          .shows(recompute_modules),
      key_choice(t + "/fp8_recipe", {"tensorwise", "blockwise"}, "tensorwise", "fp8 scaling (blockwise: DeepSeek-V3)")
          .shows([](S s) { return s.training.fp8_blockwise ? json("blockwise") : hidden(); }),
      key_value(t + "/phases", "list of 1 to 100 phases that run one after another (docs/phases.md)", "one phase")
          .shows(phases),
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
      key_int(p + "/tp", 1, 1 << 20, 1, "tensor-parallel ranks").shows([](S s) { return json(s.parallelism.tp); }),
      key_int(p + "/pp", 1, 1 << 20, 1, "pipeline stages").shows([](S s) { return json(s.parallelism.pp); }),
      key_int(p + "/dp", 1, 1 << 24, nullptr, "data-parallel replicas", "required").shows([](S s) {
        return json(s.parallelism.dp);
      }),
      key_int(p + "/vpp", 1, 1024, 1, "virtual stages (model chunks) per pipeline rank").shows([](S s) {
        return json(s.parallelism.vpp);
      }),
      key_int(p + "/ep", 1, 1 << 24, 1, "expert-parallel ranks, made of data-parallel ranks").shows([](S s) {
        return s.model.moe.enabled() ? json(s.parallelism.ep) : hidden();
      }),
      key_int(p + "/first_stage_layers", 1, 1'000'000, 0, "layers of the first stage (0: even split)").shows([](S s) {
        return unless(s.parallelism.first_stage_layers, 0);
      }),
      key_int(p + "/last_stage_layers", 1, 1'000'000, 0, "layers of the last stage (0: even split)").shows([](S s) {
        return unless(s.parallelism.last_stage_layers, 0);
      }),
      key_int(p + "/cp", 1, 1 << 16, 1, "context-parallel ranks (K/V exchange: cp_comm_type)").shows([](S s) {
        return unless(s.parallelism.cp, 1);
      }),
      key_choice(
          p + "/cp_comm_type", {"p2p", "all_gather"}, "p2p",
          "context-parallel K/V exchange: p2p (the ring, beside attention) or all_gather (Llama 3: exposed "
          "all-gather before attention, reduce-scatter of dK/dV after; docs/scenario-format.md); ignored with cp 1")
          .shows([](S s) { return unless(s.parallelism.cp_comm_type, std::string("p2p")); }),
      key_bool(p + "/sequence_parallel", false, "sequence parallelism beside tp").shows([](S s) {
        return json(s.parallelism.sequence_parallel);
      }),
      key_int(p + "/zero_stage", 0, 3, 0, "ZeRO stage: 1 shards optimizer states, 2 gradients, 3 parameters")
          .shows([](S s) { return json(s.parallelism.zero_stage); }),
      key_bool(p + "/overlap_grad_reduce", true, "gradient reductions overlap the backward pass").shows([](S s) {
        return json(s.parallelism.overlap_grad_reduce);
      }),
      key_bool(p + "/overlap_param_gather", false, "parameter all-gathers overlap the next forward pass")
          .shows([](S s) { return unless(s.parallelism.overlap_param_gather, false); }),
      key_quantity(p + "/grad_bucket_size", Dimension::bytes, 0, 1e12, "160MB", "gradient bucket")
          .shows([](S s) { return json(s.parallelism.grad_bucket_bytes); }, p + "/grad_bucket_bytes"),
      key_object(p + "/collectives", "algorithm per use, from `trainsim list collectives`").shows([](S s) {
        return unless(s.parallelism.collectives, Parallelism{}.collectives);
      }),
      key_value(p + "/collectives/dp", "algorithm of the data-parallel reductions", "ring"),
      key_value(p + "/collectives/tp", "algorithm of the tensor-parallel collectives (ring only so far)", "ring"),
      key_bool(p + "/fsdp", false, "PyTorch FSDP full-shard (zero_stage 3)").shows([](S s) {
        return unless(s.parallelism.fsdp, false);
      }),
      key_int(p + "/zero_prefetch", 0, 64, 1, "ZeRO-3 / FSDP units gathered ahead").shows([](S s) {
        const auto& x = s.parallelism; // DeepSpeed prefetches by its bucket, not zero_prefetch units
        return x.zero_stage == 3 && !x.zero ? json(x.zero_prefetch) : hidden();
      }),
      key_bool(p + "/tp_comm_overlap", false, "tp collectives overlap the GEMMs (needs sequence_parallel)")
          .shows([](S s) { return unless(s.parallelism.tp_comm_overlap, false); }),
      key_bool(p + "/overlap_p2p_comm", false, "pipeline receives posted one pass ahead (interleaved schedule)")
          .shows([](S s) { return unless(s.parallelism.overlap_p2p_comm, false); }),
      key_choice(p + "/pipeline_p2p", {"async", "blocking"}, "async",
                 "pipeline sends: async (Megatron's isend/irecv) or blocking (DeepSpeed's pipeline engine: a send "
                 "waits for its receiver, TrainSchedule's exchange order; docs/pipeline.md)")
          .shows([](S s) { return unless(s.parallelism.pipeline_p2p, std::string("async")); }),
      key_bool(p + "/tp_async_allreduce", true,
               "without sequence_parallel: the backward all-reduces run beside the weight-gradient GEMMs")
          .shows([](S s) { return unless(s.parallelism.tp_async_allreduce, true); }),
      key_choice(p + "/schedule", workload::schedule_names(), nullptr, "pipeline schedule (docs/pipeline.md)",
                 "interleaved with vpp > 1, else 1f1b")
          .shows([](S s) { return s.parallelism.schedule_given ? json(s.parallelism.schedule) : hidden(); }),
      key_value(p + "/layer_split", "\"even\", \"balanced\" or a list of layers per virtual stage", "even")
          .shows([](S s) {
            const auto& x = s.parallelism;
            if (x.layer_split.empty())
              return hidden();
            return x.split == "list" ? json(x.layer_split) : json(x.split);
          })
          .shows([](S s) { return s.parallelism.layer_split.empty() ? hidden() : json(s.parallelism.layer_split); },
                 p + "/layers_per_virtual_stage"),
      key_object(z, "DeepSpeed ZeRO-3 parameter fetching (docs/frameworks.md)").shows([](S s) {
        const auto& x = s.parallelism.zero;
        if (!x)
          return hidden();
        return json{{"prefetch_bucket_size", x->prefetch_bucket},
                    {"reduce_bucket_size", x->reduce_bucket},
                    {"max_live_parameters", x->max_live_parameters},
                    {"max_reuse_distance", x->max_reuse_distance}};
      }),
      key_quantity(z + "/prefetch_bucket_size", Dimension::count, 0, 1e13, 5e7, "parameters fetched ahead"),
      key_quantity(z + "/reduce_bucket_size", Dimension::count, 0, 1e13, 5e8, "gradient elements per reduce-scatter"),
      key_quantity(z + "/max_live_parameters", Dimension::count, 0, 1e13, 1e9, "gathered parameters kept resident"),
      key_nonnegative(z + "/max_reuse_distance", Dimension::count, 1e13, 1e9, "kept gathered if reused within this"),
      key_bool(p + "/reshard_after_forward", true, "FSDP frees gathered parameters after the forward pass")
          .shows([](S s) { return unless(s.parallelism.reshard_after_forward, true); }),
      key_int(p + "/fsdp_shard_group", 2, 1 << 24, 0, "HSDP: ranks a parameter is sharded over (0: all)")
          .shows([](S s) { return unless(s.parallelism.fsdp_shard_group, 0); }),
  };
}

} // namespace trainsim::scenario
