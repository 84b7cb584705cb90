#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// The fabric registry: every fabric type by name, with its declared keys, its capabilities and its builder,
// registered once (register_builtins in src/topology/FabricModel.cpp) from one file per model under
// src/topology/impl/. This header includes nothing of scenario/: the scenario parser and the key schema ask it
// which types exist and which keys each reads, so no list of fabric types is kept anywhere else.

namespace trainsim::scenario {
struct Cluster;
}

namespace trainsim::topology {

class Params;
class Fabric;

/// One declared parameter of a fabric model: a key of `/cluster/fabric` beside the shared ones (type,
/// preset, nic_bandwidth, latency). The parser rejects undeclared keys; the builder reads the values with
/// these defaults through Params.
struct ParamSpec {
  std::string name;
  std::string type;        ///< "int", "ratio", "int list", "bandwidth"
  nlohmann::json fallback; ///< default (null: required)
  std::string doc;
};

using BuildFn = std::function<void(const scenario::Cluster&, Params&, Fabric&)>;

/// A registered fabric model (a value of `/cluster/fabric/type`).
struct FabricModel {
  std::string name;
  std::string doc;
  std::vector<std::string> common; ///< of tiers, oversubscription, switch_radix
  std::vector<ParamSpec> params;   ///< model-specific keys (scenario::Fabric::params)
  BuildFn build;
  /// Capability: all NICs of a node attach to one leaf, so the data-parallel groups of a node's tensor-parallel
  /// ranks cross that leaf's uplink trunk together (the collective model divides the trunk among them).
  bool node_on_one_leaf = false;
};

/// The registered fabric models, in registration order.
const std::vector<FabricModel>& fabric_models();
/// The model of that name; core::ConfigError at /cluster/fabric/type listing the valid names otherwise.
const FabricModel& fabric_model(const std::string& name);

} // namespace trainsim::topology
