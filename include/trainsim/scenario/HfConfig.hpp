#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace trainsim::scenario {

/// Reads a Hugging Face `config.json` (Llama 2/3, Qwen2/2.5/3, Mistral/Mixtral, DeepSeek-V2/V3, Gemma) into the
/// model keys of a scenario, in the form of a platforms/models.json preset: layers, hidden_size,
/// attention_heads, kv_heads, ffn_hidden_size, vocab_size, activation and, for mixture-of-experts models, moe.
/// The scenario's own model keys then override it, as they override a preset. A field the model cannot
/// represent (an unknown model_type, a head_dim other than hidden_size / heads, a missing size) is a
/// core::ConfigError at `pointer` naming the file and the field. The training sequence length is not in a
/// config.json (max_position_embeddings is the model's limit, not its pre-training length): not mapped.
nlohmann::json preset_from_hf_config(const std::string& path, const std::string& pointer);

} // namespace trainsim::scenario
