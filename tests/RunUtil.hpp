#pragma once
#include "trainsim/cli/Runner.hpp"
#include "trainsim/collective/Protocol.hpp"

namespace trainsim::test {

/// Runs `s` with the real catalogue at fidelity `f`, tracing step 0 (the per-op timeline the model tests read).
inline cli::RunOutput run_traced(const scenario::Scenario& s, sim::Fidelity f = sim::Fidelity::automatic)
{
  sim::SimOptions o;
  o.trace_step = 0;
  o.fidelity = f;
  return cli::run_scenario(s, scenario::Catalog::instance(), o);
}

/// A ring collective of `members` ranks, one per node on the scenario's fabric, moving `link_bytes` through each
/// member's NIC: the alpha-beta bound (members - 1 network steps over two hops each, the scale-out bus efficiency).
inline double ring_alpha_beta(const scenario::Scenario& s, int members, double link_bytes)
{
  const auto& cal = scenario::Catalog::instance().calibration();
  collective::Call c;
  c.steps = members - 1;
  c.scale_out_steps = members - 1;
  c.link = collective::scale_out;
  c.link_bandwidth = s.cluster.fabric.nic_bandwidth * cal.scale_out_bus_efficiency;
  c.route_latency = 2 * s.cluster.fabric.latency;
  c.link_bytes = link_bytes;
  return collective::ideal_time(c, cal.collective_step_latency_s);
}

} // namespace trainsim::test
