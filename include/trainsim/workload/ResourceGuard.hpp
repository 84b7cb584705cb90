#pragma once
#include <string>

#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::workload {

/// What simulating a scenario would cost this machine, estimated from the scenario alone (before the
/// fabric, the workload or the SimGrid platform are built), so that an impossible run fails in
/// milliseconds instead of exhausting memory or running for days.
struct ResourceEstimate {
  double hosts = 0;      ///< accelerators: SimGrid hosts and fabric vertices
  double links = 0;      ///< fabric links, an upper estimate (scale-up + NIC + switch trunks)
  double actors = 0;     ///< SimGrid actors: one per pipeline stage, one more per stage with dp > 1
  double ops = 0;        ///< entries of the per-stage programs of one step (workload)
  double activities = 0; ///< SimGrid executions, transfers and waits over all simulated steps
  double memory_bytes = 0;
  double seconds = 0; ///< wall time on one core of a current server
  std::string describe() const;
};

/// The stated limits; defaults are documented in docs/reliability.md and docs/scenario-format.md.
struct ResourceLimits {
  static constexpr double default_memory_bytes = 16.0 * 1073741824; // 16 GiB
  static constexpr double default_seconds = 3600;
  double memory_bytes = default_memory_bytes;
  double seconds = default_seconds;
};

/// Cost constants measured on the repository's scenarios (see docs/reliability.md, "Resource guards").
/// They are deliberately on the high side: the guard must stop a run that cannot finish, not a borderline one.
struct ResourceCosts {
  double bytes_per_host = 8e3;     ///< fabric vertex + SimGrid host, CPU model, energy plugin, routing
  double bytes_per_link = 2e3;     ///< fabric link + two split-duplex SimGrid links
  double bytes_per_op = 160;       ///< one Op of a stage program (with its mailbox tag)
  double bytes_per_activity = 2e3; ///< a live SimGrid activity and its mailbox
  double base_bytes = 64e6;        ///< process, catalogue, SimGrid engine
  double seconds_per_host = 60e-6; ///< building the fabric and the platform
  double seconds_per_activity = 20e-6;
};

ResourceEstimate estimate_resources(const scenario::Scenario& s, const ResourceCosts& costs = {});

/// Throws core::InfeasibleError at /simulation, with the estimate and how to proceed, when the estimate
/// exceeds the scenario's limits (/simulation/max_memory, /simulation/max_time, or the command line's).
void check_resources(const scenario::Scenario& s, const ResourceLimits& limits);
/// The scenario's own limits (its /simulation block, else the defaults).
ResourceLimits limits_of(const scenario::Scenario& s);

} // namespace trainsim::workload
