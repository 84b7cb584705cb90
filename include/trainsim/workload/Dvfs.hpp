#pragma once
#include "trainsim/scenario/Catalog.hpp"

namespace trainsim::workload {

/// Accelerator power model by state (docs/energy-carbon.md). CMOS dynamic power is C·V²·f and in the DVFS
/// range the voltage follows the clock, so the dynamic part scales as clock^exponent (exponent 3 by
/// default); the idle power (leakage, HBM refresh, board) does not scale:
///   P(activity, clock) = P_idle + (P_peak − P_idle) · activity · clock^exponent.
double accelerator_power(const scenario::Accelerator& a, const scenario::PowerOptions& p, double activity,
                         double clock);

/// Activity of the compute state from the FLOP utilisation while computing (achieved FLOP/s over peak at
/// the running clock): a GEMM at the calibrated GEMM efficiency draws full dynamic power; memory-bound
/// work draws at least `memory_activity`. `power.compute_activity` overrides it.
double compute_activity(const scenario::PowerOptions& p, const scenario::Calibration& cal, double flop_utilisation);

/// The DVFS state the accelerator runs compute at: `power.clock`, lowered until the compute-state power
/// fits under `power.cap` (what a power limit does: the firmware lowers clocks until the board is under it).
double running_clock(const scenario::Accelerator& a, const scenario::PowerOptions& p, double activity);

} // namespace trainsim::workload
