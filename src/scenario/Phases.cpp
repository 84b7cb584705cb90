// training.phases (issue 15): a run as a list of stages (batch ramp-up, long-context extension, annealing),
// each parsed into its own scenario so that every check of a single-phase scenario applies to it.
#include <cmath>

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::scenario {

using core::ConfigError;
using nlohmann::json;

namespace {

/// The key of the single-phase document that a phase key replaces.
struct Override {
  const char* key;
  const char* section; ///< "training", "model" or "cluster"
};
constexpr Override overrides[] = {{"tokens", "training"},
                                  {"global_batch_size", "training"},
                                  {"micro_batch_size", "training"},
                                  {"seq_length", "model"},
                                  {"nodes", "cluster"}}; // a phase on part of the cluster (Llama 3: 8,192 of 16,384)

/// The phase's document: the scenario's, with the phase's keys in place of the top-level ones.
json phase_document(const json& document, const json& phase)
{
  json d = document;
  d["training"].erase("phases");
  for (const auto& o : overrides)
    if (phase.contains(o.key))
      d[o.section][o.key] = phase[o.key];
  if (phase.contains("parallelism"))
    for (const auto& [k, v] : phase["parallelism"].items())
      d["parallelism"][k] = v;
  return d;
}

/// An error in a phase's scenario, at the phase key that caused it where there is one.
[[noreturn]] void throw_like(const ConfigError& e, const std::string& pointer, const std::string& message)
{
  if (dynamic_cast<const core::InfeasibleError*>(&e))
    throw core::InfeasibleError(pointer, message); // search skips infeasible candidates by type
  throw ConfigError(pointer, message);
}

[[noreturn]] void rethrow_at_phase(const ConfigError& e, const json& phase, const std::string& at)
{
  const std::string& p = e.pointer();
  std::string message = e.what();
  message = message.size() > p.size() + 2 ? message.substr(p.size() + 2) : message;
  for (const auto& o : overrides)
    if (phase.contains(o.key) && p == std::string("/") + o.section + "/" + o.key)
      throw_like(e, at + "/" + o.key, message);
  if (phase.contains("parallelism") && p == "/parallelism") // the world size: the phase's parallelism
    throw_like(e, at + p, message);
  if (phase.contains("nodes") && p == "/parallelism") // the world size: the phase's nodes
    throw_like(e, at + "/nodes", message + " (the phase's nodes; give it a \"parallelism\" that fits them)");
  if (phase.contains("parallelism") && p.rfind("/parallelism/", 0) == 0) {
    const std::string key =
        p.substr(13, p.find('/', 13) == std::string::npos ? std::string::npos : p.find('/', 13) - 13);
    if (phase["parallelism"].contains(key))
      throw_like(e, at + p, message);
  }
  throw_like(e, p, message + " (in " + at + ")");
}

} // namespace

void parse_phases(const json& document, const Catalog& cat, const std::string& base_dir, Scenario& s)
{
  const std::string ptr = "/training/phases";
  const json& list = document["training"]["phases"];
  if (!list.is_array() || list.empty() || list.size() > 100)
    throw ConfigError(ptr, "must be a list of 1 to 100 phases, each {\"name\", \"tokens\", ...}; got " + brief(list));
  double total = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = ptr + "/" + std::to_string(i);
    JsonReader r = scenario_reader(list[i], at); // strict keys; the values are checked by the phase's own parse
    TrainingPhase phase;
    phase.name = r.get_string("name", "phase " + std::to_string(i + 1));
    if (phase.name.empty() || phase.name.size() > 64)
      throw ConfigError(at + "/name", "must be 1 to 64 characters; name the phase (e.g. \"ramp\", \"long-context\")");
    for (const auto& o : overrides)
      if (r.has(o.key))
        (void)r.raw(o.key);
    if (!list[i].contains("tokens"))
      throw ConfigError(at + "/tokens", "missing required key; give the phase's token budget (e.g. \"254B\")");
    if (r.has("parallelism") && !list[i]["parallelism"].is_object())
      throw ConfigError(at + "/parallelism", "must be an object of /parallelism keys that change in this phase");
    if (r.has("parallelism"))
      (void)r.raw("parallelism");
    r.finish({"note"});
    for (size_t j = 0; j < i; ++j)
      if (s.phases[j].name == phase.name)
        throw ConfigError(at + "/name",
                          "\"" + phase.name + "\" names an earlier phase too; give each phase its own name");
    try {
      auto ps = parse_scenario(phase_document(document, list[i]), cat, base_dir);
      ps.name = s.name + "/" + phase.name;
      phase.tokens = ps.training.tokens;
      phase.scenario = std::make_shared<const Scenario>(std::move(ps));
    } catch (const ConfigError& e) {
      if (e.pointer().rfind(ptr, 0) == 0)
        throw;
      rethrow_at_phase(e, list[i], at);
    }
    total += phase.tokens;
    s.phases.push_back(std::move(phase));
  }
  if (s.training.tokens > 0 && std::fabs(s.training.tokens / total - 1) > 1e-6)
    throw ConfigError("/training/tokens", "is not the sum of the phases' tokens (" + json(total).dump() +
                                              "); give the sum or leave tokens out");
  s.training.tokens = total;
}

} // namespace trainsim::scenario
