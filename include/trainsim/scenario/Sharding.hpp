#pragma once
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

/// ZeRO-3 / FSDP keys of /parallelism (docs/sharding.md): `zero` (DeepSpeed's engine: prefetch_bucket_size,
/// reduce_bucket_size, max_live_parameters, max_reuse_distance), `reshard_after_forward` and
/// `fsdp_shard_group` (PyTorch FSDP). Reads them from `r` (before r.finish()).
void parse_sharding(JsonReader& r, Parallelism& p);
/// Checks them against the rest of /parallelism once zero_stage and fsdp are resolved.
void check_sharding(const JsonReader& r, const Parallelism& p);
/// Checks them against the whole scenario (data-parallel size, pipeline).
void check_sharding(const Scenario& s);

} // namespace trainsim::scenario
