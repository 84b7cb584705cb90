#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Catalog.hpp"

namespace trainsim::scenario {

/// Framework presets (platforms/frameworks.json, docs/frameworks.md): a scenario that names its software
/// stack in /training/framework inherits the stack's defaults for the keys it does not give. Returns the
/// document with those defaults filled in (unchanged without /training/framework). A default is left out
/// where the scenario gives a key it contradicts (zero_stage and fsdp; zero_prefetch and zero) or where the stack
/// itself would not apply it: overlap_param_gather without the distributed optimizer, tp_comm_overlap without
/// tp > 1 and sequence parallelism, the ZeRO-3 block unless zero_stage is 3, reshard_after_forward without fsdp.
/// Throws core::ConfigError for an unknown name, listing the valid ones.
nlohmann::json apply_framework(const nlohmann::json& document, const Catalog& cat);

/// The preset ids, in catalogue order.
std::vector<std::string> framework_ids(const Catalog& cat);

} // namespace trainsim::scenario
