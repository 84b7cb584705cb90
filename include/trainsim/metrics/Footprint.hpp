#pragma once
#include <string>
#include <vector>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/topology/Fabric.hpp"

namespace trainsim::metrics {

/// Scale-out network ports, counted from the fabric's links: one NIC port and one leaf port per NIC link;
/// a switch-to-switch trunk of capacity B is B / nic_bandwidth cables, each with a port at both ends.
/// Scale-up switches (NVSwitch) are inside the node and part of `host_power`.
struct NetworkPorts {
  long nic_ports = 0;
  long switch_ports = 0;
  long cables = 0;   ///< scale-out cables (NIC links and switch-to-switch)
  long switches = 0; ///< ceil(switch_ports / switch_radix)
};
NetworkPorts count_ports(const topology::Fabric& fabric, double nic_bandwidth, int switch_radix);

// ---- Cooling -------------------------------------------------------------------------------------------

/// PUE at an outdoor temperature (Cooling model, docs/energy-carbon.md):
///   1 + distribution_loss + fan_pump_overhead + max(0, 1 / COP(T)) where the chiller runs only when
///   T + approach > supply temperature, with COP = carnot_fraction × T_supply / (T + approach − T_supply) (K).
double pue_at(const scenario::Cooling& c, double outdoor_c);
/// Time-averaged PUE over a run of `hours` hours starting `start_hour` hours into the calendar year
/// (site.pue when the cooling model is off; monthly temperatures map by calendar month).
double average_pue(const scenario::Site& site, double start_hour, double hours);

// ---- Carbon ---------------------------------------------------------------------------------------------

/// Time-averaged location-based intensity over the run: the hourly profile indexed by
/// (hour of year of the start + hour of the run) modulo its length; the grid's factor without a profile.
double average_intensity(const scenario::Site& site, double start_hour, double hours);

// ---- Failures and checkpoints ------------------------------------------------------------------------------

/// Failure rates (per second) of the job's components; the job is interrupted by any of them.
struct FailureRates {
  double accelerators = 0, nodes = 0, nics = 0, links = 0, switches = 0;
  double total() const { return accelerators + nodes + nics + links + switches; }
  /// Failures that take a node out of the job (the causes that replace a node; without causes accelerator,
  /// node, NIC): it needs a spare or a re-queue.
  double replacing() const { return replacing_rate; }
  double replacing_rate = 0;
  std::vector<double> causes; ///< per scenario::Failures::Cause, same order (empty without causes)
};
FailureRates failure_rates(const scenario::Failures& f, long accelerators, long nodes, const NetworkPorts& ports);

/// Young (1974): tau = sqrt(2 C M).
double young_interval(double checkpoint_s, double mtbf_s);
/// Daly (2006) higher-order optimum: sqrt(2CM)·[1 + (1/3)·sqrt(C/2M) + (1/9)·(C/2M)] − C for C < 2M, else M.
double daly_interval(double checkpoint_s, double mtbf_s);

/// Expected outcome of a run needing `useful_s` seconds of training under exponential failures with
/// mean `mtbf_s` (infinite: no failures), checkpoints of `checkpoint_s` every `interval_s` of work (0: none),
/// and `restart_s` of downtime per interruption. Daly's (2006) complete model:
///   wall = M · e^(R/M) · (e^((tau+C)/M) − 1) · T_s / tau.
struct RunTimeline {
  double useful_s = 0, checkpoint_s = 0, lost_s = 0, restart_s = 0, wall_s = 0;
  double interruptions = 0; ///< expected failures during the run (also during restarts)
  double restarts = 0;      ///< completed restarts
  double checkpoints = 0;
};
RunTimeline expected_timeline(double useful_s, double checkpoint_s, double interval_s, double restart_s, double mtbf_s);

/// P(X >= k) for X ~ Poisson(mean): the chance that no hot spare is free.
double poisson_tail(double mean, int k);

// ---- Bookkeeping (published method) -------------------------------------------------------------------------

/// The published method of Patterson et al. (2021) and LLaMA Table 15 (Wu et al. 2022): energy =
/// accelerator-hours × average power per accelerator × PUE, carbon = energy × grid factor. The same
/// functions as the simulated path (constant-power segments, facility overhead, carbon).
struct BookkeepingInput {
  double accelerator_hours = 0;
  double power_w = 0; ///< average power per accelerator (system share included if the source does)
  double pue = 1.0;
  double kg_per_kwh = 0;  ///< location-based grid factor
  double green_share = 0; ///< contracted green power
  double coal_kg_per_kwh = 0;
};
struct BookkeepingResult {
  double energy_mwh = 0, carbon_tco2e = 0, carbon_market_tco2e = 0, carbon_coal_tco2e = 0;
};
BookkeepingResult bookkeeping(const BookkeepingInput& in);

} // namespace trainsim::metrics
