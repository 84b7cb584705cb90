#pragma once
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/core/Units.hpp"

namespace trainsim::scenario {

class KeySchema;
struct KeySpec;
enum class KeyType;

/// Strict reader over one JSON object: every key read is recorded, and finish() rejects the rest.
/// Every error names the JSON pointer, the bad value and what would be valid.
///
/// A reader of a scenario (scenario_reader) also holds the key schema (KeySchema.hpp): every key it reads,
/// asks about or accepts must be declared there (else core::InternalError: a key read but not declared is a
/// bug), ranges given inline must equal the declared ones, and the key_* accessors take the range and the
/// default from the declaration.
class JsonReader {
public:
  JsonReader(const nlohmann::json& object, std::string pointer);
  /// A reader checked against `schema`; `schema_at` is the object's path in schema form (schema_path()).
  JsonReader(const nlohmann::json& object, std::string pointer, const KeySchema* schema, std::string schema_at);

  const std::string& pointer() const { return pointer_; }
  std::string pointer_of(const std::string& key) const;
  bool has(const std::string& key) const;
  const nlohmann::json& raw(const std::string& key);

  std::string get_string(const std::string& key, std::optional<std::string> fallback = std::nullopt);
  long get_int(const std::string& key, long min, long max, std::optional<long> fallback = std::nullopt);
  double get_number(const std::string& key, double min, double max, std::optional<double> fallback = std::nullopt);
  bool get_bool(const std::string& key, std::optional<bool> fallback = std::nullopt);
  /// A string with a unit ("400Gbps"), in SI units; must lie in (min, max] ([min, max] if min_inclusive).
  double get_quantity(const std::string& key, core::Dimension dim, double min, double max,
                      std::optional<double> fallback = std::nullopt, bool min_inclusive = false);
  /// Same, for quantities that may be zero but not negative (latencies, overheads).
  double get_nonnegative_quantity(const std::string& key, core::Dimension dim, double max,
                                  std::optional<double> fallback = std::nullopt)
  {
    return get_quantity(key, dim, 0.0, max, fallback, true);
  }
  std::string get_enum(const std::string& key, const std::vector<std::string>& valid,
                       std::optional<std::string> fallback = std::nullopt);
  /// A nested object; marks the key as read.
  JsonReader child(const std::string& key);

  // Declared keys (schema readers only): range and default from the key's declaration; `fallback` replaces
  // a default that the declaration gives in words (default_doc: a preset's value, the accelerator's).
  long key_int(const std::string& key, std::optional<long> fallback = std::nullopt);
  double key_number(const std::string& key, std::optional<double> fallback = std::nullopt);
  bool key_bool(const std::string& key, std::optional<bool> fallback = std::nullopt);
  std::string key_string(const std::string& key, std::optional<std::string> fallback = std::nullopt);
  std::string key_choice(const std::string& key, std::optional<std::string> fallback = std::nullopt);
  double key_quantity(const std::string& key, std::optional<double> fallback = std::nullopt);

  /// Throws for any key that was not read, listing the valid keys. A schema reader also accepts the
  /// annotation keys declared below its object (KeyType::note).
  void finish(const std::vector<std::string>& also_valid = {}) const;

  const KeySchema* schema() const { return schema_; }
  const std::string& schema_at() const { return schema_at_; }
  /// A reader over `object` standing for this object's `key` (a preset's values for it, a merged copy): the
  /// same pointer and declaration as child(key), without marking the key as read.
  JsonReader nested(const nlohmann::json& object, const std::string& key) const;

private:
  const nlohmann::json& require(const std::string& key);
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  /// The declaration of `key` (nullptr without a schema); a schema reader asserts that it exists.
  const KeySpec* spec(const std::string& key) const;
  const KeySpec& declared(const std::string& key, KeyType type) const;
  /// A schema reader asserts that an inline range equals the declared one.
  void check_range(const std::string& key, KeyType type, double min, double max) const;

  const nlohmann::json& object_;
  std::string pointer_;
  const KeySchema* schema_ = nullptr;
  std::string schema_at_;
  std::set<std::string> read_;
  mutable std::set<std::string> known_; ///< optional keys asked about with has(): valid even when absent
};

/// Nesting deeper than this is rejected by the strict loader (no trainsim input needs more than about ten).
inline constexpr int max_json_depth = 200;

/// The one strict loader of every JSON input (scenario, sweep, baseline, result metadata and lines, job
/// files). Rejects, as core::ConfigError with the JSON pointer where it applies: malformed syntax (with line
/// and column), a key given twice in one object, a number beyond the range of a double (1e400) and nesting
/// deeper than max_json_depth. Builds the document in linear time (no per-value callback). `origin` names the
/// text in messages (a file path); `fix` ends the message of a syntax error ("fix the syntax").
nlohmann::json parse_json_strict(const std::string& text, const std::string& origin,
                                 const std::string& fix = "fix the syntax");
/// The same, keeping the order of object keys as written (sweep axes, result records).
nlohmann::ordered_json parse_ordered_json_strict(const std::string& text, const std::string& origin,
                                                 const std::string& fix = "fix the syntax");
/// Reads a file (core::read_file: size limit, special files) and parses it strictly.
nlohmann::json load_json_file(const std::string& path, const std::string& fix = "fix the syntax");
nlohmann::ordered_json load_ordered_json_file(const std::string& path, const std::string& fix = "fix the syntax");

/// A reader of the scenario object at `pointer`, checked against scenario_keys(); `schema_at` is its path in
/// schema form when it differs from schema_path(pointer) (a cluster inside a job file).
JsonReader scenario_reader(const nlohmann::json& object, const std::string& pointer);
JsonReader scenario_reader(const nlohmann::json& object, const std::string& pointer, const std::string& schema_at);

/// Escapes a key for a JSON pointer (RFC 6901).
std::string escape_pointer_token(const std::string& key);
/// Short rendering of a JSON value for error messages.
std::string brief(const nlohmann::json& value);

} // namespace trainsim::scenario
