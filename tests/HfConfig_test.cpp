// model.hf_config (issue 18): Hugging Face config.json files, written here, read into the model keys; each
// published family gives the same model as its preset in platforms/models.json, and a field the model cannot
// represent is an error naming /model/hf_config, the file and the field.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

using namespace trainsim;
using nlohmann::json;

namespace {

/// A temporary folder holding NAME/config.json with `config`.
struct ConfigDir {
  std::filesystem::path dir;
  explicit ConfigDir(const std::string& name, const json& config)
  {
    dir = std::filesystem::temp_directory_path() / ("trainsim-hf-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << config.dump(2);
  }
  ~ConfigDir() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "config.json").string(); }
};

json base_scenario(const json& model)
{
  return {{"schema_version", 1},
          {"name", "hf"},
          {"cluster",
           {{"accelerator", "H800-SXM-80GB"},
            {"nodes", 16},
            {"accelerators_per_node", 8},
            {"fabric", {{"type", "fat_tree"}, {"nic_bandwidth", "400Gbps"}, {"tiers", 2}}}}},
          {"model", model},
          {"training", {{"global_batch_size", 1024}, {"tokens", "1T"}}},
          {"parallelism", {{"tp", 8}, {"pp", 1}, {"dp", 16}}}};
}

/// The resolved model of a scenario, without the name (which says where it came from).
json resolved_model(const json& model)
{
  auto j = scenario::to_json(scenario::parse_scenario(base_scenario(model), scenario::Catalog::instance()));
  j["model"].erase("name");
  return j["model"];
}

/// `extra`: what a config.json does not say and the scenario gives (the pre-training sequence length always;
/// training choices such as DeepSeek's FP8 dispatch).
void same_as_preset(const std::string& preset, const json& config, json extra = json::object())
{
  ConfigDir d(preset, config);
  extra["hf_config"] = d.path();
  extra["seq_length"] = scenario::Catalog::instance().models().at(preset).at("seq_length").get<long>();
  CHECK(resolved_model(extra) == resolved_model({{"preset", preset}}));
}

const json qwen25_72b{{"architectures", {"Qwen2ForCausalLM"}},
                      {"model_type", "qwen2"},
                      {"hidden_act", "silu"},
                      {"hidden_size", 8192},
                      {"intermediate_size", 29568},
                      {"max_position_embeddings", 131072},
                      {"num_attention_heads", 64},
                      {"num_hidden_layers", 80},
                      {"num_key_value_heads", 8},
                      {"rope_theta", 1000000.0},
                      {"sliding_window", 131072},
                      {"use_sliding_window", false},
                      {"tie_word_embeddings", false},
                      {"torch_dtype", "bfloat16"},
                      {"vocab_size", 152064}};

const json deepseek_v3{{"architectures", {"DeepseekV3ForCausalLM"}},
                       {"model_type", "deepseek_v3"},
                       {"hidden_act", "silu"},
                       {"hidden_size", 7168},
                       {"intermediate_size", 18432},
                       {"moe_intermediate_size", 2048},
                       {"num_hidden_layers", 61},
                       {"num_attention_heads", 128},
                       {"num_key_value_heads", 128},
                       {"n_shared_experts", 1},
                       {"n_routed_experts", 256},
                       {"num_experts_per_tok", 8},
                       {"first_k_dense_replace", 3},
                       {"moe_layer_freq", 1},
                       {"q_lora_rank", 1536},
                       {"kv_lora_rank", 512},
                       {"qk_rope_head_dim", 64},
                       {"qk_nope_head_dim", 128},
                       {"v_head_dim", 128},
                       {"num_nextn_predict_layers", 1},
                       {"n_group", 8},
                       {"topk_group", 4},
                       {"max_position_embeddings", 163840},
                       {"vocab_size", 129280}};

std::string error_of(const json& model)
{
  try {
    scenario::parse_scenario(base_scenario(model), scenario::Catalog::instance());
  } catch (const core::ConfigError& e) {
    return e.pointer() + " | " + e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("hf_config: Qwen2.5-72B and DeepSeek-V3 config.json give their presets' models", "[hf]")
{
  same_as_preset("qwen2.5-72b", qwen25_72b);
  same_as_preset("deepseek-v3", deepseek_v3, {{"moe", {{"dispatch_precision", "fp8"}}}});
}

TEST_CASE("hf_config: Llama 3 and Mixtral config.json give their presets' models", "[hf]")
{
  same_as_preset("llama3-70b", {{"model_type", "llama"},
                                {"hidden_act", "silu"},
                                {"hidden_size", 8192},
                                {"intermediate_size", 28672},
                                {"num_attention_heads", 64},
                                {"num_hidden_layers", 80},
                                {"num_key_value_heads", 8},
                                {"max_position_embeddings", 8192},
                                {"vocab_size", 128256}});
  same_as_preset("mixtral-8x7b", {{"model_type", "mixtral"},
                                  {"hidden_act", "silu"},
                                  {"hidden_size", 4096},
                                  {"intermediate_size", 14336},
                                  {"num_attention_heads", 32},
                                  {"num_hidden_layers", 32},
                                  {"num_key_value_heads", 8},
                                  {"num_local_experts", 8},
                                  {"num_experts_per_tok", 2},
                                  {"sliding_window", nullptr},
                                  {"vocab_size", 32000}});
}

TEST_CASE("hf_config: the scenario's keys override the file; the name comes from its folder", "[hf]")
{
  ConfigDir d("qwen-override", qwen25_72b);
  const auto s = scenario::parse_scenario(
      base_scenario({{"hf_config", d.path()}, {"seq_length", 4096}, {"layers", 40}}), scenario::Catalog::instance());
  CHECK(s.model.layers == 40);
  CHECK(s.model.hidden_size == 8192);
  CHECK(s.model.name == d.dir.filename().string());
}

TEST_CASE("hf_config: fields the model cannot represent name the file and the field", "[hf]")
{
  {
    json gpt2{{"model_type", "gpt2"}, {"n_embd", 768}};
    ConfigDir d("gpt2", gpt2);
    const auto e = error_of({{"hf_config", d.path()}, {"seq_length", 1024}});
    CHECK(e.rfind("/model/hf_config | ", 0) == 0);
    CHECK(e.find("\"model_type\"") != std::string::npos);
    CHECK(e.find("gpt2") != std::string::npos);
  }
  {
    json gemma = qwen25_72b; // Gemma-7B's attention: 16 heads of 256 over a 3072-wide stream
    gemma["model_type"] = "gemma";
    gemma["hidden_size"] = 3072;
    gemma["num_attention_heads"] = 16;
    gemma["num_key_value_heads"] = 16;
    gemma["head_dim"] = 256;
    ConfigDir d("gemma", gemma);
    CHECK(error_of({{"hf_config", d.path()}, {"seq_length", 8192}}).find("\"head_dim\"") != std::string::npos);
  }
  {
    json broken = qwen25_72b;
    broken.erase("intermediate_size");
    ConfigDir d("broken", broken);
    CHECK(error_of({{"hf_config", d.path()}, {"seq_length", 4096}}).find("\"intermediate_size\" is missing") !=
          std::string::npos);
  }
  {
    json mistral = qwen25_72b;
    mistral["model_type"] = "mistral";
    mistral.erase("use_sliding_window");
    mistral["sliding_window"] = 4096;
    ConfigDir d("mistral", mistral);
    // One window on every layer (Mistral) maps to model.sliding_window.
    CHECK(resolved_model({{"hf_config", d.path()}, {"seq_length", 8192}}).at("sliding_window") == 4096);
    // A window on some layers only (Gemma 2/3 layer_types) cannot be represented.
    mistral["layer_types"] = {"sliding_attention", "full_attention"};
    ConfigDir g("interleaved", mistral);
    CHECK(error_of({{"hf_config", g.path()}, {"seq_length", 8192}}).find("\"layer_types\"") != std::string::npos);
  }
  ConfigDir d("both", qwen25_72b);
  CHECK(
      error_of({{"hf_config", d.path()}, {"preset", "llama3-8b"}, {"seq_length", 4096}}).rfind("/model/hf_config", 0) ==
      0);
  CHECK(error_of({{"hf_config", "/nonexistent/config.json"}, {"seq_length", 4096}}).rfind("/model/hf_config", 0) == 0);
  CHECK(error_of({{"hf_config", d.path()}}).rfind("/model/seq_length", 0) == 0);
}
