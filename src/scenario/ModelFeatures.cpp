#include "trainsim/scenario/ModelFeatures.hpp"

#include <string>

#include "trainsim/core/Errors.hpp"

namespace trainsim::scenario {

using core::ConfigError;
using json = nlohmann::json;

namespace {

Mla parse_mla(JsonReader r, const json* preset)
{
  auto pick = [&](const char* key) {
    std::optional<long> dflt;
    if (preset && preset->contains(key))
      dflt = preset->at(key).get<long>();
    return static_cast<int>(r.key_int(key, dflt));
  };
  Mla a;
  a.q_lora_rank = pick("q_lora_rank");
  a.kv_lora_rank = pick("kv_lora_rank");
  a.qk_nope_head_dim = pick("qk_nope_head_dim");
  a.qk_rope_head_dim = pick("qk_rope_head_dim");
  a.v_head_dim = pick("v_head_dim");
  r.finish();
  return a;
}

} // namespace

void parse_model_features(JsonReader& r, const json* preset, Model& m)
{
  std::optional<std::string> type("mha");
  if (preset && preset->contains("attention_type"))
    type = preset->at("attention_type").get<std::string>();
  const bool mla = r.key_choice("attention_type", type) == "mla";
  const json* preset_mla = preset && preset->contains("mla") ? &preset->at("mla") : nullptr;
  if (mla) {
    if (r.has("mla"))
      m.mla = parse_mla(r.child("mla"), preset_mla);
    else if (preset_mla)
      m.mla = parse_mla(r.nested(*preset_mla, "mla"), nullptr);
    else
      throw ConfigError(r.pointer_of("mla"), "is missing: attention_type \"mla\" needs the latent ranks and head "
                                             "dimensions; add {\"kv_lora_rank\", \"qk_nope_head_dim\", "
                                             "\"qk_rope_head_dim\", \"v_head_dim\"}");
  } else if (r.has("mla")) {
    throw ConfigError(r.pointer_of("mla"), "is set but attention_type is \"mha\"; set /model/attention_type to "
                                           "\"mla\" or drop mla");
  }
  std::optional<long> mtp(0L);
  if (preset && preset->contains("mtp_depth"))
    mtp = preset->at("mtp_depth").get<long>();
  m.mtp_depth = static_cast<int>(r.key_int("mtp_depth", mtp));
  m.parallel_block =
      r.key_bool("parallel_block",
                 preset && preset->contains("parallel_block") ? preset->at("parallel_block").get<bool>() : false);
  std::optional<long> window(0L);
  if (preset && preset->contains("sliding_window"))
    window = preset->at("sliding_window").get<long>();
  if (r.has("sliding_window"))
    window = std::nullopt; // given: must be a positive token count
  m.sliding_window = static_cast<int>(r.key_int("sliding_window", window));
}

void parse_training_features(JsonReader& r, Training& t)
{
  if (r.has("recompute_modules")) {
    const std::string ptr = r.pointer_of("recompute_modules");
    const json& v = r.raw("recompute_modules");
    if (!v.is_array() || v.empty())
      throw ConfigError(ptr, "must be a non-empty list of modules; use e.g. [\"layernorm\", \"mla_up_proj\"]");
    Training::RecomputeModules mods{false, false, false, false};
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string name = v[i].is_string() ? v[i].get<std::string>() : "";
      bool* flag = name == "core_attn"     ? &mods.core_attn
                   : name == "layernorm"   ? &mods.layernorm
                   : name == "mla_up_proj" ? &mods.mla_up_proj
                   : name == "moe_act"     ? &mods.moe_act
                                           : nullptr;
      if (!v[i].is_string() || flag == nullptr)
        throw ConfigError(ptr + "/" + std::to_string(i),
                          "unknown module " + v[i].dump() +
                              "; valid: \"core_attn\", \"layernorm\", \"mla_up_proj\", \"moe_act\"");
      if (*flag)
        throw ConfigError(ptr + "/" + std::to_string(i), "\"" + name + "\" is listed twice; list each module once");
      *flag = true;
    }
    t.recompute_modules = mods;
    if (t.recompute != Recompute::selective)
      throw ConfigError(ptr, std::string("needs recompute \"selective\" (it is \"") + to_string(t.recompute) +
                                 "\"); set /training/recompute to \"selective\" or drop recompute_modules");
  }
  t.fp8_blockwise = r.key_choice("fp8_recipe") == "blockwise";
  if (t.fp8_blockwise && t.precision != Precision::fp8)
    throw ConfigError(r.pointer_of("fp8_recipe"), "\"blockwise\" needs precision \"fp8\"; set /training/precision to "
                                                  "\"fp8\" or drop fp8_recipe");
}

void check_model_features(const Scenario& s)
{
  const auto& m = s.model;
  const auto& p = s.parallelism;
  if (s.training.recompute_modules.mla_up_proj && !m.mla)
    throw ConfigError("/training/recompute_modules", "\"mla_up_proj\" needs multi-head latent attention; set "
                                                     "/model/attention_type to \"mla\" or drop the module");
  if (s.training.recompute_modules.moe_act && !m.moe.enabled())
    throw ConfigError("/training/recompute_modules",
                      "\"moe_act\" recomputes the experts' activation function and "
                      "needs a mixture-of-experts model; set /model/moe or drop the module");
  if (m.sliding_window > 0 && (m.mla || p.cp > 1))
    throw ConfigError("/model/sliding_window",
                      std::string("with ") + (m.mla ? "multi-head latent attention" : "context parallelism (cp > 1)") +
                          " is not modelled; drop sliding_window or " +
                          (m.mla ? "use attention_type \"mha\"" : "use cp 1"));
  if (m.parallel_block && (m.moe.enabled() || m.mla))
    throw ConfigError("/model/parallel_block", std::string("with ") +
                                                   (m.mla ? "multi-head latent attention" : "a MoE model") +
                                                   " is not modelled; drop parallel_block");
  if (m.mtp_depth > 0 && p.vpp > 1)
    throw ConfigError("/model/mtp_depth", std::to_string(m.mtp_depth) + " with vpp " + std::to_string(p.vpp) +
                                              " is not modelled; use vpp 1 or mtp_depth 0");
  if (m.moe.max_nodes_per_token) {
    const int apn = s.cluster.accelerators_per_node, span = p.ep * p.tp;
    // ep 1: nothing crosses a node, the limit does not apply (a preset's stays harmless).
    if (p.ep > 1 && span % apn != 0 && apn % span != 0)
      throw ConfigError("/model/moe/max_nodes_per_token",
                        "needs expert-parallel groups of whole nodes or inside one node, but ep*tp = " +
                            std::to_string(span) + " and accelerators_per_node " + std::to_string(apn) +
                            " do not divide one another; choose ep so that they do, or drop max_nodes_per_token");
  }
}

} // namespace trainsim::scenario
