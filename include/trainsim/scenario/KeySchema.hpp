#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/core/Units.hpp"

namespace trainsim::scenario {

struct Scenario;

/// One field of the resolved-scenario dump (`validate --dump`, the report's `scenario`): where it goes and how it
/// is read from the resolved scenario. `get` returns hidden() where the field is left out (a default that older
/// reports did not show).
struct DumpField {
  std::string pointer; ///< in the dump: "/cluster/fabric/nic_bandwidth_Bps"
  std::function<nlohmann::json(const Scenario&)> get;
};

/// What a dump getter returns for a field that is not shown.
inline nlohmann::json hidden()
{
  return nlohmann::json(nlohmann::json::value_t::discarded);
}

/// What a scenario key holds.
enum class KeyType {
  integer,  ///< a JSON integer in [min, max]
  number,   ///< a JSON number in [min, max]
  boolean,  ///< true or false
  string,   ///< free text (a name, a file, a date)
  choice,   ///< one of `allowed`
  quantity, ///< a string with a unit ("400Gbps"), of dimension `unit`, in (min, max] or [min, max]
  object,   ///< a nested object whose keys are declared below its path
  value,    ///< a value of several forms (a preset id or an object, a ratio, a list); `doc` says which
  note,     ///< free annotation (source, description): accepted, never read
};

const char* to_string(KeyType type);

/// One declared scenario key (SST's ELI, SimGrid's config::Flag): its JSON path, what it holds and its
/// default, declared once in src/scenario/Keys*.cpp. The JsonReader of a scenario takes ranges and defaults
/// from here and refuses to read a key that is not declared (TRAINSIM_ASSERT), so no key can be read and
/// left out of `trainsim list keys` and docs/reference/scenario.md.
struct KeySpec {
  std::string path; ///< "/parallelism/tp"; `*` stands for an array index ("/training/phases/*/name")
  KeyType type = KeyType::value;
  core::Dimension unit = core::Dimension::count; ///< quantities only
  double min = 0, max = 0;                       ///< integers, numbers and quantities
  bool min_inclusive = true;                     ///< quantities: [min, max] when true, (min, max] when false
  std::vector<std::string> allowed;              ///< choices
  nlohmann::json fallback;                       ///< the default; null: none (see default_doc)
  std::string default_doc;                       ///< the default in words, where it is not a constant
  std::string doc;                               ///< one line
  std::vector<DumpField> dump;                   ///< what the resolved-scenario dump shows of it (none: nothing)

  /// The dump shows get(scenario) at `pointer` (the key's own path when empty); chained on a declaration:
  /// `key_int(p + "/tp", ...).shows([](const Scenario& s) { return json(s.parallelism.tp); })`.
  KeySpec& shows(std::function<nlohmann::json(const Scenario&)> get, std::string pointer = {});
};

/// Builders for the declaration tables (Keys*.cpp), one line per key.
KeySpec key_int(std::string path, long min, long max, nlohmann::json fallback, std::string doc,
                std::string default_doc = {});
KeySpec key_number(std::string path, double min, double max, nlohmann::json fallback, std::string doc,
                   std::string default_doc = {});
KeySpec key_bool(std::string path, nlohmann::json fallback, std::string doc, std::string default_doc = {});
KeySpec key_string(std::string path, nlohmann::json fallback, std::string doc, std::string default_doc = {});
KeySpec key_choice(std::string path, std::vector<std::string> allowed, nlohmann::json fallback, std::string doc,
                   std::string default_doc = {});
/// A quantity in (min, max]; key_nonnegative: in [0, max].
KeySpec key_quantity(std::string path, core::Dimension unit, double min, double max, nlohmann::json fallback,
                     std::string doc, std::string default_doc = {});
KeySpec key_nonnegative(std::string path, core::Dimension unit, double max, nlohmann::json fallback, std::string doc,
                        std::string default_doc = {});
KeySpec key_object(std::string path, std::string doc, std::string default_doc = {});
KeySpec key_value(std::string path, std::string doc, std::string default_doc = {});
KeySpec key_note(std::string path, std::string doc);

/// Every key of a scenario file, in declaration order (sections in file order).
class KeySchema {
public:
  explicit KeySchema(std::vector<KeySpec> keys);
  const std::vector<KeySpec>& keys() const { return keys_; }
  /// The declaration of a path in schema form (see schema_path), or nullptr.
  const KeySpec* find(const std::string& path) const;
  /// The annotation keys (KeyType::note) directly below `path`.
  std::vector<std::string> notes_below(const std::string& path) const;

private:
  std::vector<KeySpec> keys_;
};

/// What a key accepts, in words ("1 to 1024", "bandwidth, above 0, at most 1e+15 B/s", "bf16, fp16, fp8").
std::string valid_text(const KeySpec& key);
/// The key's default, in words ("1", "\"bf16\"", "the accelerator's", "required").
std::string default_text(const KeySpec& key);

/// The declared keys of a scenario (src/scenario/Keys*.cpp).
const KeySchema& scenario_keys();

/// The resolved scenario as the declarations' dump fields show it (scenario::to_json), or only its fields below
/// `prefix` ("/parallelism"), relative to it.
nlohmann::json dump_of(const Scenario& s, const std::string& prefix = {});

/// A JSON pointer in schema form: every array index becomes `*` ("/training/phases/0/name" ->
/// "/training/phases/*/name").
std::string schema_path(const std::string& pointer);

// The sections of the declaration, one per file (Keys*.cpp).
std::vector<KeySpec> cluster_keys();
std::vector<KeySpec> model_keys();
std::vector<KeySpec> training_keys();
std::vector<KeySpec> parallelism_keys();
std::vector<KeySpec> site_keys();
std::vector<KeySpec> top_keys(); ///< the top level
std::vector<KeySpec> run_keys(); ///< simulation, reference, power, failures

} // namespace trainsim::scenario
