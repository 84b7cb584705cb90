#pragma once
#include "trainsim/cli/Runner.hpp"

namespace trainsim::test {

/// Runs `s` with the real catalogue at fidelity `f`, tracing step 0 (the per-op timeline the model tests read).
inline cli::RunOutput run_traced(const scenario::Scenario& s, sim::Fidelity f = sim::Fidelity::automatic)
{
  sim::SimOptions o;
  o.trace_step = 0;
  o.fidelity = f;
  return cli::run_scenario(s, scenario::Catalog::instance(), o);
}

} // namespace trainsim::test
