#include "trainsim/scenario/KeySchema.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "trainsim/core/Errors.hpp"

namespace trainsim::scenario {

using nlohmann::json;

const char* to_string(KeyType type)
{
  switch (type) {
  case KeyType::integer:
    return "integer";
  case KeyType::number:
    return "number";
  case KeyType::boolean:
    return "boolean";
  case KeyType::string:
    return "string";
  case KeyType::choice:
    return "choice";
  case KeyType::quantity:
    return "quantity";
  case KeyType::object:
    return "object";
  case KeyType::value:
    return "value";
  case KeyType::note:
    return "note";
  }
  return "?";
}

namespace {

KeySpec make(std::string path, KeyType type, json fallback, std::string doc, std::string default_doc)
{
  KeySpec k;
  k.path = std::move(path);
  k.type = type;
  k.fallback = std::move(fallback);
  k.doc = std::move(doc);
  k.default_doc = std::move(default_doc);
  return k;
}

} // namespace

KeySpec key_int(std::string path, long min, long max, json fallback, std::string doc, std::string default_doc)
{
  KeySpec k = make(std::move(path), KeyType::integer, std::move(fallback), std::move(doc), std::move(default_doc));
  k.min = static_cast<double>(min);
  k.max = static_cast<double>(max);
  return k;
}

KeySpec key_number(std::string path, double min, double max, json fallback, std::string doc, std::string default_doc)
{
  KeySpec k = make(std::move(path), KeyType::number, std::move(fallback), std::move(doc), std::move(default_doc));
  k.min = min;
  k.max = max;
  return k;
}

KeySpec key_bool(std::string path, json fallback, std::string doc, std::string default_doc)
{
  return make(std::move(path), KeyType::boolean, std::move(fallback), std::move(doc), std::move(default_doc));
}

KeySpec key_string(std::string path, json fallback, std::string doc, std::string default_doc)
{
  return make(std::move(path), KeyType::string, std::move(fallback), std::move(doc), std::move(default_doc));
}

KeySpec key_choice(std::string path, std::vector<std::string> allowed, json fallback, std::string doc,
                   std::string default_doc)
{
  KeySpec k = make(std::move(path), KeyType::choice, std::move(fallback), std::move(doc), std::move(default_doc));
  k.allowed = std::move(allowed);
  return k;
}

KeySpec key_quantity(std::string path, core::Dimension unit, double min, double max, json fallback, std::string doc,
                     std::string default_doc)
{
  KeySpec k = make(std::move(path), KeyType::quantity, std::move(fallback), std::move(doc), std::move(default_doc));
  k.unit = unit;
  k.min = min;
  k.max = max;
  k.min_inclusive = false;
  return k;
}

KeySpec key_nonnegative(std::string path, core::Dimension unit, double max, json fallback, std::string doc,
                        std::string default_doc)
{
  KeySpec k =
      key_quantity(std::move(path), unit, 0.0, max, std::move(fallback), std::move(doc), std::move(default_doc));
  k.min_inclusive = true;
  return k;
}

KeySpec key_object(std::string path, std::string doc, std::string default_doc)
{
  return make(std::move(path), KeyType::object, nullptr, std::move(doc), std::move(default_doc));
}

KeySpec key_value(std::string path, std::string doc, std::string default_doc)
{
  return make(std::move(path), KeyType::value, nullptr, std::move(doc), std::move(default_doc));
}

KeySpec key_note(std::string path, std::string doc)
{
  return make(std::move(path), KeyType::note, nullptr, std::move(doc), {});
}

KeySpec& KeySpec::shows(std::function<json(const Scenario&)> get, std::string pointer)
{
  dump.push_back({pointer.empty() ? path : std::move(pointer), std::move(get)});
  return *this;
}

json dump_of(const Scenario& s, const std::string& prefix)
{
  json out = json::object();
  for (const auto& k : scenario_keys().keys())
    for (const auto& field : k.dump) {
      if (field.pointer.compare(0, prefix.size(), prefix) != 0 ||
          (field.pointer.size() > prefix.size() && field.pointer[prefix.size()] != '/'))
        continue;
      json v = field.get(s);
      if (!v.is_discarded())
        out[json::json_pointer(field.pointer.substr(prefix.size()))] = std::move(v);
    }
  return out;
}

KeySchema::KeySchema(std::vector<KeySpec> keys) : keys_(std::move(keys))
{
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const auto& k = keys_[i];
    TRAINSIM_ASSERT(!k.path.empty() && k.path[0] == '/', "key path " + k.path + " does not start with /");
    const auto parent = k.path.substr(0, k.path.rfind('/'));
    const KeySpec* above = parent.empty() ? nullptr : find(parent);
    TRAINSIM_ASSERT(parent.empty() ||
                        (above != nullptr && (above->type == KeyType::object || above->type == KeyType::value)),
                    "key " + k.path + " is declared below " + parent + ", which is not a declared object");
    for (std::size_t j = 0; j < i; ++j)
      TRAINSIM_ASSERT(keys_[j].path != k.path, "key " + k.path + " is declared twice");
  }
}

const KeySpec* KeySchema::find(const std::string& path) const
{
  for (const auto& k : keys_)
    if (k.path == path)
      return &k;
  return nullptr;
}

std::vector<std::string> KeySchema::notes_below(const std::string& path) const
{
  std::vector<std::string> out;
  for (const auto& k : keys_)
    if (k.type == KeyType::note && k.path.size() > path.size() + 1 && k.path.compare(0, path.size(), path) == 0 &&
        k.path[path.size()] == '/' && k.path.find('/', path.size() + 1) == std::string::npos)
      out.push_back(k.path.substr(path.size() + 1));
  return out;
}

std::string schema_path(const std::string& pointer)
{
  std::string out;
  std::size_t i = 0;
  while (i < pointer.size()) { // pointer[i] == '/'
    const std::size_t end = std::min(pointer.find('/', i + 1), pointer.size());
    const std::string token = pointer.substr(i + 1, end - i - 1);
    const bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
    out += "/" + (index ? std::string("*") : token);
    i = end;
  }
  return out;
}

namespace {

std::string number_text(double x)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

} // namespace

std::string valid_text(const KeySpec& key)
{
  switch (key.type) {
  case KeyType::integer:
  case KeyType::number:
    return number_text(key.min) + " to " + number_text(key.max);
  case KeyType::quantity:
    return std::string(core::dimension_name(key.unit)) + ", " + (key.min_inclusive ? "at least " : "above ") +
           number_text(key.min) + ", at most " + number_text(key.max) + " (SI)";
  case KeyType::choice: {
    std::string out;
    for (const auto& a : key.allowed)
      out += (out.empty() ? "" : ", ") + a;
    return out;
  }
  case KeyType::boolean:
    return "true, false";
  case KeyType::string:
    return "text";
  case KeyType::object:
    return "object";
  case KeyType::value:
    return "see the description";
  case KeyType::note:
    return "any (not read)";
  }
  return "";
}

std::string default_text(const KeySpec& key)
{
  if (!key.default_doc.empty())
    return key.default_doc;
  if (key.fallback.is_null())
    return "none";
  if (key.fallback.is_string())
    return key.type == KeyType::quantity ? key.fallback.get<std::string>() : key.fallback.dump();
  if (key.fallback.is_number_float())
    return number_text(key.fallback.get<double>());
  return key.fallback.dump();
}

const KeySchema& scenario_keys()
{
  static const KeySchema schema = [] {
    std::vector<KeySpec> all;
    for (auto section : {top_keys, cluster_keys, model_keys, training_keys, parallelism_keys, site_keys, run_keys}) {
      auto keys = section();
      all.insert(all.end(), keys.begin(), keys.end());
    }
    return KeySchema(std::move(all));
  }();
  return schema;
}

} // namespace trainsim::scenario
