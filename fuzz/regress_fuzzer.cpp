// libFuzzer target for the regression baseline (`trainsim regress --baseline FILE`): bytes -> strict JSON ->
// Baseline, then the round trip through the text --update writes. Bad input must end in a core::Error;
// a crash, another exception or a baseline that does not read back as itself is a bug. Built like
// scenario_fuzzer.cpp; replayed in every build by ctest fuzz_regressions_regress (fuzz/seeds/regress).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "trainsim/core/Errors.hpp"
#include "trainsim/sweep/Regress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace trainsim;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto b = sweep::Baseline::parse(text, "fuzz.baseline.json");
    const auto back = sweep::Baseline::parse(b.to_text(), "written.baseline.json");
    if (back.to_text() != b.to_text()) {
      std::fprintf(stderr, "regress_fuzzer: invariant violated: the written baseline reads back as itself\n");
      std::abort();
    }
  } catch (const core::Error&) {
    // Bad input, reported as such (exit 2 in the CLI): expected.
  }
  return 0;
}
