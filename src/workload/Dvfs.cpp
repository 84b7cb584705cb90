#include "trainsim/workload/Dvfs.hpp"

#include <algorithm>
#include <cmath>

namespace trainsim::workload {

double accelerator_power(const scenario::Accelerator& a, const scenario::PowerOptions& p, double activity, double clock)
{
  return a.idle_power_w + (a.peak_power_w - a.idle_power_w) * activity * std::pow(clock, p.dvfs_exponent);
}

double compute_activity(const scenario::PowerOptions& p, const scenario::Calibration& cal, double flop_utilisation)
{
  if (p.compute_activity)
    return *p.compute_activity;
  const double rel = cal.gemm_efficiency > 0 ? flop_utilisation / cal.gemm_efficiency : 1.0;
  return std::clamp(rel, p.memory_activity, 1.0);
}

double running_clock(const scenario::Accelerator& a, const scenario::PowerOptions& p, double activity)
{
  double f = p.clock;
  if (!p.cap_w)
    return f;
  const double headroom = *p.cap_w - a.idle_power_w;
  const double dynamic = (a.peak_power_w - a.idle_power_w) * activity;
  if (dynamic <= 0 || accelerator_power(a, p, activity, f) <= *p.cap_w)
    return f;
  if (headroom <= 0)
    return 0.1; // the cap is at or below idle power: the parser rejects it; keep a floor here
  return std::clamp(std::pow(headroom / dynamic, 1.0 / p.dvfs_exponent), 0.1, f);
}

} // namespace trainsim::workload
