// libFuzzer target for the scenario loader: bytes -> JSON -> scenario -> resource guard -> fabric and
// workload with its program check (workload::check_programs, run by build_workload: what `trainsim validate`
// does, without SimGrid). Bad input must end in a core::Error of exit code 2; an internal error (a broken
// program invariant), anything else escaping, a sanitizer report, or a non-finite or negative figure in an
// accepted scenario is a bug and aborts. Built by fuzz/CMakeLists.txt twice: with clang's libFuzzer
// (TRAINSIM_FUZZ=ON, tools/fuzz) and, in every build, as `fuzz_replay`, which replays the seed corpus and
// the regression inputs in tests/fuzz_regressions/ under ctest.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"
#include "trainsim/workload/ResourceGuard.hpp"

namespace {

using namespace trainsim;

[[noreturn]] void invariant_failed(const char* what, double value)
{
  std::fprintf(stderr, "scenario_fuzzer: invariant violated: %s (value %g)\n", what, value);
  std::abort();
}

void require_finite_nonnegative(const char* what, double x)
{
  if (!std::isfinite(x) || x < 0)
    invariant_failed(what, x);
}

void check_workload(const scenario::Scenario& s, const workload::Workload& w)
{
  if (static_cast<int>(w.stages.size()) != s.parallelism.pp)
    invariant_failed("one program per pipeline stage", static_cast<double>(w.stages.size()));
  require_finite_nonnegative("model FLOPs per step", w.model_flops_per_step);
  require_finite_nonnegative("hardware FLOPs per step", w.hardware_flops_per_step);
  if (w.hardware_flops_per_step < w.model_flops_per_step)
    invariant_failed("hardware FLOPs >= model FLOPs", w.hardware_flops_per_step - w.model_flops_per_step);
  require_finite_nonnegative("memory total", w.memory.total());
  for (const auto& st : w.stages) {
    require_finite_nonnegative("stage compute seconds", st.compute_s);
    for (const auto& op : st.ops) {
      require_finite_nonnegative("op seconds", op.seconds);
      require_finite_nonnegative("op bytes", op.bytes);
      if (op.kind == workload::OpKind::tp_comm && op.steps < 0)
        invariant_failed("tp ring steps", op.steps);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  static const auto& cat = scenario::Catalog::instance();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto s = scenario::parse_scenario_text(text, "fuzz.json", cat);
    (void)scenario::to_json(s).dump();
    // Tighter than the defaults: keep every input fast (a scenario over them is refused, as the CLI would).
    workload::ResourceLimits limits;
    limits.memory_bytes = 512e6;
    limits.seconds = 20;
    const auto estimate = workload::estimate_resources(s);
    require_finite_nonnegative("estimated memory", estimate.memory_bytes);
    require_finite_nonnegative("estimated time", estimate.seconds);
    workload::check_resources(s, limits);
    if (estimate.hosts <= 4096) {
      const auto fabric = topology::Fabric::build(s.cluster);
      if (fabric.summary().accelerators != s.cluster.total_accelerators())
        invariant_failed("fabric has every accelerator", static_cast<double>(fabric.summary().accelerators));
    }
    const auto w = workload::build_workload(s, cat.calibration()); // build_workload runs check_programs
    check_workload(s, w);
    // What a run keeps of an extrapolated step (docs/performance.md): the same figures, without programs.
    const auto f = workload::build_workload_figures(s, cat.calibration());
    if (f.has_programs() || f.compute_activity != w.compute_activity || f.clock != w.clock ||
        f.hardware_flops_per_step != w.hardware_flops_per_step || f.memory.total() != w.memory.total())
      invariant_failed("the workload's figures without its programs are those with them",
                       f.compute_activity - w.compute_activity);
  } catch (const core::Error& e) {
    // Bad input, reported as such (exit 2 in the CLI), is expected; an internal error (exit 3: a broken
    // program invariant, workload::ProgramError) is a bug.
    if (e.exit_code() != core::ExitCode::bad_input) {
      std::fprintf(stderr, "scenario_fuzzer: internal error on an input: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
