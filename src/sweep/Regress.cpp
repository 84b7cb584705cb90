#include "trainsim/sweep/Regress.hpp"

#include <cmath>
#include <cstdio>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"

namespace trainsim::sweep {

using core::ConfigError;

const char* to_string(Verdict v)
{
  switch (v) {
  case Verdict::ok:
    return "ok";
  case Verdict::improved:
    return "improved";
  case Verdict::regressed:
    return "REGRESSED";
  case Verdict::new_scenario:
    return "not in baseline";
  case Verdict::error:
    return "ERROR";
  }
  return "?";
}

Baseline Baseline::load(const std::string& path)
{
  return parse(core::read_file(path), path);
}

Baseline Baseline::parse(const std::string& text, const std::string& origin)
{
  const nlohmann::json doc = scenario::parse_json_strict(text, origin, "fix it or write it again with --update");
  scenario::JsonReader r(doc, "");
  r.get_int("trainsim_regress_baseline", 1, 1);
  Baseline b;
  const auto& sc = r.raw("scenarios");
  if (!sc.is_object())
    throw ConfigError("/scenarios", "must be an object {\"file.json\": {\"tokens_per_s\": ..., \"energy_mwh\": ...}}");
  for (const auto& [name, v] : sc.items()) {
    if (!v.is_object())
      throw ConfigError("/scenarios/" + scenario::escape_pointer_token(name), "must be an object of figures");
    scenario::JsonReader e(v, "/scenarios/" + scenario::escape_pointer_token(name));
    BaselineEntry x;
    x.tokens_per_s = e.get_number("tokens_per_s", 1e-300, 1e300);
    x.energy_mwh = e.get_number("energy_mwh", 0, 1e300);
    x.step_time_s = e.get_number("step_time_s", 1e-300, 1e300);
    e.finish();
    b.scenarios[name] = x;
  }
  r.finish();
  return b;
}

std::string Baseline::to_text() const
{
  nlohmann::ordered_json j;
  j["trainsim_regress_baseline"] = 1;
  j["scenarios"] = nlohmann::ordered_json::object();
  for (const auto& [name, e] : scenarios) // std::map: sorted, deterministic
    j["scenarios"][name] = {
        {"tokens_per_s", e.tokens_per_s}, {"energy_mwh", e.energy_mwh}, {"step_time_s", e.step_time_s}};
  return j.dump(2) + "\n";
}

namespace {

/// change = current/baseline - 1; `higher_better` says which sign is a regression.
Verdict judge(double baseline, double current, bool higher_better, const RegressOptions& o)
{
  if (baseline == 0 && current == 0)
    return Verdict::ok;
  const double change = baseline != 0 ? current / baseline - 1 : INFINITY;
  if (std::fabs(change) <= o.tolerance)
    return Verdict::ok;
  const bool worse = higher_better ? change < 0 : change > 0;
  return worse || o.two_sided ? Verdict::regressed : Verdict::improved;
}

std::string fmt(double v)
{
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

} // namespace

Verdict RegressRow::verdict() const
{
  if (!error.empty())
    return Verdict::error;
  if (!baseline)
    return Verdict::new_scenario;
  if (tokens == Verdict::regressed || energy == Verdict::regressed)
    return Verdict::regressed;
  if (tokens == Verdict::improved || energy == Verdict::improved)
    return Verdict::improved;
  return Verdict::ok;
}

RegressRow compare(const std::string& scenario, const std::optional<BaselineEntry>& baseline,
                   const BaselineEntry& current, const RegressOptions& o)
{
  RegressRow r;
  r.scenario = scenario;
  r.baseline = baseline;
  r.current = current;
  if (baseline) {
    r.tokens = judge(baseline->tokens_per_s, current.tokens_per_s, true, o);
    r.energy = judge(baseline->energy_mwh, current.energy_mwh, false, o);
  }
  return r;
}

std::string regress_table(const std::vector<RegressRow>& rows, const RegressOptions& o)
{
  size_t w = 8;
  for (const auto& r : rows)
    w = std::max(w, r.scenario.size());
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line, "%-*s  %-12s %14s %14s %9s  %s\n", static_cast<int>(w), "scenario", "figure",
                "baseline", "current", "change", "verdict");
  out += line;
  for (const auto& r : rows) {
    if (!r.error.empty()) {
      std::snprintf(line, sizeof line, "%-*s  %-12s %14s %14s %9s  %s: ", static_cast<int>(w), r.scenario.c_str(), "-",
                    "-", "-", "-", "ERROR");
      out += line + r.error + "\n";
      continue;
    }
    auto add = [&](const char* name, double b, double c, Verdict v, bool has_b) {
      std::string change = has_b && b != 0 ? fmt(100.0 * (c / b - 1)) + "%" : "-";
      std::snprintf(line, sizeof line, "%-*s  %-12s %14s %14s %9s  %s\n", static_cast<int>(w), r.scenario.c_str(), name,
                    has_b ? fmt(b).c_str() : "-", fmt(c).c_str(), change.c_str(),
                    has_b ? to_string(v) : to_string(Verdict::new_scenario));
      out += line;
    };
    const BaselineEntry b = r.baseline.value_or(BaselineEntry{});
    add("tokens_per_s", b.tokens_per_s, r.current->tokens_per_s, r.tokens, r.baseline.has_value());
    add("energy_mwh", b.energy_mwh, r.current->energy_mwh, r.energy, r.baseline.has_value());
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, "tolerance %.4g%% (%s)\n", 100 * o.tolerance,
                o.two_sided ? "any change beyond it fails" : "lower throughput or higher energy beyond it fails");
  return out + tail;
}

int regress_exit_code(const std::vector<RegressRow>& rows, bool allow_new)
{
  bool regressed = false, bad = false;
  for (const auto& r : rows) {
    const Verdict v = r.verdict();
    regressed = regressed || v == Verdict::regressed;
    bad = bad || v == Verdict::error || (v == Verdict::new_scenario && !allow_new);
  }
  if (bad)
    return static_cast<int>(core::ExitCode::bad_input);
  return regressed ? static_cast<int>(core::ExitCode::regression) : 0;
}

} // namespace trainsim::sweep
