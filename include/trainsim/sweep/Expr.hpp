#pragma once
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

namespace trainsim::sweep {

/// A value in a sweep expression: a number, a string or a boolean.
using Value = std::variant<double, std::string, bool>;

/// Looks up a variable: a JSON pointer ("/parallelism/tp") or an alias ("tp"); returns null JSON when absent.
using Lookup = std::function<nlohmann::json(const std::string& pointer)>;

/// Small expression language of sweep constraints and derived values:
///   numbers, 'strings', true/false; variables `tp`, `pp`, `dp`, `vpp`, `mbs`, `gbs`, `nodes`,
///   `accelerators_per_node`, `accelerators`, `layers`, `heads`, `kv_heads`, `hidden`, `ffn`, `seq`, `zero`,
///   or any scenario path in braces `{/site/pue}`; operators + - * / % == != < <= > >= && || ! and ( );
///   functions divides(a, b) (b is a multiple of a), min(a, b), max(a, b), pow2(a) (a is a power of two).
/// Parsed once; errors name the expression and the column of the fault.
class Expr {
public:
  /// Throws core::ConfigError at `pointer` when the text does not parse.
  static Expr parse(const std::string& text, const std::string& pointer);
  /// Evaluates; throws core::ConfigError naming `pointer` when a variable is missing or types mismatch.
  Value eval(const Lookup& lookup) const;
  bool eval_bool(const Lookup& lookup) const;
  const std::string& text() const { return text_; }

  struct Node;

private:
  std::string text_;
  std::string pointer_;
  std::shared_ptr<const Node> root_;
};

/// The JSON pointer an alias stands for ("tp" -> "/parallelism/tp"); empty when `name` is no alias.
/// "accelerators" is special: nodes * accelerators_per_node.
std::string alias_pointer(const std::string& name);

/// Renders a value as JSON (numbers that are whole become integers).
nlohmann::json to_json(const Value& v);

} // namespace trainsim::sweep
