#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

/// Parses and validates a scenario (schema version 1). Throws core::ConfigError naming the JSON pointer.
Scenario parse_scenario(const nlohmann::json& document, const Catalog& catalog);
/// The same; relative file names in the scenario (site.intensity_profile) resolve against `base_dir`.
Scenario parse_scenario(const nlohmann::json& document, const Catalog& catalog, const std::string& base_dir);
/// Parses scenario text (the bytes of a file named `origin` in messages); malformed JSON is a ConfigError.
Scenario parse_scenario_text(const std::string& text, const std::string& origin, const Catalog& catalog);
/// Reads a file and parses it; malformed JSON is a ConfigError with line and column.
Scenario load_scenario_file(const std::string& path, const Catalog& catalog);
/// A downlink:uplink ratio written "3:1" or 3 (at least 1, at most 64); errors name `pointer`.
double parse_ratio(const nlohmann::json& value, const std::string& pointer);
/// Parses a `cluster` object alone (for `trainsim topo --preset`, which has no job).
Cluster parse_cluster_object(const nlohmann::json& object, const std::string& pointer, const Catalog& catalog);
/// The built-in default scenario (scenarios/default.json, compiled in).
const char* default_scenario_text();
Scenario default_scenario(const Catalog& catalog);
/// training.phases (Phases.cpp): parses each phase into its own scenario (the document with the phase's
/// tokens, seq_length, global_batch_size, micro_batch_size and parallelism keys) into `s.phases`; sets
/// s.training.tokens to their sum (a given top-level tokens must equal it).
void parse_phases(const nlohmann::json& document, const Catalog& catalog, const std::string& base_dir, Scenario& s);
/// The resolved scenario (presets expanded, SI units), for reports and `validate --dump`.
nlohmann::json to_json(const Scenario& s);

} // namespace trainsim::scenario
