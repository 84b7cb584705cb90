#include "trainsim/scenario/HfConfig.hpp"

#include <algorithm>
#include <vector>

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"

namespace trainsim::scenario {

using nlohmann::json;

namespace {

// Model families whose feed-forward block is gated (three matrices: gate, up, down), which the scenario calls
// "swiglu" whatever the gate's activation (SiLU in Llama/Qwen/Mistral/DeepSeek, GeLU-tanh in Gemma: the
// FLOPs and weights are the same).
const std::vector<std::string>& gated_families()
{
  static const std::vector<std::string> f{"llama",     "mistral", "mixtral", "qwen2",       "qwen2_moe",  "qwen3",
                                          "qwen3_moe", "gemma",   "gemma2",  "deepseek_v2", "deepseek_v3"};
  return f;
}

struct Reader {
  const json& cfg;
  std::string path, pointer;

  [[noreturn]] void fail(const std::string& field, const std::string& why) const
  {
    throw core::ConfigError(pointer, path + ": field \"" + field + "\" " + why +
                                         "; give the model keys in the scenario instead of hf_config");
  }
  long integer(const std::string& field, long min = 1) const
  {
    if (!cfg.contains(field))
      fail(field, "is missing");
    const json& v = cfg.at(field);
    if (!v.is_number_integer() || v.get<long>() < min)
      fail(field, "must be a whole number of at least " + std::to_string(min) + ", got " + v.dump());
    return v.get<long>();
  }
  long integer_or(const std::string& field, long fallback, long min = 0) const
  {
    return cfg.contains(field) && !cfg.at(field).is_null() ? integer(field, min) : fallback;
  }
  std::string text(const std::string& field) const
  {
    if (!cfg.contains(field) || !cfg.at(field).is_string())
      fail(field, "is missing or not a string");
    return cfg.at(field).get<std::string>();
  }
};

/// The mixture-of-experts keys of the families that have them; null for a dense model.
json moe_of(const Reader& r, const std::string& family)
{
  json moe;
  if (family == "mixtral") {
    moe = {{"experts", r.integer("num_local_experts")},
           {"top_k", r.integer("num_experts_per_tok")},
           {"expert_ffn_hidden_size", r.integer("intermediate_size")}};
  } else if (family == "qwen2_moe" || family == "qwen3_moe") {
    moe = {{"experts", r.integer("num_experts")},
           {"top_k", r.integer("num_experts_per_tok")},
           {"expert_ffn_hidden_size", r.integer("moe_intermediate_size")}};
    const long shared = r.integer_or("shared_expert_intermediate_size", 0);
    if (shared > 0) {
      // One shared expert of that width; the model keys count shared experts of the routed experts' width.
      const long width = moe["expert_ffn_hidden_size"].get<long>();
      if (shared % width != 0)
        r.fail("shared_expert_intermediate_size",
               "(" + std::to_string(shared) + ") is not a multiple of moe_intermediate_size (" + std::to_string(width) +
                   "), so it is not a whole number of experts");
      moe["shared_experts"] = shared / width;
    }
    if (r.integer_or("decoder_sparse_step", 1, 1) != 1)
      r.fail("decoder_sparse_step", "other than 1 (MoE every k-th layer) is not modelled");
  } else if (family == "deepseek_v2" || family == "deepseek_v3") {
    moe = {{"experts", r.integer("n_routed_experts")},
           {"top_k", r.integer("num_experts_per_tok")},
           {"shared_experts", r.integer_or("n_shared_experts", 0)},
           {"expert_ffn_hidden_size", r.integer("moe_intermediate_size")},
           {"first_dense_layers", r.integer_or("first_k_dense_replace", 0)}};
    if (r.integer_or("moe_layer_freq", 1, 1) != 1)
      r.fail("moe_layer_freq", "other than 1 (MoE every k-th layer) is not modelled");
    // Group-limited routing: experts in n_group groups, a token's experts in at most topk_group of them. The
    // groups are the nodes of the expert-parallel group in DeepSeek's deployment (V3 section 3.2.2: M = 4).
    const long groups = r.integer_or("n_group", 1, 1), limit = r.integer_or("topk_group", groups, 1);
    if (groups > 1 && limit < groups)
      moe["max_nodes_per_token"] = limit;
  }
  return moe;
}

/// DeepSeek-V2/V3's multi-head latent attention and multi-token prediction, in the model keys' names.
void deepseek_attention(const Reader& r, json& m)
{
  if (r.cfg.contains("kv_lora_rank") && !r.cfg.at("kv_lora_rank").is_null()) {
    m["attention_type"] = "mla";
    json mla{{"kv_lora_rank", r.integer("kv_lora_rank")},
             {"qk_nope_head_dim", r.integer("qk_nope_head_dim")},
             {"qk_rope_head_dim", r.integer("qk_rope_head_dim")},
             {"v_head_dim", r.integer("v_head_dim")}};
    if (r.cfg.contains("q_lora_rank") && !r.cfg.at("q_lora_rank").is_null()) // null: no query compression (V2-Lite)
      mla["q_lora_rank"] = r.integer("q_lora_rank");
    m["mla"] = mla;
  }
  if (const long mtp = r.integer_or("num_nextn_predict_layers", 0); mtp > 0)
    m["mtp_depth"] = mtp;
}

} // namespace

json preset_from_hf_config(const std::string& path, const std::string& pointer)
{
  json cfg;
  try {
    cfg = load_json_file(path);
  } catch (const core::ConfigError& e) { // the file's own pointer ("/") says nothing here
    std::string why = e.what();
    for (const std::string& prefix : {e.pointer() + ": ", std::string("/: ")})
      if (why.rfind(prefix, 0) == 0)
        why = why.substr(prefix.size());
    throw core::ConfigError(pointer, why + " (the file hf_config names)");
  } catch (const core::Error& e) {
    throw core::ConfigError(pointer, std::string(e.what()) + " (the file hf_config names)");
  }
  if (!cfg.is_object())
    throw core::ConfigError(pointer, path + ": not a JSON object; give the path of a Hugging Face config.json");
  Reader r{cfg, path, pointer};
  const std::string family = r.text("model_type");
  if (std::find(gated_families().begin(), gated_families().end(), family) == gated_families().end()) {
    std::string valid;
    for (const auto& f : gated_families())
      valid += (valid.empty() ? "" : ", ") + f;
    r.fail("model_type", "\"" + family + "\" is not a family hf_config maps (valid: " + valid + ")");
  }
  json m;
  m["layers"] = r.integer("num_hidden_layers");
  m["hidden_size"] = r.integer("hidden_size");
  m["attention_heads"] = r.integer("num_attention_heads");
  m["kv_heads"] = r.integer_or("num_key_value_heads", m["attention_heads"].get<long>(), 1);
  m["ffn_hidden_size"] = r.integer("intermediate_size");
  m["vocab_size"] = r.integer("vocab_size");
  m["activation"] = "swiglu";
  m["dropout"] = 0.0; // attention_dropout is 0 in every family above; pre-training runs without dropout
  const long heads = m["attention_heads"].get<long>(), hidden = m["hidden_size"].get<long>();
  if (cfg.contains("head_dim") && !cfg.at("head_dim").is_null() && family != "deepseek_v2" && family != "deepseek_v3" &&
      r.integer("head_dim") * heads != hidden)
    r.fail("head_dim", "(" + std::to_string(r.integer("head_dim")) + ") times num_attention_heads (" +
                           std::to_string(heads) + ") is not hidden_size (" + std::to_string(hidden) +
                           "): attention wider than the residual stream is not modelled");
  const bool sliding = cfg.contains("sliding_window") && !cfg.at("sliding_window").is_null() &&
                       !(cfg.contains("use_sliding_window") && cfg.at("use_sliding_window") == false);
  if (sliding) {
    // One window for every layer (Mistral); interleaved local and global layers (Gemma 2/3) are not modelled.
    if (family == "gemma2" || family == "gemma3")
      r.fail("sliding_window", "(Gemma's window on every other layer) is not mapped; trainsim models one window on "
                               "every layer");
    for (const char* key : {"layer_types", "sliding_window_pattern", "max_window_layers"})
      if (cfg.contains(key) && !cfg.at(key).is_null())
        r.fail(key, "(sliding-window attention on some layers only) is not mapped; trainsim models one window on "
                    "every layer");
    m["sliding_window"] = r.integer("sliding_window");
  }
  if (const json moe = moe_of(r, family); !moe.is_null())
    m["moe"] = moe;
  if (family == "deepseek_v2" || family == "deepseek_v3")
    deepseek_attention(r, m);
  m["source"] = "Hugging Face config.json: " + path;
  return m;
}

} // namespace trainsim::scenario
