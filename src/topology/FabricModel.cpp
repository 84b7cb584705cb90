#include "trainsim/topology/FabricModel.hpp"

#include <algorithm>

#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Units.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::topology {

using core::ConfigError;
using nlohmann::json;

namespace {

std::string join(const std::vector<std::string>& v)
{
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string trim_number(double x)
{
  std::string s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

} // namespace

// The fabric models, one file each under src/topology/impl/ (each function returns its model: name, doc, keys,
// capabilities, builder). A new model is a file there, its line in CMakeLists.txt and its two lines here.
FabricModel fat_tree_model();
FabricModel rail_optimized_model();
FabricModel dragonfly_model();
FabricModel torus_model();
FabricModel supernode_model();

namespace {

/// The one place that registers the built-in fabric models, in the order `list fabrics` and the valid values of
/// /cluster/fabric/type show them.
std::vector<FabricModel> register_builtins()
{
  return {fat_tree_model(), rail_optimized_model(), dragonfly_model(), torus_model(), supernode_model()};
}

} // namespace

const std::vector<FabricModel>& fabric_models()
{
  static const std::vector<FabricModel> models = register_builtins();
  return models;
}

const FabricModel& fabric_model(const std::string& name)
{
  std::vector<std::string> names;
  for (const auto& m : fabric_models()) {
    if (m.name == name)
      return m;
    names.push_back(m.name);
  }
  throw ConfigError("/cluster/fabric/type", "unknown fabric model \"" + name + "\"; valid: " + join(names));
}

Params::Params(const FabricModel& model, const scenario::Fabric& fabric) : model_(model), params_(fabric.params) {}

const ParamSpec& Params::spec(const std::string& key) const
{
  for (const auto& p : model_.params)
    if (p.name == key)
      return p;
  throw core::InternalError("the " + model_.name + " model reads the undeclared parameter " + key);
}

const json& Params::value(const std::string& key)
{
  const ParamSpec& s = spec(key);
  read_.insert(key);
  if (params_.is_object() && params_.contains(key))
    return params_.at(key);
  if (s.fallback.is_null())
    throw ConfigError(pointer(key), "missing; the " + model_.name + " model needs it (" + s.doc + ")");
  return s.fallback;
}

long Params::get_int(const std::string& key, long min, long max)
{
  const json& v = value(key);
  if (!v.is_number_integer() || v.get<long>() < min || v.get<long>() > max)
    throw ConfigError(pointer(key), scenario::brief(v) + " is not valid; valid: an integer from " +
                                        std::to_string(min) + " to " + std::to_string(max) + " (" + spec(key).doc +
                                        ")");
  return v.get<long>();
}

std::vector<long> Params::get_int_list(const std::string& key, size_t min_size, size_t max_size, long min, long max)
{
  const json& v = value(key);
  std::vector<long> out;
  bool ok = v.is_array() && v.size() >= min_size && v.size() <= max_size;
  for (size_t i = 0; ok && i < v.size(); ++i) {
    ok = v[i].is_number_integer() && v[i].get<long>() >= min && v[i].get<long>() <= max;
    if (ok)
      out.push_back(v[i].get<long>());
  }
  if (!ok)
    throw ConfigError(pointer(key), scenario::brief(v) + " is not valid; valid: a list of " + std::to_string(min_size) +
                                        " to " + std::to_string(max_size) + " integers from " + std::to_string(min) +
                                        " to " + std::to_string(max) + " (" + spec(key).doc + ")");
  return out;
}

double Params::get_number(const std::string& key, double min, double max)
{
  const json& v = value(key);
  if (!v.is_number() || !(v.get<double>() >= min && v.get<double>() <= max))
    throw ConfigError(pointer(key), scenario::brief(v) + " is not valid; valid: a number from " + trim_number(min) +
                                        " to " + trim_number(max) + " (" + spec(key).doc + ")");
  return v.get<double>();
}

double Params::get_bandwidth(const std::string& key, double fallback)
{
  spec(key);
  read_.insert(key);
  if (!params_.is_object() || !params_.contains(key))
    return fallback;
  const json& v = params_.at(key);
  double x = 0;
  try {
    if (!v.is_string())
      throw core::InvalidArgument("expected a string with a unit such as \"400Gbps\", got " + scenario::brief(v));
    x = core::parse_quantity(v.get<std::string>(), core::Dimension::bandwidth);
  } catch (const core::InvalidArgument& e) {
    throw ConfigError(pointer(key), e.what());
  }
  if (!(x > 0 && x <= 1e15))
    throw ConfigError(pointer(key), scenario::brief(v) + " is out of range; valid: above 0, at most 10^15 B/s");
  return x;
}

double Params::get_ratio(const std::string& key)
{
  return scenario::parse_ratio(value(key), pointer(key));
}

std::string Params::get_choice(const std::string& key, const std::vector<std::string>& valid)
{
  const json& v = value(key);
  if (v.is_string() && std::find(valid.begin(), valid.end(), v.get<std::string>()) != valid.end())
    return v.get<std::string>();
  throw ConfigError(pointer(key),
                    scenario::brief(v) + " is not valid; valid: " + join(valid) + " (" + spec(key).doc + ")");
}

void Params::finish() const
{
  if (!params_.is_object())
    return;
  for (const auto& [key, v] : params_.items()) {
    if (read_.count(key))
      continue;
    bool declared = false;
    for (const auto& p : model_.params)
      declared = declared || p.name == key;
    if (declared)
      continue; // declared but unused by this configuration (e.g. ecmp_paths with tiers 1)
    std::vector<std::string> valid{"type", "preset", "nic_bandwidth", "latency"};
    for (const auto& c : model_.common)
      valid.push_back(c);
    for (const auto& p : model_.params)
      valid.push_back(p.name);
    throw ConfigError(pointer(key),
                      "unknown key for the " + model_.name + " fabric model; valid keys here: " + join(valid));
  }
}

} // namespace trainsim::topology
