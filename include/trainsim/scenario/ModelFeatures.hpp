#pragma once
#include <nlohmann/json.hpp>

#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

/// DeepSeek-V3 model features (docs/moe.md): `/model/attention_type` and `/model/mla` (multi-head latent
/// attention), `/model/mtp_depth` (multi-token prediction), with the preset's values as fallbacks.
void parse_model_features(JsonReader& model, const nlohmann::json* preset, Model& m);
/// `/training/recompute_modules` (selective recompute only) and `/training/fp8_recipe`.
void parse_training_features(JsonReader& training, Training& t);
/// Consistency of those features (and of `/model/moe/max_nodes_per_token`) with the rest of the scenario.
void check_model_features(const Scenario& s);

} // namespace trainsim::scenario
