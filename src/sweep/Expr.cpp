#include "trainsim/sweep/Expr.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <vector>

#include "trainsim/core/Errors.hpp"

namespace trainsim::sweep {

struct Expr::Node {
  enum Kind { literal, variable, unary, binary, call } kind = literal;
  int depth = 1; ///< of the subtree: evaluation recurses this deep
  Value value = 0.0;
  std::string name; ///< variable pointer/alias, operator or function name
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

/// A value as JSON text for a message; bytes that are not UTF-8 are replaced, never thrown on.
std::string shown(const nlohmann::json& v)
{
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr size_t max_expression_length = 1000;
constexpr int max_expression_nesting = 64; ///< ( ), unary operators and calls
constexpr int max_expression_depth = 128;  ///< of the syntax tree (a + b + c ... is as deep as it is long)

using NodePtr = std::shared_ptr<const Expr::Node>;

const std::map<std::string, std::string>& aliases()
{
  static const std::map<std::string, std::string> table{
      {"tp", "/parallelism/tp"},
      {"pp", "/parallelism/pp"},
      {"dp", "/parallelism/dp"},
      {"vpp", "/parallelism/vpp"},
      {"zero", "/parallelism/zero_stage"},
      {"sp", "/parallelism/sequence_parallel"},
      {"mbs", "/training/micro_batch_size"},
      {"gbs", "/training/global_batch_size"},
      {"recompute", "/training/recompute"},
      {"nodes", "/cluster/nodes"},
      {"accelerators_per_node", "/cluster/accelerators_per_node"},
      {"layers", "/model/layers"},
      {"heads", "/model/attention_heads"},
      {"kv_heads", "/model/kv_heads"},
      {"hidden", "/model/hidden_size"},
      {"ffn", "/model/ffn_hidden_size"},
      {"seq", "/model/seq_length"},
  };
  return table;
}

class Parser {
public:
  Parser(const std::string& text, const std::string& pointer) : text_(text), pointer_(pointer) {}

  NodePtr parse()
  {
    if (text_.size() > max_expression_length)
      throw core::ConfigError(pointer_, "expression of " + std::to_string(text_.size()) + " characters; at most " +
                                            std::to_string(max_expression_length) +
                                            " are accepted, split it into several constraints");
    auto n = parse_or();
    skip_space();
    if (pos_ < text_.size())
      fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return n;
  }

private:
  [[noreturn]] void fail(const std::string& what) const
  {
    throw core::ConfigError(pointer_, "\"" + text_ + "\": " + what + " at column " + std::to_string(pos_ + 1) +
                                          "; write e.g. \"tp * pp * dp == accelerators\" or \"divides(tp, heads)\"");
  }
  void skip_space()
  {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  bool accept(const std::string& op)
  {
    skip_space();
    if (text_.compare(pos_, op.size(), op) != 0)
      return false;
    // "=" alone, "<" before "<=", "!" before "!=": the caller orders longer operators first.
    pos_ += op.size();
    return true;
  }
  NodePtr make(Expr::Node::Kind k, std::string name, std::vector<NodePtr> args) const
  {
    auto n = std::make_shared<Expr::Node>();
    n->kind = k;
    n->name = std::move(name);
    n->args = std::move(args);
    for (const auto& a : n->args)
      n->depth = std::max(n->depth, a->depth + 1);
    if (n->depth > max_expression_depth)
      fail("nested deeper than " + std::to_string(max_expression_depth) + " operations");
    return n;
  }
  /// Counts the recursion of ( ), ! and - and function calls, so that the parser's stack stays small.
  class Nest {
  public:
    explicit Nest(Parser& p) : p_(p)
    {
      if (++p_.nesting_ > max_expression_nesting)
        p_.fail("nested deeper than " + std::to_string(max_expression_nesting) + " levels");
    }
    ~Nest() { --p_.nesting_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

  private:
    Parser& p_;
  };
  NodePtr parse_or()
  {
    auto l = parse_and();
    while (accept("||"))
      l = make(Expr::Node::binary, "||", {l, parse_and()});
    return l;
  }
  NodePtr parse_and()
  {
    auto l = parse_cmp();
    while (accept("&&"))
      l = make(Expr::Node::binary, "&&", {l, parse_cmp()});
    return l;
  }
  NodePtr parse_cmp()
  {
    auto l = parse_add();
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"})
      if (accept(op))
        return make(Expr::Node::binary, op, {l, parse_add()});
    return l;
  }
  NodePtr parse_add()
  {
    auto l = parse_mul();
    for (;;) {
      if (accept("+"))
        l = make(Expr::Node::binary, "+", {l, parse_mul()});
      else if (accept("-"))
        l = make(Expr::Node::binary, "-", {l, parse_mul()});
      else
        return l;
    }
  }
  NodePtr parse_mul()
  {
    auto l = parse_unary();
    for (;;) {
      if (accept("*"))
        l = make(Expr::Node::binary, "*", {l, parse_unary()});
      else if (accept("/"))
        l = make(Expr::Node::binary, "/", {l, parse_unary()});
      else if (accept("%"))
        l = make(Expr::Node::binary, "%", {l, parse_unary()});
      else
        return l;
    }
  }
  NodePtr parse_unary()
  {
    Nest nest(*this);
    if (accept("!"))
      return make(Expr::Node::unary, "!", {parse_unary()});
    if (accept("-"))
      return make(Expr::Node::unary, "-", {parse_unary()});
    return parse_primary();
  }
  NodePtr parse_primary()
  {
    skip_space();
    if (pos_ >= text_.size())
      fail("expression ends early");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      auto n = parse_or();
      if (!accept(")"))
        fail("missing ')'");
      return n;
    }
    if (c == '{') {
      const size_t end = text_.find('}', pos_);
      if (end == std::string::npos || end == pos_ + 1 || text_[pos_ + 1] != '/')
        fail("a path in braces must look like {/site/pue}");
      auto n = make(Expr::Node::variable, text_.substr(pos_ + 1, end - pos_ - 1), {});
      pos_ = end + 1;
      return n;
    }
    if (c == '\'') {
      const size_t end = text_.find('\'', pos_ + 1);
      if (end == std::string::npos)
        fail("unterminated string");
      auto n = std::make_shared<Expr::Node>();
      n->value = text_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(text_.substr(pos_), &used);
      } catch (const std::exception&) {
        fail("bad number");
      }
      pos_ += used;
      auto n = std::make_shared<Expr::Node>();
      n->value = v;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
        ++pos_;
      const std::string id = text_.substr(start, pos_ - start);
      if (id == "true" || id == "false") {
        auto n = std::make_shared<Expr::Node>();
        n->value = id == "true";
        return n;
      }
      if (accept("(")) {
        static const std::map<std::string, size_t> functions{{"divides", 2}, {"min", 2}, {"max", 2}, {"pow2", 1}};
        auto f = functions.find(id);
        if (f == functions.end())
          fail("unknown function " + id + "; valid: divides, min, max, pow2");
        std::vector<NodePtr> args{parse_or()};
        while (accept(","))
          args.push_back(parse_or());
        if (!accept(")"))
          fail("missing ')' after the arguments of " + id);
        if (args.size() != f->second)
          fail(id + " takes " + std::to_string(f->second) + " argument(s)");
        return make(Expr::Node::call, id, std::move(args));
      }
      if (id != "accelerators" && alias_pointer(id).empty()) {
        std::string valid = "accelerators";
        for (const auto& [k, v] : aliases())
          valid += ", " + k;
        pos_ = start;
        fail("unknown name " + id + " (valid: " + valid + ", or a path in braces like {/site/pue})");
      }
      return make(Expr::Node::variable, id, {});
    }
    fail("unexpected '" + std::string(1, c) + "'");
  }

  const std::string& text_;
  const std::string& pointer_;
  size_t pos_ = 0;
  int nesting_ = 0;
};

class Evaluator {
public:
  Evaluator(const Lookup& lookup, const std::string& text, const std::string& pointer)
      : lookup_(lookup), text_(text), pointer_(pointer)
  {
  }

  Value eval(const Expr::Node& n) const
  {
    switch (n.kind) {
    case Expr::Node::literal:
      return n.value;
    case Expr::Node::variable:
      return variable(n.name);
    case Expr::Node::unary: {
      Value v = eval(*n.args[0]);
      if (n.name == "!")
        return !boolean(v);
      return -number(v);
    }
    case Expr::Node::binary:
      return binary(n);
    case Expr::Node::call: {
      const double a = number(eval(*n.args[0]));
      if (n.name == "pow2")
        return a >= 1 && std::floor(a) == a && (static_cast<long long>(a) & (static_cast<long long>(a) - 1)) == 0;
      const double b = number(eval(*n.args[1]));
      if (n.name == "min")
        return std::min(a, b);
      if (n.name == "max")
        return std::max(a, b);
      return a != 0 && std::fmod(b, a) == 0; // divides(a, b)
    }
    }
    return 0.0;
  }

private:
  [[noreturn]] void fail(const std::string& what) const
  {
    throw core::ConfigError(pointer_, "\"" + text_ + "\": " + what);
  }
  Value variable(const std::string& name) const
  {
    if (name == "accelerators")
      return number(variable("nodes")) * number(variable("accelerators_per_node"));
    const std::string ptr = name[0] == '/' ? name : alias_pointer(name);
    const nlohmann::json v = lookup_(ptr);
    if (v.is_number())
      return v.get<double>();
    if (v.is_boolean())
      return v.get<bool>();
    if (v.is_string())
      return v.get<std::string>();
    fail(name + (name[0] == '/' ? "" : " (" + ptr + ")") +
         (v.is_null() ? " is not set in this point" : " is not a number, string or boolean"));
  }
  double number(const Value& v) const
  {
    if (const double* d = std::get_if<double>(&v))
      return *d;
    fail("a number was expected, got " + shown(to_json(v)));
  }
  bool boolean(const Value& v) const
  {
    if (const bool* b = std::get_if<bool>(&v))
      return *b;
    fail("a comparison or true/false was expected, got " + shown(to_json(v)));
  }
  Value binary(const Expr::Node& n) const
  {
    const std::string& op = n.name;
    if (op == "&&")
      return boolean(eval(*n.args[0])) && boolean(eval(*n.args[1]));
    if (op == "||")
      return boolean(eval(*n.args[0])) || boolean(eval(*n.args[1]));
    const Value l = eval(*n.args[0]);
    const Value r = eval(*n.args[1]);
    if (op == "==" || op == "!=") {
      if (l.index() != r.index())
        fail("cannot compare " + shown(to_json(l)) + " with " + shown(to_json(r)));
      return (l == r) == (op == "==");
    }
    const double a = number(l), b = number(r);
    if (op == "<")
      return a < b;
    if (op == "<=")
      return a <= b;
    if (op == ">")
      return a > b;
    if (op == ">=")
      return a >= b;
    if (op == "+")
      return a + b;
    if (op == "-")
      return a - b;
    if (op == "*")
      return a * b;
    if (op == "/") {
      if (b == 0)
        fail("division by zero");
      return a / b;
    }
    if (b == 0)
      fail("modulo by zero");
    return std::fmod(a, b);
  }

  const Lookup& lookup_;
  const std::string& text_;
  const std::string& pointer_;
};

} // namespace

std::string alias_pointer(const std::string& name)
{
  auto it = aliases().find(name);
  return it == aliases().end() ? std::string() : it->second;
}

nlohmann::json to_json(const Value& v)
{
  if (const double* d = std::get_if<double>(&v)) {
    if (std::floor(*d) == *d && std::fabs(*d) < 9e15)
      return static_cast<long long>(*d);
    return *d;
  }
  if (const bool* b = std::get_if<bool>(&v))
    return *b;
  return std::get<std::string>(v);
}

Expr Expr::parse(const std::string& text, const std::string& pointer)
{
  Expr e;
  e.text_ = text;
  e.pointer_ = pointer;
  e.root_ = Parser(text, pointer).parse();
  return e;
}

Value Expr::eval(const Lookup& lookup) const
{
  return Evaluator(lookup, text_, pointer_).eval(*root_);
}

bool Expr::eval_bool(const Lookup& lookup) const
{
  const Value v = eval(lookup);
  if (const bool* b = std::get_if<bool>(&v))
    return *b;
  throw core::ConfigError(pointer_, "\"" + text_ + "\" is not a condition (it gives " + shown(to_json(v)) +
                                        "); write a comparison such as \"tp <= 8\"");
}

} // namespace trainsim::sweep
