// libFuzzer target for the sweep expression language (constraints and derived values): bytes -> Expr::parse
// -> eval against a fixed point. Bad input must end in a core::Error; a crash (the parser's or evaluator's
// stack), a sanitizer report or another exception is a bug. Built like scenario_fuzzer.cpp; replayed in
// every build by ctest fuzz_regressions_expr (fuzz/seeds/expr).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "trainsim/core/Errors.hpp"
#include "trainsim/sweep/Expr.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace trainsim;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const sweep::Lookup lookup = [](const std::string& ptr) -> nlohmann::json {
    static const nlohmann::json point = {
        {"parallelism", {{"tp", 4}, {"pp", 2}, {"dp", 8}, {"vpp", 1}, {"zero_stage", 1}, {"sequence_parallel", true}}},
        {"training", {{"micro_batch_size", 1}, {"global_batch_size", 512}, {"recompute", "selective"}}},
        {"cluster", {{"nodes", 8}, {"accelerators_per_node", 8}}},
        {"model", {{"layers", 32}, {"attention_heads", 32}, {"hidden_size", 4096}, {"seq_length", 8192}}},
        {"site", {{"pue", 1.2}}}};
    try {
      const nlohmann::json::json_pointer jp(ptr);
      return point.contains(jp) ? point.at(jp) : nlohmann::json();
    } catch (const nlohmann::json::exception&) {
      return nlohmann::json(); // not a pointer: absent, as Expansion's lookup reports it
    }
  };
  try {
    const auto e = sweep::Expr::parse(text, "/constraints/0");
    (void)sweep::to_json(e.eval(lookup)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)e.eval_bool(lookup);
  } catch (const core::Error&) {
    // Bad input, reported as such (exit 2 in the CLI): expected.
  }
  return 0;
}
