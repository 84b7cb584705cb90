#include "trainsim/scenario/Frameworks.hpp"

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"

namespace trainsim::scenario {

using nlohmann::json;

namespace {

/// Copies the preset's keys of one section into `into` where the scenario does not give them (or a key
/// that contradicts them).
void fill(json& into, const json& preset, const json& given)
{
  for (const auto& [key, value] : preset.items()) {
    if (into.contains(key))
      continue;
    if ((key == "zero_stage" && given.contains("fsdp")) || (key == "fsdp" && given.contains("zero_stage")) ||
        (key == "zero" && given.contains("zero_prefetch")))
      continue; // the scenario chose its sharding (zero_prefetch: whole-layer gathers, not DeepSpeed's buckets)
    into[key] = value;
  }
}

int number_or(const json& section, const char* key, int fallback)
{
  return section.contains(key) && section.at(key).is_number_integer() ? section.at(key).get<int>() : fallback;
}

bool flag(const json& section, const char* key)
{
  return section.contains(key) && section.at(key).is_boolean() && section.at(key).get<bool>();
}

/// Drops the defaults the stack would not apply to this scenario (only those the preset added).
void drop_inapplicable(json& p, const json& given)
{
  const bool fsdp = flag(p, "fsdp");
  const int zero = fsdp ? 3 : number_or(p, "zero_stage", 0);
  auto drop = [&](const char* key, bool inapplicable) {
    if (inapplicable && !given.contains(key))
      p.erase(key);
  };
  drop("overlap_param_gather", zero < 1);
  drop("tp_comm_overlap", number_or(p, "tp", 1) < 2 || !flag(p, "sequence_parallel"));
  drop("reshard_after_forward", !fsdp);
  // Blocking sends in TrainSchedule's order exist for a 1F1B only (DeepSpeed's engine has no other schedule).
  drop("pipeline_p2p", number_or(p, "vpp", 1) > 1 || (p.contains("schedule") && p.at("schedule") != "1f1b"));
}

} // namespace

std::vector<std::string> framework_ids(const Catalog& cat)
{
  std::vector<std::string> out;
  for (const auto& [k, v] : cat.frameworks().items())
    out.push_back(k);
  return out;
}

json apply_framework(const json& document, const Catalog& cat)
{
  if (!document.is_object() || !document.contains("training") || !document.at("training").is_object() ||
      !document.at("training").contains("framework"))
    return document;
  const json& name = document.at("training").at("framework");
  std::string valid;
  for (const auto& id : framework_ids(cat))
    valid += (valid.empty() ? "" : ", ") + id;
  if (!name.is_string())
    throw core::ConfigError("/training/framework",
                            "expected a framework name (string), got " + brief(name) + "; valid: " + valid);
  const auto& all = cat.frameworks();
  const auto it = all.find(name.get<std::string>());
  if (it == all.end())
    throw core::ConfigError("/training/framework",
                            "unknown framework \"" + name.get<std::string>() + "\"; valid: " + valid);
  json doc = document;
  const json given_p =
      doc.contains("parallelism") && doc.at("parallelism").is_object() ? doc.at("parallelism") : json::object();
  const json& preset = *it;
  if (preset.contains("training")) {
    const json given_t = doc.at("training");
    fill(doc["training"], preset.at("training"), given_t);
    // The BF16 optimizer's fp32 accumulation (cast_add) exists only in bf16 (an fp16 run keeps fp16 grads).
    const bool bf16 = !given_t.contains("precision") || given_t.at("precision") == "bf16";
    if (!given_t.contains("grad_accumulation") && !bf16)
      doc["training"].erase("grad_accumulation");
  }
  if (!doc.contains("parallelism") || !doc.at("parallelism").is_object())
    return doc; // the parser names the missing /parallelism
  json& p = doc["parallelism"];
  json general = preset.contains("parallelism") ? preset.at("parallelism") : json::object();
  json sharding = p;
  fill(sharding, general, given_p);
  // The stack's ZeRO-3 engine and its defaults, before (over) its general ones: with zero_stage 3, not
  // PyTorch FSDP's fsdp key.
  if (preset.contains("zero3") && !flag(sharding, "fsdp") && number_or(sharding, "zero_stage", 0) == 3)
    fill(p, preset.at("zero3"), given_p);
  fill(p, general, given_p);
  drop_inapplicable(p, given_p);
  return doc;
}

} // namespace trainsim::scenario
