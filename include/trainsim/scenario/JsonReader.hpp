#pragma once
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/core/Units.hpp"

namespace trainsim::scenario {

/// Strict reader over one JSON object: every key read is recorded, and finish() rejects the rest.
/// Every error names the JSON pointer, the bad value and what would be valid.
class JsonReader {
public:
  JsonReader(const nlohmann::json& object, std::string pointer);

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

  /// Throws for any key that was not read, listing the valid keys.
  void finish(const std::vector<std::string>& also_valid = {}) const;

private:
  const nlohmann::json& require(const std::string& key);
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  const nlohmann::json& object_;
  std::string pointer_;
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

/// Escapes a key for a JSON pointer (RFC 6901).
std::string escape_pointer_token(const std::string& key);
/// Short rendering of a JSON value for error messages.
std::string brief(const nlohmann::json& value);

} // namespace trainsim::scenario
