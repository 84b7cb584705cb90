#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/sweep/Expr.hpp"

namespace trainsim::sweep {

/// One swept scenario path and its values.
struct Axis {
  std::string pointer;
  std::vector<nlohmann::json> values;
};

/// Axes that advance together (a plain axis is a group of one); the sweep is the product over groups.
struct AxisGroup {
  std::vector<Axis> axes;
  size_t size() const { return axes.front().values.size(); }
};

/// A sweep file: a base scenario, axes, derived values and constraints (docs/sweep.md).
struct SweepSpec {
  nlohmann::json base;
  std::vector<AxisGroup> groups;
  std::vector<std::pair<std::string, Expr>> derived; ///< scenario path -> expression, applied in order
  std::vector<Expr> constraints;

  /// Parses a sweep document; `base_dir` resolves a relative "base" path. Errors name the JSON pointer.
  static SweepSpec parse(const nlohmann::ordered_json& doc, const std::string& base_dir);
  static SweepSpec load(const std::string& path);

  /// The result columns: swept paths in order, then derived paths.
  std::vector<std::string> columns() const;
  /// Points of the full product, before constraints (checked: saturates at SIZE_MAX instead of wrapping).
  size_t product_size() const;
  /// Stable identity of the sweep (hex FNV-1a of its canonical form): resume and merge check it.
  std::string fingerprint() const;
  /// The self-contained sweep document (base inlined), for shards on other machines.
  nlohmann::ordered_json to_json() const;
};

/// One point of a sweep: its index among the points that pass the constraints, its axis values, and the
/// scenario document to run.
struct Point {
  size_t index = 0;
  nlohmann::ordered_json axes; ///< column -> value
  nlohmann::json scenario;
};

/// The points of a sweep that pass the constraints. Lazy: only each point's index in the product is kept
/// (8 bytes a point), and point(k) rebuilds its scenario, so memory does not grow with scenario copies.
/// Refers to the spec and catalogue it was expanded from, which must outlive it.
struct Expansion {
  std::vector<size_t> kept; ///< product index of each point, in order
  size_t skipped = 0;       ///< points removed by the constraints
  size_t size() const { return kept.size(); }
  /// Point k (0 <= k < size()); throws UsageError beyond.
  Point point(size_t k) const;

  const SweepSpec* spec_ = nullptr;
  const scenario::Catalog* catalog_ = nullptr;
};

/// The largest sweep, in points of the full product (before constraints).
inline constexpr size_t max_sweep_points = 10'000'000;

/// The cartesian product over the axis groups (first group outermost), derived values applied, points
/// failing a constraint removed. Constraint variables come from the point's document or, when absent there,
/// from the resolved scenario (model presets expanded).
Expansion expand(const SweepSpec& spec, const scenario::Catalog& catalog);

/// Sets `value` at JSON pointer `pointer` of `doc`, creating objects on the way. Throws ConfigError at `where`.
void set_at(nlohmann::json& doc, const std::string& pointer, const nlohmann::json& value, const std::string& where);

/// 64-bit FNV-1a of a text, in hex.
std::string fnv1a_hex(const std::string& text);

} // namespace trainsim::sweep
