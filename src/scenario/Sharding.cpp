#include "trainsim/scenario/Sharding.hpp"

#include "trainsim/core/Errors.hpp"

namespace trainsim::scenario {

using core::ConfigError;

void parse_sharding(JsonReader& r, Parallelism& p)
{
  if (r.has("zero")) {
    // DeepSpeed's defaults (deepspeed/runtime/zero/config.py, docs "ZeRO Optimizations for FP16 Training").
    JsonReader z = r.child("zero");
    Parallelism::DeepSpeedZero d;
    d.prefetch_bucket = z.key_quantity("prefetch_bucket_size");
    d.reduce_bucket = z.key_quantity("reduce_bucket_size");
    d.max_live_parameters = z.key_quantity("max_live_parameters");
    d.max_reuse_distance = z.key_quantity("max_reuse_distance");
    z.finish();
    p.zero = d;
  }
  p.reshard_after_forward = r.key_bool("reshard_after_forward");
  p.fsdp_shard_group = static_cast<int>(r.key_int("fsdp_shard_group"));
}

void check_sharding(const JsonReader& r, const Parallelism& p)
{
  if (p.zero && p.zero_stage != 3)
    throw ConfigError(r.pointer_of("zero"), "configures DeepSpeed's ZeRO-3 parameter fetching, but zero_stage is " +
                                                std::to_string(p.zero_stage) + "; set zero_stage to 3 or remove it");
  if (p.zero && p.fsdp)
    throw ConfigError(r.pointer_of("zero"),
                      "is DeepSpeed's ZeRO-3 engine, but fsdp is true (PyTorch FSDP); remove one of them");
  if (p.zero && r.has("zero_prefetch"))
    throw ConfigError(r.pointer_of("zero_prefetch"), "is the FSDP prefetch depth in units; DeepSpeed prefetches by "
                                                     "/parallelism/zero/prefetch_bucket_size; remove zero_prefetch");
  if (r.has("reshard_after_forward") && !p.fsdp)
    throw ConfigError(r.pointer_of("reshard_after_forward"),
                      "is a PyTorch FSDP option, but fsdp is not true; set fsdp to true or remove it");
  if (p.fsdp_shard_group > 0 && !p.fsdp)
    throw ConfigError(r.pointer_of("fsdp_shard_group"),
                      "(HSDP) is a PyTorch FSDP option, but fsdp is not true; set fsdp to true or remove it");
}

void check_sharding(const Scenario& s)
{
  const auto& p = s.parallelism;
  const int replicas = s.grad_replicas();
  if (p.fsdp_shard_group > 0 && replicas % p.fsdp_shard_group != 0)
    throw ConfigError("/parallelism/fsdp_shard_group",
                      std::to_string(p.fsdp_shard_group) +
                          " does not divide the data-parallel ranks dp*cp = " + std::to_string(replicas) +
                          "; choose a divisor of it (2 up to " + std::to_string(replicas) + ")");
  if (p.zero && p.pp > 1)
    throw ConfigError("/parallelism/zero",
                      "DeepSpeed's pipeline engine runs ZeRO stages 0 and 1 only, not ZeRO-3 with pp " +
                          std::to_string(p.pp) + "; set pp to 1, or use fsdp instead of zero");
}

} // namespace trainsim::scenario
