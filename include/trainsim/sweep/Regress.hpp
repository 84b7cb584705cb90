#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trainsim::sweep {

/// The figures a baseline keeps per scenario file.
struct BaselineEntry {
  double tokens_per_s = 0;
  double energy_mwh = 0;
  double step_time_s = 0;
};

/// A regression baseline: scenario file name -> figures (docs/sweep.md, "regress").
struct Baseline {
  std::map<std::string, BaselineEntry> scenarios;
  /// Throws ConfigError naming the JSON pointer for a malformed file; a missing file is an IoError.
  static Baseline load(const std::string& path);
  /// The same from the text of a file named `origin` (the strict loader: duplicate keys, 1e400, nesting).
  static Baseline parse(const std::string& text, const std::string& origin);
  std::string to_text() const;
};

enum class Verdict { ok, improved, regressed, new_scenario, error };
const char* to_string(Verdict v);

struct RegressRow {
  std::string scenario; ///< file name, the baseline key
  std::optional<BaselineEntry> baseline, current;
  std::string error; ///< the run's error (Verdict::error)
  Verdict tokens = Verdict::ok, energy = Verdict::ok;
  Verdict verdict() const;
};

struct RegressOptions {
  double tolerance = 0.02; ///< relative
  bool two_sided = false;  ///< a change beyond the tolerance either way fails (not only a worse one)
};

/// Compares one scenario's figures with its baseline entry: throughput lower (energy higher) by more than
/// the tolerance is a regression; the other way an improvement (a regression too when two-sided).
RegressRow compare(const std::string& scenario, const std::optional<BaselineEntry>& baseline,
                   const BaselineEntry& current, const RegressOptions& options);

/// The diff table: scenario, figure, baseline, current, change, verdict.
std::string regress_table(const std::vector<RegressRow>& rows, const RegressOptions& options);

/// 0 when every row is ok or improved; 1 when one regressed; 2 when a run failed or (unless allow_new)
/// a scenario is missing from the baseline.
int regress_exit_code(const std::vector<RegressRow>& rows, bool allow_new);

} // namespace trainsim::sweep
