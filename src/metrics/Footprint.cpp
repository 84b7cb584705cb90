#include "trainsim/metrics/Footprint.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "trainsim/metrics/Metrics.hpp"

namespace trainsim::metrics {

NetworkPorts count_ports(const topology::Fabric& fabric, double nic_bandwidth, int switch_radix)
{
  NetworkPorts p;
  for (const auto& l : fabric.links()) {
    if (l.kind == topology::LinkKind::scale_up)
      continue;
    if (l.kind == topology::LinkKind::nic) {
      ++p.nic_ports;
      ++p.switch_ports;
      ++p.cables;
      continue;
    }
    // A trunk: its capacity in cables of the NIC's port speed, a port at each end.
    const long cables = nic_bandwidth > 0 ? std::lround(std::ceil(l.bandwidth / nic_bandwidth - 1e-9)) : 0;
    p.cables += cables;
    p.switch_ports += 2 * cables;
  }
  p.switches = switch_radix > 0 ? (p.switch_ports + switch_radix - 1) / switch_radix : 0;
  return p;
}

double pue_at(const scenario::Cooling& c, double outdoor_c)
{
  constexpr double kelvin = 273.15;
  const double hot = outdoor_c + c.approach_k + kelvin;
  const double cold = c.supply_temperature_c + kelvin;
  double chiller = 0;
  if (hot > cold) {
    const double cop = c.carnot_fraction * cold / (hot - cold);
    chiller = 1.0 / cop;
  }
  return 1.0 + c.distribution_loss + c.fan_pump_overhead + chiller;
}

namespace {

constexpr double hours_per_year = 8760;

/// Mean of a periodic hourly function g over [start, start + hours), period `period` hours.
template <class G> double periodic_mean(G g, double period, double start, double hours)
{
  if (hours <= 0)
    return g(static_cast<long>(std::floor(start)));
  auto integrate = [&](double from, double len) {
    double sum = 0, t = from, end = from + len;
    while (t < end - 1e-12) {
      const double next = std::min(end, std::floor(t) + 1.0);
      sum += g(static_cast<long>(std::floor(t))) * (next - t);
      t = next;
    }
    return sum;
  };
  const double full = std::floor(hours / period);
  double sum = 0;
  if (full > 0)
    sum += full * integrate(start, period);
  sum += integrate(start + full * period, hours - full * period);
  return sum / hours;
}

int month_of_hour(long hour_of_year)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  long d = (hour_of_year / 24) % 365;
  for (int m = 0; m < 12; ++m) {
    if (d < days[m])
      return m;
    d -= days[m];
  }
  return 11;
}

} // namespace

double average_pue(const scenario::Site& site, double start_hour, double hours)
{
  const auto& c = site.cooling;
  if (!c.outdoor)
    return site.pue;
  if (c.temperature_c.size() == 1)
    return pue_at(c, c.temperature_c[0]);
  return periodic_mean([&](long h) { return pue_at(c, c.temperature_c[static_cast<size_t>(month_of_hour(h % 8760))]); },
                       hours_per_year, start_hour, hours);
}

double average_intensity(const scenario::Site& site, double start_hour, double hours)
{
  const auto& prof = site.carbon.profile_kg_per_kwh;
  if (prof.empty())
    return site.grid.co2_kg_per_kwh;
  const long n = static_cast<long>(prof.size());
  return periodic_mean([&](long h) { return prof[static_cast<size_t>(h % n)]; }, static_cast<double>(n), start_hour,
                       hours);
}

FailureRates failure_rates(const scenario::Failures& f, long accelerators, long nodes, const NetworkPorts& ports)
{
  FailureRates r;
  if (!f.enabled)
    return r;
  r.accelerators = static_cast<double>(accelerators) / f.accelerator_mtbf_s;
  r.nodes = static_cast<double>(nodes) / f.node_mtbf_s;
  r.nics = static_cast<double>(ports.nic_ports) / f.nic_mtbf_s;
  r.links = static_cast<double>(ports.cables) / f.link_mtbf_s;
  r.switches = static_cast<double>(ports.switches) / f.switch_mtbf_s;
  if (f.causes.empty()) {
    r.replacing_rate = r.accelerators + r.nodes + r.nics;
    return r;
  }
  for (const auto& c : f.causes) {
    const double comp = c.component == "accelerator" ? r.accelerators
                        : c.component == "node"      ? r.nodes
                        : c.component == "nic"       ? r.nics
                        : c.component == "link"      ? r.links
                                                     : r.switches;
    r.causes.push_back(comp * c.share);
    if (c.replaces_node)
      r.replacing_rate += comp * c.share;
  }
  return r;
}

double young_interval(double c, double m)
{
  return std::sqrt(2.0 * c * m);
}

double daly_interval(double c, double m)
{
  if (c >= 2.0 * m)
    return m;
  const double x = c / (2.0 * m);
  return std::sqrt(2.0 * c * m) * (1.0 + std::sqrt(x) / 3.0 + x / 9.0) - c;
}

RunTimeline expected_timeline(double useful_s, double checkpoint_s, double interval_s, double restart_s, double mtbf_s)
{
  RunTimeline t;
  t.useful_s = useful_s;
  const bool failures = std::isfinite(mtbf_s) && mtbf_s > 0;
  const double segments = interval_s > 0 ? useful_s / interval_s : 0.0;
  if (!failures) {
    t.checkpoints = interval_s > 0 ? std::floor(segments) : 0.0;
    t.checkpoint_s = t.checkpoints * checkpoint_s;
    t.wall_s = useful_s + t.checkpoint_s;
    return t;
  }
  // Without checkpoints a failure loses everything done so far: one segment of the whole run.
  const double tau = interval_s > 0 ? interval_s : useful_s;
  const double c = interval_s > 0 ? checkpoint_s : 0.0;
  const double n = interval_s > 0 ? segments : 1.0;
  const double x = (tau + c) / mtbf_s;
  const double fails_in_work = n * std::expm1(x);
  const double work_phases = n * mtbf_s * std::expm1(x);
  t.restarts = fails_in_work;
  t.restart_s = fails_in_work * mtbf_s * std::expm1(restart_s / mtbf_s);
  t.checkpoints = interval_s > 0 ? segments : 0.0;
  t.checkpoint_s = n * c;
  t.lost_s = std::max(0.0, work_phases - n * (tau + c));
  t.wall_s = work_phases + t.restart_s;
  t.interruptions = t.wall_s / mtbf_s;
  return t;
}

double poisson_tail(double mean, int k)
{
  if (k <= 0)
    return 1.0;
  if (mean <= 0)
    return 0.0;
  double term = std::exp(-mean), cdf = term;
  for (int i = 1; i < k; ++i) {
    term *= mean / i;
    cdf += term;
  }
  return std::clamp(1.0 - cdf, 0.0, 1.0);
}

BookkeepingResult bookkeeping(const BookkeepingInput& in)
{
  constexpr double joules_per_mwh = 3.6e9;
  // One constant-power segment per accelerator-hour total; the facility overhead through the PUE.
  const double it_j = energy_joules({{in.power_w, in.accelerator_hours * 3600.0}});
  BookkeepingResult r;
  r.energy_mwh = it_j * in.pue / joules_per_mwh;
  r.carbon_tco2e = carbon_tonnes(r.energy_mwh, in.kg_per_kwh);
  r.carbon_market_tco2e = carbon_tonnes(r.energy_mwh * (1.0 - in.green_share), in.kg_per_kwh);
  r.carbon_coal_tco2e = carbon_tonnes(r.energy_mwh, std::min(in.coal_kg_per_kwh, in.kg_per_kwh));
  return r;
}

} // namespace trainsim::metrics
