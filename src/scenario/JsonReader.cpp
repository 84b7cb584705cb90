#include "trainsim/scenario/JsonReader.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "trainsim/core/Errors.hpp"

namespace trainsim::scenario {

using nlohmann::json;

std::string escape_pointer_token(const std::string& key)
{
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string brief(const json& value)
{
  // Containers are summarised, never dumped: a deeply nested value must not recurse.
  if (value.is_object())
    return "an object of " + std::to_string(value.size()) + " keys";
  if (value.is_array())
    return "an array of " + std::to_string(value.size()) + " items";
  std::string s = value.dump(-1, ' ', true, json::error_handler_t::replace);
  if (s.size() > 60)
    s = s.substr(0, 57) + "...";
  return s;
}

namespace {
const char* type_name(const json& v)
{
  return v.type_name();
}
std::string join(const std::vector<std::string>& items)
{
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}
} // namespace

JsonReader::JsonReader(const json& object, std::string pointer) : object_(object), pointer_(std::move(pointer))
{
  if (!object_.is_object())
    throw core::ConfigError(pointer_, std::string("expected an object, got ") + type_name(object_) + " " +
                                          brief(object_));
}

std::string JsonReader::pointer_of(const std::string& key) const
{
  return pointer_ + "/" + escape_pointer_token(key);
}

bool JsonReader::has(const std::string& key) const
{
  known_.insert(key);
  return object_.contains(key);
}

void JsonReader::fail(const std::string& key, const std::string& message) const
{
  throw core::ConfigError(pointer_of(key), message);
}

const json& JsonReader::require(const std::string& key)
{
  read_.insert(key);
  if (!object_.contains(key))
    fail(key, "missing required key");
  return object_.at(key);
}

const json& JsonReader::raw(const std::string& key)
{
  return require(key);
}

std::string JsonReader::get_string(const std::string& key, std::optional<std::string> fallback)
{
  read_.insert(key);
  if (!has(key) && fallback)
    return *fallback;
  const json& v = require(key);
  if (!v.is_string())
    fail(key, std::string("expected a string, got ") + type_name(v) + " " + brief(v));
  return v.get<std::string>();
}

long JsonReader::get_int(const std::string& key, long min, long max, std::optional<long> fallback)
{
  read_.insert(key);
  if (!has(key) && fallback)
    return *fallback;
  const json& v = require(key);
  if (!v.is_number_integer())
    fail(key, std::string("expected an integer, got ") + type_name(v) + " " + brief(v));
  if (v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(max))
    fail(key, brief(v) + " is out of range; valid: " + std::to_string(min) + " to " + std::to_string(max));
  long x = v.get<long>();
  if (x < min || x > max)
    fail(key, brief(v) + " is out of range; valid: " + std::to_string(min) + " to " + std::to_string(max));
  return x;
}

double JsonReader::get_number(const std::string& key, double min, double max, std::optional<double> fallback)
{
  read_.insert(key);
  if (!has(key) && fallback)
    return *fallback;
  const json& v = require(key);
  if (!v.is_number())
    fail(key, std::string("expected a number, got ") + type_name(v) + " " + brief(v));
  double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    std::ostringstream ss;
    ss << brief(v) << " is out of range; valid: " << min << " to " << max;
    fail(key, ss.str());
  }
  return x;
}

bool JsonReader::get_bool(const std::string& key, std::optional<bool> fallback)
{
  read_.insert(key);
  if (!has(key) && fallback)
    return *fallback;
  const json& v = require(key);
  if (!v.is_boolean())
    fail(key, std::string("expected true or false, got ") + type_name(v) + " " + brief(v));
  return v.get<bool>();
}

double JsonReader::get_quantity(const std::string& key, core::Dimension dim, double min, double max,
                                std::optional<double> fallback, bool min_inclusive)
{
  read_.insert(key);
  if (!has(key) && fallback)
    return *fallback;
  const json& v = require(key);
  if (!v.is_string())
    fail(key, std::string("expected a string with a unit (e.g. ") +
                  (dim == core::Dimension::bandwidth ? "\"400Gbps\"" :
                   dim == core::Dimension::time      ? "\"2us\"" :
                   dim == core::Dimension::power     ? "\"700W\"" :
                   dim == core::Dimension::bytes     ? "\"80GB\"" :
                   dim == core::Dimension::flop_rate ? "\"312TFLOPS\"" : "\"15.6T\"") +
                  "), got " + type_name(v) + " " + brief(v));
  double x = 0;
  try {
    x = core::parse_quantity(v.get<std::string>(), dim);
  } catch (const std::invalid_argument& e) {
    fail(key, e.what());
  }
  const bool low = min_inclusive ? !(x >= min) : !(x > min);
  if (low || x > max) {
    std::ostringstream ss;
    ss << brief(v) << " is out of range; valid: " << (min_inclusive ? "at least " : "above ") << min
       << " and at most " << max << " (in SI units: bytes, seconds, watts, bytes/s, FLOP/s)";
    fail(key, ss.str());
  }
  return x;
}

std::string JsonReader::get_enum(const std::string& key, const std::vector<std::string>& valid,
                                 std::optional<std::string> fallback)
{
  std::string s = get_string(key, fallback);
  for (const auto& ok : valid)
    if (s == ok)
      return s;
  fail(key, "\"" + s + "\" is not valid; valid: " + join(valid));
}

JsonReader JsonReader::child(const std::string& key)
{
  return JsonReader(require(key), pointer_of(key));
}

void JsonReader::finish(const std::vector<std::string>& also_valid) const
{
  for (const auto& [key, value] : object_.items()) {
    if (read_.count(key))
      continue;
    bool ok = false;
    for (const auto& a : also_valid)
      ok = ok || a == key;
    if (ok)
      continue;
    std::set<std::string> all(read_.begin(), read_.end());
    all.insert(known_.begin(), known_.end());
    all.insert(also_valid.begin(), also_valid.end());
    std::vector<std::string> valid(all.begin(), all.end());
    fail(key, "unknown key; valid keys here: " + join(valid));
  }
}

} // namespace trainsim::scenario
