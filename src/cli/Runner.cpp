#include "trainsim/cli/Runner.hpp"

#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"

namespace trainsim::cli {

RunOutput run_scenario(const scenario::Scenario& s, const scenario::Catalog& catalog, const sim::SimOptions& options)
{
  RunOutput out;
  const auto fabric = topology::Fabric::build(s.cluster);
  out.workload = workload::build_workload(s, catalog.calibration());
  out.sim = sim::simulate(s, out.workload, fabric, catalog.calibration(), options);
  out.metrics = metrics::compute(s, out.workload, out.sim);
  return out;
}

} // namespace trainsim::cli
