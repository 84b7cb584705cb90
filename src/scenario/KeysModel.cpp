// The declared keys of /model (KeySchema.hpp): one line per key, the parser reads ranges and defaults here.
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

using nlohmann::json;
using S = const Scenario&; ///< what a dump getter reads

namespace {

/// A field of /model/moe, shown for MoE models only.
std::function<json(S)> moe_field(json (*get)(const Moe&))
{
  return [get](S s) { return s.model.moe.enabled() ? get(s.model.moe) : hidden(); };
}

/// A field of /model/mla, shown for MLA models only.
std::function<json(S)> mla_field(json (*get)(const Mla&))
{
  return [get](S s) { return s.model.mla ? get(*s.model.mla) : hidden(); };
}

void moe_keys(std::vector<KeySpec>& k)
{
  const std::string m = "/model/moe";
  k.push_back(key_object(m, "mixture of experts (docs/moe.md)", "the preset's; none: a dense model"));
  k.push_back(key_int(m + "/experts", 1, 1'000'000, nullptr, "routed experts per MoE layer", "required")
                  .shows(moe_field([](const Moe& e) { return json(e.experts); })));
  k.push_back(key_int(m + "/top_k", 1, 1'000'000, nullptr, "routed experts per token", "required")
                  .shows(moe_field([](const Moe& e) { return json(e.top_k); })));
  k.push_back(key_int(m + "/shared_experts", 0, 1'000'000, 0, "experts every token passes through")
                  .shows(moe_field([](const Moe& e) { return json(e.shared_experts); })));
  k.push_back(key_int(m + "/expert_ffn_hidden_size", 1, 10'000'000, nullptr, "FFN width of one expert",
                      "/model/ffn_hidden_size")
                  .shows(moe_field([](const Moe& e) { return json(e.expert_ffn_hidden_size); })));
  k.push_back(key_int(m + "/first_dense_layers", 0, 10'000, 0, "leading layers with a dense FFN")
                  .shows(moe_field([](const Moe& e) { return json(e.first_dense_layers); })));
  k.push_back(key_number(m + "/load_imbalance", 1.0, 1e6, 1.0, "tokens of the busiest expert over the mean")
                  .shows(moe_field([](const Moe& e) { return json(e.load_imbalance); })));
  k.push_back(
      key_number(m + "/capacity_factor", 1.0, 1e6, nullptr, "expert capacity over the mean load", "none")
          .shows(moe_field([](const Moe& e) { return e.capacity_factor ? json(*e.capacity_factor) : hidden(); })));
  k.push_back(key_choice(m + "/dispatch_precision", {"bf16", "fp8"}, "bf16", "precision of the all-to-all dispatch")
                  .shows(moe_field([](const Moe& e) { return json(e.dispatch_bytes == 1 ? "fp8" : "bf16"); })));
  k.push_back(key_int(m + "/max_nodes_per_token", 0, 1'000'000, nullptr,
                      "node-limited routing: nodes a token's experts span (0: no limit)", "no limit")
                  .shows(moe_field(
                      [](const Moe& e) { return e.max_nodes_per_token ? json(*e.max_nodes_per_token) : hidden(); })));
  k.push_back(key_note(m + "/source", "where the figures come from"));
}

void mla_keys(std::vector<KeySpec>& k)
{
  const std::string a = "/model/mla";
  k.push_back(key_object(a, "multi-head latent attention's ranks and head dimensions", "the preset's"));
  k.push_back(key_int(a + "/q_lora_rank", 0, 1'000'000, 0, "query compression rank (0: none)")
                  .shows(mla_field([](const Mla& x) { return json(x.q_lora_rank); })));
  k.push_back(key_int(a + "/kv_lora_rank", 1, 1'000'000, nullptr, "key-value compression rank", "required")
                  .shows(mla_field([](const Mla& x) { return json(x.kv_lora_rank); })));
  k.push_back(key_int(a + "/qk_nope_head_dim", 1, 1'000'000, nullptr, "per-head dimension without RoPE", "required")
                  .shows(mla_field([](const Mla& x) { return json(x.qk_nope_head_dim); })));
  k.push_back(key_int(a + "/qk_rope_head_dim", 0, 1'000'000, nullptr, "per-head dimension with RoPE", "required")
                  .shows(mla_field([](const Mla& x) { return json(x.qk_rope_head_dim); })));
  k.push_back(key_int(a + "/v_head_dim", 1, 1'000'000, nullptr, "per-head value dimension", "required")
                  .shows(mla_field([](const Mla& x) { return json(x.v_head_dim); })));
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
      key_string("/model/name", nullptr, "display name", "the preset id, the config's folder, or \"custom\"")
          .shows([](S s) { return json(s.model.name); }),
      key_int("/model/layers", 1, 10'000, nullptr, "transformer layers", preset).shows([](S s) {
        return json(s.model.layers);
      }),
      key_int("/model/hidden_size", 1, 1'000'000, nullptr, "model width", preset).shows([](S s) {
        return json(s.model.hidden_size);
      }),
      key_int("/model/attention_heads", 1, 100'000, nullptr, "query heads", preset).shows([](S s) {
        return json(s.model.attention_heads);
      }),
      key_int("/model/kv_heads", 1, 100'000, nullptr, "key-value heads (GQA)", "the preset's, or attention_heads")
          .shows([](S s) { return json(s.model.kv_heads); }),
      key_int("/model/ffn_hidden_size", 1, 10'000'000, nullptr, "FFN width", "the preset's, or 4 * hidden_size")
          .shows([](S s) { return json(s.model.ffn_hidden_size); }),
      key_int("/model/vocab_size", 1, 10'000'000, nullptr, "vocabulary", preset).shows([](S s) {
        return json(s.model.vocab_size);
      }),
      key_int("/model/seq_length", 1, 100'000'000, nullptr, "tokens per sample", preset).shows([](S s) {
        return json(s.model.seq_length);
      }),
      key_choice("/model/activation", {"gelu", "swiglu", "squared_relu"}, nullptr, "FFN activation", preset)
          .shows([](S s) { return json(to_string(s.model.activation)); }),
      key_number("/model/dropout", 0.0, 0.99, nullptr, "dropout probability",
                 "the preset's, or 0.1 with gelu and 0 otherwise")
          .shows([](S s) { return json(s.model.dropout); }),
      key_choice("/model/attention_type", {"mha", "mla"}, nullptr, "mha: multi-head (with GQA); mla: latent attention",
                 "the preset's, or mha")
          .shows([](S s) { return s.model.mla ? json("mla") : hidden(); }), // DeepSeek-V3 features: beside defaults
      key_int("/model/mtp_depth", 0, 16, nullptr, "multi-token prediction modules", "the preset's, or 0")
          .shows([](S s) { return s.model.mtp_depth > 0 ? json(s.model.mtp_depth) : hidden(); }),
      key_bool("/model/parallel_block", nullptr, "attention and FFN in parallel (GPT-J, PaLM)",
               "the preset's, or false")
          .shows([](S s) { return s.model.parallel_block ? json(true) : hidden(); }),
      key_int("/model/sliding_window", 1, 100'000'000, nullptr, "tokens a query attends to",
              "the preset's, or the whole sequence")
          .shows([](S s) { return s.model.sliding_window > 0 ? json(s.model.sliding_window) : hidden(); }),
      key_note("/model/source", "where the figures come from"),
  };
  moe_keys(k);
  mla_keys(k);
  return k;
}

} // namespace trainsim::scenario
