#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::test {

/// The default scenario's JSON, changed by `edit`, parsed with the real catalogue.
inline scenario::Scenario scenario_with(const std::function<void(nlohmann::json&)>& edit)
{
  auto doc = nlohmann::json::parse(scenario::default_scenario_text());
  edit(doc);
  return scenario::parse_scenario(doc, scenario::Catalog::instance());
}

/// A tiny cluster: `nodes` nodes of `per_node` accelerators on a one-switch fabric.
inline nlohmann::json tiny_cluster(int nodes, int per_node, const std::string& nic, const std::string& latency)
{
  return {{"accelerator", "A100-SXM-80GB"},
          {"nodes", nodes},
          {"accelerators_per_node", per_node},
          {"fabric", {{"type", "fat_tree"}, {"nic_bandwidth", nic}, {"tiers", 1}, {"latency", latency}}}};
}

} // namespace trainsim::test
