#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

/// One declared parameter of a fabric model: a key of `/cluster/fabric` beside the shared ones (type,
/// preset, nic_bandwidth, latency). Declared once here; the parser rejects undeclared keys and the
/// topology generator reads the values with these defaults (topology::Params).
struct FabricParamSpec {
  std::string name;
  std::string type;        ///< "int", "ratio", "int list", "bandwidth"
  nlohmann::json fallback; ///< default (null: required)
  std::string doc;
};

struct FabricSchema {
  FabricType type;
  std::string doc;
  std::vector<std::string> common;     ///< which of tiers, oversubscription, switch_radix the model uses
  std::vector<FabricParamSpec> params; ///< model-specific keys
};

/// The schema of every fabric model, in the order of FabricType.
const std::vector<FabricSchema>& fabric_schemas();
const FabricSchema& fabric_schema(FabricType type);

} // namespace trainsim::scenario
