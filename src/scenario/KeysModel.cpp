// The declared keys of /model (KeySchema.hpp): one line per key, the parser reads ranges and defaults here.
#include "trainsim/scenario/KeySchema.hpp"

namespace trainsim::scenario {

namespace {

void moe_keys(std::vector<KeySpec>& k)
{
  const std::string m = "/model/moe";
  k.push_back(key_object(m, "mixture of experts (docs/moe.md)", "the preset's; none: a dense model"));
  k.push_back(key_int(m + "/experts", 1, 1'000'000, nullptr, "routed experts per MoE layer", "required"));
  k.push_back(key_int(m + "/top_k", 1, 1'000'000, nullptr, "routed experts per token", "required"));
  k.push_back(key_int(m + "/shared_experts", 0, 1'000'000, 0, "experts every token passes through"));
  k.push_back(key_int(m + "/expert_ffn_hidden_size", 1, 10'000'000, nullptr, "FFN width of one expert",
                      "/model/ffn_hidden_size"));
  k.push_back(key_int(m + "/first_dense_layers", 0, 10'000, 0, "leading layers with a dense FFN"));
  k.push_back(key_number(m + "/load_imbalance", 1.0, 1e6, 1.0, "tokens of the busiest expert over the mean"));
  k.push_back(key_number(m + "/capacity_factor", 1.0, 1e6, nullptr, "expert capacity over the mean load", "none"));
  k.push_back(key_choice(m + "/dispatch_precision", {"bf16", "fp8"}, "bf16", "precision of the all-to-all dispatch"));
  k.push_back(key_int(m + "/max_nodes_per_token", 0, 1'000'000, nullptr,
                      "node-limited routing: nodes a token's experts span (0: no limit)", "no limit"));
  k.push_back(key_note(m + "/source", "where the figures come from"));
}

void mla_keys(std::vector<KeySpec>& k)
{
  const std::string a = "/model/mla";
  k.push_back(key_object(a, "multi-head latent attention's ranks and head dimensions", "the preset's"));
  k.push_back(key_int(a + "/q_lora_rank", 0, 1'000'000, 0, "query compression rank (0: none)"));
  k.push_back(key_int(a + "/kv_lora_rank", 1, 1'000'000, nullptr, "key-value compression rank", "required"));
  k.push_back(key_int(a + "/qk_nope_head_dim", 1, 1'000'000, nullptr, "per-head dimension without RoPE", "required"));
  k.push_back(key_int(a + "/qk_rope_head_dim", 0, 1'000'000, nullptr, "per-head dimension with RoPE", "required"));
  k.push_back(key_int(a + "/v_head_dim", 1, 1'000'000, nullptr, "per-head value dimension", "required"));
}

} // namespace

std::vector<KeySpec> model_keys()
{
  const char* preset = "the preset's, or required";
  std::vector<KeySpec> k{
      key_object("/model", "the transformer (`trainsim list models` for presets)"),
      key_string("/model/preset", nullptr, "a model preset of platforms/models.json the other keys override"),
      key_string("/model/hf_config", nullptr,
                 "a Hugging Face config.json, read as a preset (relative: to the scenario)"),
      key_string("/model/name", nullptr, "display name", "the preset id, the config's folder, or \"custom\""),
      key_int("/model/layers", 1, 10'000, nullptr, "transformer layers", preset),
      key_int("/model/hidden_size", 1, 1'000'000, nullptr, "model width", preset),
      key_int("/model/attention_heads", 1, 100'000, nullptr, "query heads", preset),
      key_int("/model/kv_heads", 1, 100'000, nullptr, "key-value heads (GQA)", "the preset's, or attention_heads"),
      key_int("/model/ffn_hidden_size", 1, 10'000'000, nullptr, "FFN width", "the preset's, or 4 * hidden_size"),
      key_int("/model/vocab_size", 1, 10'000'000, nullptr, "vocabulary", preset),
      key_int("/model/seq_length", 1, 100'000'000, nullptr, "tokens per sample", preset),
      key_choice("/model/activation", {"gelu", "swiglu", "squared_relu"}, nullptr, "FFN activation", preset),
      key_number("/model/dropout", 0.0, 0.99, nullptr, "dropout probability",
                 "the preset's, or 0.1 with gelu and 0 otherwise"),
      key_choice("/model/attention_type", {"mha", "mla"}, nullptr, "mha: multi-head (with GQA); mla: latent attention",
                 "the preset's, or mha"),
      key_int("/model/mtp_depth", 0, 16, nullptr, "multi-token prediction modules", "the preset's, or 0"),
      key_bool("/model/parallel_block", nullptr, "attention and FFN in parallel (GPT-J, PaLM)",
               "the preset's, or false"),
      key_int("/model/sliding_window", 1, 100'000'000, nullptr, "tokens a query attends to",
              "the preset's, or the whole sequence"),
      key_note("/model/source", "where the figures come from"),
  };
  moe_keys(k);
  mla_keys(k);
  return k;
}

} // namespace trainsim::scenario
