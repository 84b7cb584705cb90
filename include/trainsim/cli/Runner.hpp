#pragma once
#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/sim/Simulator.hpp"

namespace trainsim::cli {

struct RunOutput {
  workload::Workload workload;
  sim::SimResult sim;
  metrics::RunMetrics metrics;
};

/// The whole pipeline for one parsed scenario: topology, workload, simulation, metrics.
RunOutput run_scenario(const scenario::Scenario& s, const scenario::Catalog& catalog, const sim::SimOptions& options = {});

} // namespace trainsim::cli
