#include "trainsim/scenario/JsonReader.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/KeySchema.hpp"

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

namespace {

/// SAX handler that builds the document itself (linear time: nlohmann's callback parser rescans the parent
/// array after every object, quadratic in long arrays of objects) and rejects duplicate keys, excessive
/// nesting and numbers beyond a double, naming the JSON pointer. Only open containers are pointed to, and
/// a container grows only while it is the innermost open one, so the pointers stay valid.
template <class J> class StrictSax {
public:
  using string_t = typename J::string_t;
  StrictSax(J& root, const std::string& origin, const std::string& fix) : root_(root), origin_(origin), fix_(fix) {}

  bool null() { return put(J(nullptr)) != nullptr; }
  bool boolean(bool v) { return put(J(v)) != nullptr; }
  bool number_integer(typename J::number_integer_t v) { return put(J(v)) != nullptr; }
  bool number_unsigned(typename J::number_unsigned_t v) { return put(J(v)) != nullptr; }
  bool number_float(typename J::number_float_t v, const string_t&) { return put(J(v)) != nullptr; }
  bool string(string_t& v) { return put(J(std::move(v))) != nullptr; }
  bool binary(typename J::binary_t& v) { return put(J::binary(std::move(v))) != nullptr; }
  bool start_object(std::size_t) { return open(J::object(), false); }
  bool start_array(std::size_t) { return open(J::array(), true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(string_t& k)
  {
    Frame& f = frames_.back();
    f.token = k;
    if (!f.keys.insert(k).second)
      throw core::ConfigError(pointer(), "duplicate key; a key may appear once in an object, remove one of them");
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e)
  {
    std::string what = e.what();
    what = what.substr(what.find(']') + 2);
    if (e.id == 406) // out_of_range: a number beyond the range of a double (1e400) is valid syntax
      throw core::ConfigError(pointer(), what + " in " + origin_ +
                                             "; write a number of at most about 1.8e308 (and within the key's "
                                             "documented range)");
    throw core::ConfigError("", origin_ + ": malformed JSON (" + what + "); " + fix_);
  }

private:
  struct Frame {
    J* value;
    bool array;
    std::size_t index = 0; ///< arrays: the next element's index
    std::set<string_t> keys;
    string_t token; ///< objects: the current key
  };

  J* put(J&& v)
  {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& f = frames_.back();
    if (f.array) {
      ++f.index;
      auto& a = f.value->template get_ref<typename J::array_t&>();
      a.push_back(std::move(v));
      return &a.back();
    }
    auto& o = f.value->template get_ref<typename J::object_t&>();
    if constexpr (std::is_same_v<J, nlohmann::ordered_json>) {
      // ordered_map looks keys up linearly; the key is known to be new, so append.
      auto& items = static_cast<std::vector<typename J::object_t::value_type>&>(o);
      items.emplace_back(f.token, std::move(v));
      return &items.back().second;
    } else {
      return &o.emplace(f.token, std::move(v)).first->second;
    }
  }
  bool open(J&& container, bool array)
  {
    if (frames_.size() >= static_cast<std::size_t>(max_json_depth))
      throw core::ConfigError(pointer(), "nested deeper than " + std::to_string(max_json_depth) +
                                             " levels; no trainsim input needs that, flatten it");
    J* v = put(std::move(container));
    frames_.push_back(Frame{v, array, 0, {}, {}});
    return true;
  }
  bool close()
  {
    frames_.pop_back();
    return true;
  }
  /// The pointer of the value being parsed; long ones are cut after 16 tokens.
  std::string pointer() const
  {
    std::string out;
    std::size_t n = 0;
    for (const auto& f : frames_) {
      if (++n > 16) {
        out += "/...";
        break;
      }
      // An array with an open child points at that child (the last element); else at the next element.
      const std::size_t at = n < frames_.size() ? f.index - 1 : f.index;
      out += "/" + (f.array ? std::to_string(at) : escape_pointer_token(f.token));
    }
    return out;
  }

  J& root_;
  const std::string& origin_;
  const std::string& fix_;
  std::vector<Frame> frames_;
};

template <class J> J parse_strict(const std::string& text, const std::string& origin, const std::string& fix)
{
  J doc;
  StrictSax<J> sax(doc, origin, fix);
  J::sax_parse(text, &sax, nlohmann::json::input_format_t::json, true, false);
  return doc;
}

} // namespace

json parse_json_strict(const std::string& text, const std::string& origin, const std::string& fix)
{
  return parse_strict<json>(text, origin, fix);
}

nlohmann::ordered_json parse_ordered_json_strict(const std::string& text, const std::string& origin,
                                                 const std::string& fix)
{
  return parse_strict<nlohmann::ordered_json>(text, origin, fix);
}

json load_json_file(const std::string& path, const std::string& fix)
{
  return parse_json_strict(core::read_file(path), path, fix);
}

nlohmann::ordered_json load_ordered_json_file(const std::string& path, const std::string& fix)
{
  return parse_ordered_json_strict(core::read_file(path), path, fix);
}

JsonReader::JsonReader(const json& object, std::string pointer, const KeySchema* schema, std::string schema_at)
    : JsonReader(object, std::move(pointer))
{
  schema_ = schema;
  schema_at_ = std::move(schema_at);
}

JsonReader scenario_reader(const json& object, const std::string& pointer)
{
  return JsonReader(object, pointer, &scenario_keys(), schema_path(pointer));
}

JsonReader scenario_reader(const json& object, const std::string& pointer, const std::string& schema_at)
{
  return JsonReader(object, pointer, &scenario_keys(), schema_at);
}

const KeySpec* JsonReader::spec(const std::string& key) const
{
  if (schema_ == nullptr)
    return nullptr;
  const KeySpec* s = schema_->find(schema_at_ + "/" + key);
  TRAINSIM_ASSERT(s != nullptr, "scenario key " + schema_at_ + "/" + key +
                                    " is read but not declared; declare it in src/scenario/Keys*.cpp");
  return s;
}

const KeySpec& JsonReader::declared(const std::string& key, KeyType type) const
{
  const KeySpec* s = spec(key);
  TRAINSIM_ASSERT(s != nullptr, "key_* accessors need a schema reader (" + pointer_of(key) + ")");
  TRAINSIM_ASSERT(s->type == type, "scenario key " + s->path + " is declared as " + to_string(s->type) +
                                       " but read as " + to_string(type));
  return *s;
}

void JsonReader::check_range(const std::string& key, KeyType type, double min, double max) const
{
  const KeySpec* s = spec(key);
  if (s == nullptr || s->type == KeyType::value) // several forms: the declaration describes them in words
    return;
  TRAINSIM_ASSERT(s->type == type && s->min == min && s->max == max,
                  "scenario key " + s->path + " is read with another type or range than it is declared with");
}

long JsonReader::key_int(const std::string& key, std::optional<long> fallback)
{
  const KeySpec& s = declared(key, KeyType::integer);
  if (!fallback && !s.fallback.is_null())
    fallback = s.fallback.get<long>();
  return get_int(key, static_cast<long>(s.min), static_cast<long>(s.max), fallback);
}

double JsonReader::key_number(const std::string& key, std::optional<double> fallback)
{
  const KeySpec& s = declared(key, KeyType::number);
  if (!fallback && !s.fallback.is_null())
    fallback = s.fallback.get<double>();
  return get_number(key, s.min, s.max, fallback);
}

bool JsonReader::key_bool(const std::string& key, std::optional<bool> fallback)
{
  const KeySpec& s = declared(key, KeyType::boolean);
  if (!fallback && !s.fallback.is_null())
    fallback = s.fallback.get<bool>();
  return get_bool(key, fallback);
}

std::string JsonReader::key_string(const std::string& key, std::optional<std::string> fallback)
{
  const KeySpec& s = declared(key, KeyType::string);
  if (!fallback && !s.fallback.is_null())
    fallback = s.fallback.get<std::string>();
  return get_string(key, fallback);
}

std::string JsonReader::key_choice(const std::string& key, std::optional<std::string> fallback)
{
  const KeySpec& s = declared(key, KeyType::choice);
  if (!fallback && !s.fallback.is_null())
    fallback = s.fallback.get<std::string>();
  return get_enum(key, s.allowed, fallback);
}

double JsonReader::key_quantity(const std::string& key, std::optional<double> fallback)
{
  const KeySpec& s = declared(key, KeyType::quantity);
  if (!fallback && s.fallback.is_number())
    fallback = s.fallback.get<double>(); // in SI units
  else if (!fallback && !s.fallback.is_null())
    fallback = core::parse_quantity(s.fallback.get<std::string>(), s.unit);
  return get_quantity(key, s.unit, s.min, s.max, fallback, s.min_inclusive);
}

JsonReader::JsonReader(const json& object, std::string pointer) : object_(object), pointer_(std::move(pointer))
{
  if (!object_.is_object())
    throw core::ConfigError(pointer_,
                            std::string("expected an object, got ") + type_name(object_) + " " + brief(object_));
}

std::string JsonReader::pointer_of(const std::string& key) const
{
  return pointer_ + "/" + escape_pointer_token(key);
}

bool JsonReader::has(const std::string& key) const
{
  spec(key);
  known_.insert(key);
  return object_.contains(key);
}

void JsonReader::fail(const std::string& key, const std::string& message) const
{
  throw core::ConfigError(pointer_of(key), message);
}

const json& JsonReader::require(const std::string& key)
{
  spec(key);
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
  check_range(key, KeyType::integer, static_cast<double>(min), static_cast<double>(max));
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
  check_range(key, KeyType::number, min, max);
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
  check_range(key, KeyType::quantity, min, max);
  if (const KeySpec* s = spec(key); s != nullptr && s->type == KeyType::quantity)
    TRAINSIM_ASSERT(s->unit == dim && s->min_inclusive == min_inclusive,
                    "scenario key " + s->path + " is read with another unit or bound than it is declared with");
  read_.insert(key);
  if (!has(key) && fallback)
    return *fallback;
  const json& v = require(key);
  if (!v.is_string())
    fail(key, std::string("expected a string with a unit (e.g. ") +
                  (dim == core::Dimension::bandwidth   ? "\"400Gbps\""
                   : dim == core::Dimension::time      ? "\"2us\""
                   : dim == core::Dimension::power     ? "\"700W\""
                   : dim == core::Dimension::bytes     ? "\"80GB\""
                   : dim == core::Dimension::flop_rate ? "\"312TFLOPS\""
                                                       : "\"15.6T\"") +
                  "), got " + type_name(v) + " " + brief(v));
  double x = 0;
  try {
    x = core::parse_quantity(v.get<std::string>(), dim);
  } catch (const core::InvalidArgument& e) {
    fail(key, e.what());
  }
  const bool low = min_inclusive ? !(x >= min) : !(x > min);
  if (low || x > max) {
    std::ostringstream ss;
    ss << brief(v) << " is out of range; valid: " << (min_inclusive ? "at least " : "above ") << min << " and at most "
       << max << " (in SI units: bytes, seconds, watts, bytes/s, FLOP/s)";
    fail(key, ss.str());
  }
  return x;
}

std::string JsonReader::get_enum(const std::string& key, const std::vector<std::string>& valid,
                                 std::optional<std::string> fallback)
{
  if (const KeySpec* d = spec(key); d != nullptr && d->type != KeyType::value)
    TRAINSIM_ASSERT(d->type == KeyType::choice && d->allowed == valid,
                    "scenario key " + d->path + " is read with other values than it is declared with");
  std::string s = get_string(key, fallback);
  for (const auto& ok : valid)
    if (s == ok)
      return s;
  fail(key, "\"" + s + "\" is not valid; valid: " + join(valid));
}

JsonReader JsonReader::child(const std::string& key)
{
  return JsonReader(require(key), pointer_of(key), schema_, schema_at_ + "/" + key);
}

JsonReader JsonReader::nested(const json& object, const std::string& key) const
{
  spec(key);
  return JsonReader(object, pointer_of(key), schema_, schema_at_ + "/" + key);
}

void JsonReader::finish(const std::vector<std::string>& given_valid) const
{
  std::vector<std::string> also_valid = given_valid;
  if (schema_ != nullptr) {
    for (const auto& k : given_valid)
      spec(k);
    for (const auto& k : schema_->notes_below(schema_at_))
      if (std::find(also_valid.begin(), also_valid.end(), k) == also_valid.end())
        also_valid.push_back(k);
  }
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
