// libFuzzer target for the sweep file: bytes -> strict JSON -> SweepSpec -> expansion (small sweeps only)
// -> every point's scenario. Bad input must end in a core::Error (the CLI's exit code 2); anything else
// escaping, a sanitizer report, a point count above the product or a fingerprint that changes over the
// self-contained form (what `sweep --slurm` writes) is a bug and aborts. Built like scenario_fuzzer.cpp:
// with libFuzzer (TRAINSIM_FUZZ=ON, tools/fuzz) and, in every build, as fuzz_replay_sweep (ctest
// fuzz_regressions_sweep replays fuzz/seeds/sweep and the sweep-* bad-input files).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/sweep/SweepSpec.hpp"

namespace {

[[noreturn]] void invariant_failed(const char* what)
{
  std::fprintf(stderr, "sweep_fuzzer: invariant violated: %s\n", what);
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace trainsim;
  static const auto& cat = scenario::Catalog::instance();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    // A relative "base" path resolves in a folder that does not exist: no file outside the input is read
    // (an absolute path may name one; read_file refuses special files and large ones).
    const auto spec = sweep::SweepSpec::parse(scenario::parse_ordered_json_strict(text, "fuzz.sweep.json"),
                                              "/nonexistent-trainsim-fuzz");
    const auto again = sweep::SweepSpec::parse(spec.to_json(), "/nonexistent-trainsim-fuzz");
    if (again.fingerprint() != spec.fingerprint())
      invariant_failed("the self-contained form is the same sweep");
    if (spec.product_size() == 0)
      invariant_failed("a parsed sweep has at least one point");
    if (spec.product_size() > 64) // keep every input fast; the limit itself is a unit test
      return 0;
    const auto ex = sweep::expand(spec, cat);
    if (ex.size() + ex.skipped != spec.product_size())
      invariant_failed("kept + skipped == product");
    for (size_t k = 0; k < ex.size(); ++k)
      (void)ex.point(k).scenario.dump();
  } catch (const core::Error&) {
    // Bad input, reported as such (exit 2 in the CLI): expected.
  }
  return 0;
}
