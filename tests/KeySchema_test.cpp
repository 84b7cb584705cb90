// The declared key schema (issue 16): every declared key is read by the parser with its declared default,
// and the parser cannot read a key that is not declared.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace {

using nlohmann::json;
using namespace trainsim::scenario;

json base()
{
  return json::parse(default_scenario_text());
}

/// What a key needs beside itself to be read at all (the parser reads some keys only in context).
json context_for(const std::string& path)
{
  json doc = base();
  auto starts = [&](const char* prefix) { return path.rfind(prefix, 0) == 0; };
  if (starts("/model/moe/")) {
    doc["model"]["moe"] = {{"experts", 8}, {"top_k", 2}};
    doc["parallelism"]["zero_stage"] = 1;
  }
  if (starts("/model/mla/")) {
    doc["model"]["attention_type"] = "mla";
    doc["model"]["mla"] = {
        {"kv_lora_rank", 512}, {"qk_nope_head_dim", 128}, {"qk_rope_head_dim", 64}, {"v_head_dim", 128}};
  }
  if (starts("/parallelism/zero/") || path == "/parallelism/reshard_after_forward" ||
      path == "/parallelism/zero_prefetch") {
    doc["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", 64}, {"zero_stage", 3}};
    if (!starts("/parallelism/zero/"))
      doc["parallelism"]["fsdp"] = true;
  }
  if (starts("/site/cooling/"))
    doc["site"]["cooling"] = {{"model", "outdoor"}, {"outdoor_temperature", "15C"}};
  if (starts("/site/embodied/"))
    doc["site"]["embodied"] = {{"kg_co2e_per_accelerator", 150}};
  if (starts("/simulation/stragglers/"))
    doc["simulation"]["stragglers"] = {{"fraction", 0.01}, {"slowdown", 1.5}};
  if (path == "/simulation/max_steps")
    doc["simulation"]["steps"] = "auto";
  if (starts("/reference/"))
    doc["reference"] = {{"step_time_s", 10.0}, {"source", "a test"}};
  if (starts("/failures/"))
    doc["failures"] = json::object(); // a failures block marks the run's figures as the scenario's
  if (starts("/failures/checkpoint/"))
    doc["failures"]["checkpoint"] = json::object();
  if (starts("/cluster/scale_up/"))
    doc["cluster"]["scale_up"] = json::object();
  return doc;
}

bool has_constant_default(const KeySpec& k)
{
  if (k.fallback.is_null() || !k.default_doc.empty())
    return false;
  if (k.type == KeyType::integer || k.type == KeyType::number) // a sentinel default outside the range (0: off)
    return k.fallback.get<double>() >= k.min && k.fallback.get<double>() <= k.max;
  return k.type == KeyType::boolean || k.type == KeyType::string || k.type == KeyType::choice ||
         (k.type == KeyType::quantity && k.fallback.is_string());
}

/// Keys inside a value of several forms (an inline accelerator or grid object) need that form: not set here.
bool below_value(std::string path)
{
  while (path.rfind('/') != 0 && path.rfind('/') != std::string::npos) {
    path = path.substr(0, path.rfind('/'));
    if (scenario_keys().find(path)->type == KeyType::value)
      return true;
  }
  return false;
}

std::string dump(const json& doc)
{
  return to_json(parse_scenario(doc, Catalog::instance())).dump();
}

} // namespace

TEST_CASE("every declared key with a constant default is read by the parser, with that default", "[keys]")
{
  int checked = 0;
  for (const auto& k : scenario_keys().keys()) {
    if (!has_constant_default(k) || k.path.find('*') != std::string::npos || below_value(k.path))
      continue;
    INFO(k.path);
    const json without = context_for(k.path);
    if (without.contains(json::json_pointer(k.path)))
      continue; // given by the base scenario: read, and not at its default
    if (k.path == "/failures/hot_spare_nodes")
      continue; // given, it replaces the defaults' hot_spare_fraction (docs/failures.md)
    json given = without;
    given[json::json_pointer(k.path)] = k.fallback;
    // Read (an unread key is "unknown key"), and given its default it changes nothing.
    REQUIRE_NOTHROW(dump(given));
    CHECK(dump(given) == dump(without));
    ++checked;
  }
  CHECK(checked >= 35);
}

TEST_CASE("every declared key is accepted where it is declared", "[keys]")
{
  // A key the parser never reads would be an unknown key; an undeclared key read would throw InternalError.
  for (const auto& k : scenario_keys().keys()) {
    CHECK(k.path.front() == '/');
    CHECK(!k.doc.empty());
    if (k.type == KeyType::choice) {
      CHECK(!k.allowed.empty());
    }
  }
  const json doc = base();
  json typo = doc;
  typo["parallelism"]["tpp"] = 2;
  CHECK_THROWS_AS(parse_scenario(typo, Catalog::instance()), trainsim::core::ConfigError);
}

TEST_CASE("a schema reader refuses to read an undeclared key", "[keys]")
{
  const json object = {{"tp", 2}, {"bogus", 1}};
  {
    JsonReader r = scenario_reader(object, "/parallelism");
    CHECK(r.key_int("tp") == 2);
    CHECK_THROWS_AS(r.get_int("bogus", 0, 10), trainsim::core::InternalError);
    CHECK_THROWS_AS(r.has("bogus"), trainsim::core::InternalError);
    CHECK_THROWS_AS(r.child("bogus"), trainsim::core::InternalError);
  }
  {
    // An inline range that disagrees with the declaration is a bug too.
    JsonReader r = scenario_reader(object, "/parallelism");
    CHECK_THROWS_AS(r.get_int("tp", 1, 8), trainsim::core::InternalError);
    CHECK_THROWS_AS(r.get_bool("tp"), trainsim::core::ConfigError); // type errors are the user's
  }
  {
    // Other inputs (catalogue, sweep files) are not scenario keys: plain readers do not check.
    JsonReader plain(object, "/catalog/x");
    CHECK(plain.get_int("bogus", 0, 10) == 1);
    CHECK_THROWS_AS(plain.key_int("tp"), trainsim::core::InternalError);
  }
}

TEST_CASE("key schema: paths, declarations and words", "[keys]")
{
  CHECK(schema_path("/training/phases/0/name") == "/training/phases/*/name");
  CHECK(schema_path("/training/phases/12") == "/training/phases/*");
  CHECK(schema_path("") == "");
  CHECK(schema_path("/cluster/fabric") == "/cluster/fabric");
  CHECK_THROWS_AS(KeySchema({key_object("/a", "a"), key_int("/a/b", 1, 2, 1, "b"), key_int("/a/b", 1, 2, 1, "b")}),
                  trainsim::core::InternalError);
  CHECK_THROWS_AS(KeySchema({key_int("/a/b", 1, 2, 1, "b")}), trainsim::core::InternalError);
  const auto* tp = scenario_keys().find("/parallelism/tp");
  REQUIRE(tp != nullptr);
  CHECK(valid_text(*tp) == "1 to 1048576");
  CHECK(default_text(*tp) == "1");
  const auto* dp = scenario_keys().find("/parallelism/dp");
  REQUIRE(dp != nullptr);
  CHECK(default_text(*dp) == "required");
  const auto notes = scenario_keys().notes_below("/reference");
  CHECK(notes == std::vector<std::string>{"tflops_per_accelerator", "note"});
}

#include "trainsim/topology/FabricModel.hpp"

TEST_CASE("fabric types: the declared values are the registered models, with their capabilities", "[keys][fabric]")
{
  const auto* type = scenario_keys().find("/cluster/fabric/type");
  REQUIRE(type != nullptr);
  std::vector<std::string> registered;
  std::map<std::string, bool> on_one_leaf;
  for (const auto& m : trainsim::topology::fabric_models()) {
    registered.push_back(m.name);
    on_one_leaf[m.name] = m.node_on_one_leaf;
  }
  CHECK(registered == type->allowed);
  // The five built-in models are registered, each with its capability: the leaf uplink is shared by a node's
  // tensor-parallel ranks only where a node's NICs share a leaf. A model added later is checked by the lines
  // above and below without an edit here (docs/architecture.md, "How to add a fabric type": three files).
  const std::map<std::string, bool> builtin{
      {"fat_tree", true}, {"rail_optimized", false}, {"dragonfly", false}, {"torus", false}, {"supernode", false}};
  for (const auto& [name, leaf] : builtin) {
    INFO(name);
    REQUIRE(on_one_leaf.count(name) == 1);
    CHECK(on_one_leaf.at(name) == leaf);
  }
  // Every fabric model's own keys are declared scenario keys.
  for (const auto& m : trainsim::topology::fabric_models())
    for (const auto& p : m.params)
      CHECK(scenario_keys().find("/cluster/fabric/" + p.name) != nullptr);
}

TEST_CASE("the resolved-scenario dump is generated from the key declarations", "[keys]")
{
  // Every dump field belongs to a declared key, and no two fields write the same place.
  std::map<std::string, std::string> owner;
  for (const auto& k : scenario_keys().keys())
    for (const auto& f : k.dump) {
      INFO(k.path << " shows " << f.pointer);
      CHECK(f.pointer.rfind('/', 0) == 0);
      CHECK(f.pointer.find('*') == std::string::npos);
      CHECK(owner.emplace(f.pointer, k.path).second);
      CHECK(f.get);
    }
  CHECK(owner.at("/cluster/fabric/nic_bandwidth_Bps") == "/cluster/fabric/nic_bandwidth");
  // to_json is the declarations' dump; a section's dump is its part of the whole; a phase shows its parallelism.
  json doc = base();
  doc["training"]["phases"] = {{{"name", "short"}, {"tokens", "1B"}, {"seq_length", 2048}},
                               {{"name", "long"}, {"tokens", "1B"}, {"parallelism", {{"vpp", 1}}}}};
  doc["training"].erase("tokens");
  const Scenario s = parse_scenario(doc, Catalog::instance());
  const json whole = to_json(s);
  CHECK(whole == dump_of(s));
  for (const char* section :
       {"/cluster", "/model", "/training", "/parallelism", "/site", "/simulation", "/power", "/failures"}) {
    INFO(section);
    CHECK(dump_of(s, section) == whole.at(json::json_pointer(section)));
  }
  REQUIRE(whole.at("training").at("phases").size() == 2);
  CHECK(whole["training"]["phases"][0]["parallelism"] == dump_of(*s.phases[0].scenario, "/parallelism"));
  // A field left out of the dump is hidden(), not null: the default scenario has no /parallelism/cp.
  CHECK_FALSE(whole.at("parallelism").contains("cp"));
  CHECK(hidden().is_discarded());
}
