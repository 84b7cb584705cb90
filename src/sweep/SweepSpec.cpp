#include "trainsim/sweep/SweepSpec.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::sweep {

using core::ConfigError;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

/// A JSON pointer given as an object key: validated, kept as written.
std::string checked_pointer(const std::string& p, const std::string& where)
{
  try {
    if (p.empty() || p[0] != '/')
      throw core::InvalidArgument("must start with '/'");
    (void)json::json_pointer(p);
  } catch (const std::exception&) {
    throw ConfigError(where, "\"" + p + "\" is not a scenario path; write a JSON pointer such as \"/parallelism/tp\"");
  }
  return p;
}

double round_sig(double v)
{
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return std::stod(buf);
}

constexpr size_t max_range_values = 100000;

/// A list of values, or a range {"from", "to", "step"} (arithmetic) or {"from", "to", "times"} (geometric).
std::vector<json> axis_values(const ordered_json& v, const std::string& where)
{
  std::vector<json> out;
  if (v.is_array()) {
    for (const auto& x : v)
      out.push_back(json::parse(x.dump()));
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.items())
      if (k != "from" && k != "to" && k != "step" && k != "times")
        throw ConfigError(where + "/" + scenario::escape_pointer_token(k),
                          "unknown key; a range has from, to and step (or times)");
    auto num = [&](const char* k) -> std::optional<double> {
      if (!v.contains(k))
        return std::nullopt;
      if (!v[k].is_number())
        throw ConfigError(where + "/" + k, scenario::brief(json::parse(v[k].dump())) + " is not a number");
      return v[k].get<double>();
    };
    const auto from = num("from"), to = num("to"), step = num("step"), times = num("times");
    if (!from || !to || (!step == !times))
      throw ConfigError(where, "a range needs from, to and one of step (arithmetic) or times (geometric), e.g. "
                               "{\"from\": 1, \"to\": 8, \"times\": 2}");
    const bool integral =
        std::floor(*from) == *from && (step ? std::floor(*step) == *step : std::floor(*times) == *times);
    auto push = [&](double x) {
      out.push_back(integral ? json(static_cast<long long>(std::llround(x))) : json(round_sig(x)));
    };
    // Integral ranges become JSON integers: keep them where a double is exact (no wrap beyond 2^63).
    const double exact = 9007199254740992.0; // 2^53
    if (integral && (std::fabs(*from) > exact || std::fabs(*to) > exact || (step && *step > exact)))
      throw ConfigError(where, "an integral range must lie within -2^53 and 2^53 (9007199254740992); list the "
                               "values instead");
    size_t count = 0;
    if (step) {
      if (*step <= 0)
        throw ConfigError(where + "/step", "must be positive");
      const double n = std::floor((*to - *from) / *step + 1e-9);
      if (!(n < max_range_values))
        throw ConfigError(where, "range has more than " + std::to_string(max_range_values) + " values; raise the step");
      count = n < 0 ? 0 : static_cast<size_t>(n) + 1;
      for (size_t i = 0; i < count; ++i)
        push(*from + static_cast<double>(i) * *step);
    } else {
      if (*times <= 1 || *from <= 0)
        throw ConfigError(where + "/times", "a geometric range needs from > 0 and times > 1");
      // Counted before any value is made: a ratio near 1 would otherwise produce values without end.
      const double n = *to < *from ? 0 : std::floor(std::log(*to / *from) / std::log(*times) + 1e-9) + 1;
      if (!(n <= max_range_values))
        throw ConfigError(where,
                          "geometric range has more than " + std::to_string(max_range_values) + " values; raise times");
      for (double x = *from; x <= *to * (1 + 1e-12) && out.size() < max_range_values; x *= *times)
        push(x);
    }
  } else {
    throw ConfigError(where, "an axis takes a list of values or a range {\"from\": a, \"to\": b, \"step\": s}");
  }
  if (out.empty())
    throw ConfigError(where, "no values; give at least one");
  return out;
}

std::string ordered_dump(const json& j)
{
  return j.dump(); // nlohmann::json sorts object keys: canonical
}

} // namespace

void set_at(json& doc, const std::string& pointer, const json& value, const std::string& where)
{
  try {
    doc[json::json_pointer(pointer)] = value;
  } catch (const json::exception& e) {
    throw ConfigError(where, "cannot set " + pointer + " in the base scenario (" + std::string(e.what()) +
                                 "); every path must lead through objects");
  }
}

std::string fnv1a_hex(const std::string& text)
{
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

SweepSpec SweepSpec::parse(const ordered_json& doc, const std::string& base_dir)
{
  if (!doc.is_object())
    throw ConfigError("", "a sweep file is an object {\"base\": ..., \"axes\": {...}}");
  for (const auto& [k, v] : doc.items())
    if (k != "base" && k != "axes" && k != "zip" && k != "derived" && k != "constraints" && k != "description")
      throw ConfigError("/" + scenario::escape_pointer_token(k),
                        "unknown key; valid: base, axes, zip, derived, constraints, description");
  SweepSpec s;
  if (!doc.contains("base"))
    throw ConfigError("/base", "missing; give a scenario file path or an inline scenario object");
  const auto& base = doc["base"];
  if (base.is_string()) {
    std::filesystem::path p = base.get<std::string>();
    if (p.is_relative())
      p = std::filesystem::path(base_dir) / p;
    try {
      s.base = scenario::load_json_file(p.string());
    } catch (const ConfigError& e) {
      throw ConfigError("/base", std::string("the base scenario: ") + e.what());
    }
  } else if (base.is_object()) {
    s.base = json::parse(base.dump());
  } else {
    throw ConfigError("/base", "must be a scenario file path or a scenario object");
  }
  if (doc.contains("axes")) {
    if (!doc["axes"].is_object())
      throw ConfigError("/axes", "must be an object {\"/parallelism/tp\": [1, 2, 4], ...}");
    for (const auto& [k, v] : doc["axes"].items()) {
      const std::string where = "/axes/" + scenario::escape_pointer_token(k);
      s.groups.push_back({{{checked_pointer(k, where), axis_values(v, where)}}});
    }
  }
  if (doc.contains("zip")) {
    if (!doc["zip"].is_array())
      throw ConfigError("/zip", "must be a list of objects whose axes advance together");
    for (size_t i = 0; i < doc["zip"].size(); ++i) {
      const auto& g = doc["zip"][i];
      const std::string gw = "/zip/" + std::to_string(i);
      if (!g.is_object() || g.empty())
        throw ConfigError(gw, "must be a non-empty object {\"/a\": [...], \"/b\": [...]} of equally long lists");
      AxisGroup group;
      for (const auto& [k, v] : g.items()) {
        const std::string where = gw + "/" + scenario::escape_pointer_token(k);
        group.axes.push_back({checked_pointer(k, where), axis_values(v, where)});
        if (group.axes.back().values.size() != group.axes.front().values.size())
          throw ConfigError(where, "has " + std::to_string(group.axes.back().values.size()) + " values but " +
                                       group.axes.front().pointer + " has " +
                                       std::to_string(group.axes.front().values.size()) +
                                       "; zipped axes need lists of the same length");
      }
      s.groups.push_back(std::move(group));
    }
  }
  if (doc.contains("derived")) {
    if (!doc["derived"].is_object())
      throw ConfigError("/derived", "must be an object {\"/parallelism/dp\": \"accelerators / (tp * pp)\"}");
    for (const auto& [k, v] : doc["derived"].items()) {
      const std::string where = "/derived/" + scenario::escape_pointer_token(k);
      if (!v.is_string())
        throw ConfigError(where, "must be an expression string such as \"accelerators / (tp * pp)\"");
      s.derived.emplace_back(checked_pointer(k, where), Expr::parse(v.get<std::string>(), where));
    }
  }
  if (doc.contains("constraints")) {
    if (!doc["constraints"].is_array())
      throw ConfigError("/constraints", "must be a list of conditions such as [\"tp * pp <= 64\"]");
    for (size_t i = 0; i < doc["constraints"].size(); ++i) {
      const auto& c = doc["constraints"][i];
      const std::string where = "/constraints/" + std::to_string(i);
      if (!c.is_string())
        throw ConfigError(where, "must be a condition string such as \"divides(tp, heads)\"");
      s.constraints.push_back(Expr::parse(c.get<std::string>(), where));
    }
  }
  std::vector<std::string> seen;
  for (const auto& c : s.columns()) {
    for (const auto& p : seen)
      if (p == c)
        throw ConfigError("/axes", c + " is swept or derived twice; name each path once");
    seen.push_back(c);
  }
  if (s.groups.empty())
    throw ConfigError("/axes", "no axes; sweep at least one scenario path, e.g. {\"/parallelism/tp\": [1, 2, 4]}");
  return s;
}

SweepSpec SweepSpec::load(const std::string& path)
{
  const ordered_json doc = scenario::load_ordered_json_file(path);
  const auto dir = std::filesystem::path(path).parent_path().string();
  return parse(doc, dir.empty() ? "." : dir);
}

std::vector<std::string> SweepSpec::columns() const
{
  std::vector<std::string> c;
  for (const auto& g : groups)
    for (const auto& a : g.axes)
      c.push_back(a.pointer);
  for (const auto& [p, e] : derived)
    c.push_back(p);
  return c;
}

size_t SweepSpec::product_size() const
{
  // Checked: a product beyond size_t saturates (it is far above the limit) instead of wrapping to 0.
  size_t n = 1;
  for (const auto& g : groups) {
    if (g.size() != 0 && n > std::numeric_limits<size_t>::max() / g.size())
      return std::numeric_limits<size_t>::max();
    n *= g.size();
  }
  return n;
}

ordered_json SweepSpec::to_json() const
{
  ordered_json j;
  j["base"] = ordered_json::parse(base.dump());
  ordered_json axes = ordered_json::object();
  ordered_json zip = ordered_json::array();
  for (const auto& g : groups) {
    ordered_json o = ordered_json::object();
    for (const auto& a : g.axes)
      o[a.pointer] = ordered_json::parse(nlohmann::json(a.values).dump());
    if (g.axes.size() == 1)
      axes[g.axes[0].pointer] = o[g.axes[0].pointer];
    else
      zip.push_back(o);
  }
  j["axes"] = axes;
  if (!zip.empty())
    j["zip"] = zip;
  if (!derived.empty()) {
    ordered_json d = ordered_json::object();
    for (const auto& [p, e] : derived)
      d[p] = e.text();
    j["derived"] = d;
  }
  if (!constraints.empty()) {
    ordered_json c = ordered_json::array();
    for (const auto& e : constraints)
      c.push_back(e.text());
    j["constraints"] = c;
  }
  return j;
}

std::string SweepSpec::fingerprint() const
{
  // Group structure matters (a zip is not a product), so hash the ordered form, base canonicalised.
  ordered_json j = to_json();
  j["base"] = ordered_dump(base);
  return fnv1a_hex(j.dump());
}

namespace {

/// Builds the point at product index `n` (mixed-radix counter, the last group fastest): its scenario, axis
/// values and derived values. Returns false when a constraint removes it. A pure function of the spec and `n`.
bool build_point(const SweepSpec& spec, const scenario::Catalog& catalog, size_t n, Point& p)
{
  std::vector<size_t> at(spec.groups.size(), 0);
  size_t rest = n;
  for (size_t g = spec.groups.size(); g-- > 0;) {
    at[g] = rest % spec.groups[g].size();
    rest /= spec.groups[g].size();
  }
  p.scenario = spec.base;
  p.axes = ordered_json::object();
  for (size_t g = 0; g < spec.groups.size(); ++g)
    for (const auto& a : spec.groups[g].axes) {
      set_at(p.scenario, a.pointer, a.values[at[g]], "/axes/" + scenario::escape_pointer_token(a.pointer));
      p.axes[a.pointer] = ordered_json::parse(a.values[at[g]].dump());
    }
  // Variables come from the point's document, else from the resolved scenario (parsed on demand).
  std::optional<json> resolved;
  bool parse_failed = false;
  Lookup lookup = [&](const std::string& ptr) -> json {
    const json::json_pointer jp(ptr);
    if (p.scenario.contains(jp))
      return p.scenario.at(jp);
    if (!resolved && !parse_failed) {
      try {
        resolved = scenario::to_json(scenario::parse_scenario(p.scenario, catalog));
      } catch (const core::ConfigError&) {
        parse_failed = true;
      }
    }
    return resolved && resolved->contains(jp) ? resolved->at(jp) : json();
  };
  for (const auto& [ptr, e] : spec.derived) {
    const json v = sweep::to_json(e.eval(lookup));
    set_at(p.scenario, ptr, v, "/derived/" + scenario::escape_pointer_token(ptr));
    p.axes[ptr] = ordered_json::parse(v.dump());
    resolved.reset();
    parse_failed = false;
  }
  for (const auto& c : spec.constraints) {
    try {
      if (!c.eval_bool(lookup))
        return false;
    } catch (const core::ConfigError&) {
      if (!parse_failed)
        throw;
      break; // the scenario itself is invalid: keep the point, it is recorded with the parser's error
    }
  }
  return true;
}

} // namespace

Point Expansion::point(size_t k) const
{
  if (k >= kept.size())
    throw core::UsageError("point " + std::to_string(k) + ": the sweep has points 0.." + std::to_string(kept.size()) +
                           " (exclusive)");
  Point p;
  build_point(*spec_, *catalog_, kept[k], p);
  p.index = k;
  return p;
}

Expansion expand(const SweepSpec& spec, const scenario::Catalog& catalog)
{
  Expansion out;
  out.spec_ = &spec;
  out.catalog_ = &catalog;
  const size_t total = spec.product_size();
  if (total > max_sweep_points)
    throw ConfigError(
        "/axes",
        (total == std::numeric_limits<size_t>::max() ? std::string("more than 10^19") : std::to_string(total)) +
            " points; a sweep is limited to " + std::to_string(max_sweep_points) + ", use constraints or fewer values");
  // Only the product index of each kept point is stored (8 bytes); a point's scenario is built when it runs.
  Point p;
  for (size_t n = 0; n < total; ++n) {
    if (build_point(spec, catalog, n, p))
      out.kept.push_back(n);
    else
      ++out.skipped;
  }
  return out;
}

} // namespace trainsim::sweep
