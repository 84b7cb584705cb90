#include "SteadyState.hpp"

#include <cmath>
#include <cstdio>

namespace trainsim::sim {

namespace {

std::string points_text(const std::vector<long>& p)
{
  return std::to_string(p[0]) + ", " + std::to_string(p[1]) + " and " + std::to_string(p[2]);
}

/// The affine fit through three figures at m1, m1 + u, m1 + 2u, evaluated at m = m1 + (2 + k) u. The second
/// difference, times k + 1 (how much the extrapolation can amplify it), must stay within
/// steady_state_tolerance of the figure's scale; the first figure that does not names itself in `why`.
class Fit {
public:
  explicit Fit(long k) : k_(static_cast<double>(k)), n_(k) {}

  double operator()(double a, double b, double c, double scale, const std::string& what)
  {
    const double d2 = a - 2 * b + c;
    if (ok() && std::fabs(d2) * (k_ + 1) > steady_state_tolerance * std::fabs(scale)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s is not affine in micro-batches (second difference %.3g, scale %.6g)",
                    what.c_str(), d2, scale);
      why_ = buf;
    }
    return c + k_ * (c - b);
  }
  /// An activity count: exactly affine or not at all.
  long count(long a, long b, long c, const std::string& what)
  {
    if (ok() && a - 2 * b + c != 0)
      why_ = what + " is not affine in micro-batches (" + std::to_string(a) + ", " + std::to_string(b) + ", " +
             std::to_string(c) + ")";
    return c + n_ * (c - b);
  }
  /// The fit evaluated without its check, for a scale.
  double at(double b, double c) const { return c + k_ * (c - b); }
  bool ok() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  void fail(const std::string& why)
  {
    if (ok())
      why_ = why;
  }

private:
  double k_;
  long n_;
  std::string why_;
};

/// The runs have the same shape: steps, stages, kinds of communication, fidelity and reduction.
std::string shape_mismatch(const std::vector<SimResult>& runs)
{
  const SimResult& a = runs[0];
  for (const auto& b : runs) {
    if (b.step_times_s.size() != a.step_times_s.size())
      return "the runs simulated different numbers of steps";
    if (b.stages.size() != a.stages.size())
      return "the runs have different stages";
    for (size_t i = 0; i < a.stages.size(); ++i)
      if (b.stages[i].comm_total.size() != a.stages[i].comm_total.size())
        return "the runs have different kinds of communication";
    if (b.comm_bytes.size() != a.comm_bytes.size())
      return "the runs have different kinds of communication";
    if (b.fidelity != a.fidelity || b.fidelity_reason != a.fidelity_reason || b.rail_note != a.rail_note ||
        b.simulated_replicas != a.simulated_replicas || b.simulated_rails != a.simulated_rails ||
        b.ecmp_trunk_share != a.ecmp_trunk_share || b.ecmp_p2p_share != a.ecmp_p2p_share)
      return "the runs chose different reductions";
  }
  return {};
}

/// With /simulation/steps "auto", the extrapolated step times must stop the simulation where the runs
/// stopped (StageRun::end_step's rule: two consecutive steps within steady_step_tolerance), and not near the
/// threshold, where the step at m could decide otherwise.
std::string steps_mismatch(const std::vector<double>& t, const scenario::Simulation& sim)
{
  if (!sim.steps_auto)
    return {};
  const size_t n = t.size();
  for (size_t k = 2; k <= n; ++k) {
    const double diff = std::fabs(t[k - 1] - t[k - 2]), limit = steady_step_tolerance * t[k - 1];
    if (std::fabs(diff - limit) <= 1e-3 * limit)
      return "the steady-state decision of /simulation/steps \"auto\" is at its threshold";
    const bool steady = diff <= limit;
    if (steady != (k == n) && !(k == n && static_cast<int>(n) == sim.steps))
      return "the extrapolated steps would stop /simulation/steps \"auto\" elsewhere";
  }
  return {};
}

} // namespace

SteadyStatePlan plan_steady_state(const scenario::Scenario& s, const SimOptions& /*options*/)
{
  const std::string& mode = s.simulation.extrapolate;
  if (mode == "never")
    return {{}, "off: /simulation/extrapolate is false"};
  const long m = s.micro_batches_per_replica(), u = s.parallelism.pp;
  const long m1 = 2 * u + m % u, m2 = m1 + u, m3 = m2 + u;
  const std::vector<long> points{m1, m2, m3};
  if (m <= m3)
    return {{},
            "off: " + std::to_string(m) + " micro-batches per replica, no more than the points it would simulate (" +
                points_text(points) + ")"};
  if (mode == "auto" && m < m1 + m2 + m3)
    return {{},
            "off: " + std::to_string(m) + " micro-batches per replica cost less than the points (" +
                points_text(points) + ")"};
  return {points, "extrapolated from " + points_text(points) +
                      " micro-batches per replica: every figure affine in micro-batches (second difference within " +
                      "1e-10 of the step)"};
}

scenario::Scenario with_microbatches(const scenario::Scenario& s, long m)
{
  auto out = s;
  out.training.global_batch_size = m * s.parallelism.dp * s.training.micro_batch_size;
  return out;
}

std::optional<SimResult> extrapolate(const std::vector<SimResult>& runs, const SteadyStatePlan& plan, long m,
                                     const scenario::Simulation& sim, std::string& why)
{
  why = shape_mismatch(runs);
  if (!why.empty())
    return std::nullopt;
  const auto& [a, b, c] = std::tie(runs[0], runs[1], runs[2]);
  const long u = plan.points[1] - plan.points[0];
  Fit fit((m - plan.points[2]) / u);
  SimResult r = c;
  r.simulated_seconds = fit(a.simulated_seconds, b.simulated_seconds, c.simulated_seconds,
                            fit.at(b.simulated_seconds, c.simulated_seconds), "the simulated time");
  const double steps = static_cast<double>(c.step_times_s.size());
  const double step = r.simulated_seconds / steps; // the scale of every time
  r.step_time_s = step;
  for (size_t i = 0; i < r.step_times_s.size(); ++i)
    r.step_times_s[i] =
        fit(a.step_times_s[i], b.step_times_s[i], c.step_times_s[i], step, "step " + std::to_string(i) + "'s time");
  for (size_t i = 0; i < r.stages.size(); ++i) {
    const auto &sa = a.stages[i], &sb = b.stages[i], &sc = c.stages[i];
    auto& out = r.stages[i];
    for (const auto& part : result::parts)
      out.*part.field =
          fit(sa.*part.field, sb.*part.field, sc.*part.field, step, "stage " + std::to_string(i) + "'s " + part.key);
    out.collective_efficiency = fit(sa.collective_efficiency, sb.collective_efficiency, sc.collective_efficiency, step,
                                    "stage " + std::to_string(i) + "'s collective efficiency cost");
    out.energy_j = fit(sa.energy_j, sb.energy_j, sc.energy_j, fit.at(sb.energy_j, sc.energy_j),
                       "stage " + std::to_string(i) + "'s energy");
    for (auto& [kind, t] : out.comm_total) {
      if (!sa.comm_total.count(kind) || !sb.comm_total.count(kind)) {
        why = "the runs have different kinds of communication";
        return std::nullopt;
      }
      t = fit(sa.comm_total.at(kind), sb.comm_total.at(kind), sc.comm_total.at(kind), step,
              "stage " + std::to_string(i) + "'s " + kind + " busy time");
    }
  }
  r.accelerator_energy_per_step_j =
      fit(a.accelerator_energy_per_step_j, b.accelerator_energy_per_step_j, c.accelerator_energy_per_step_j,
          fit.at(b.accelerator_energy_per_step_j, c.accelerator_energy_per_step_j), "the accelerator energy");
  for (auto& [kind, bytes] : r.comm_bytes) {
    if (!a.comm_bytes.count(kind) || !b.comm_bytes.count(kind)) {
      why = "the runs have different kinds of communication";
      return std::nullopt;
    }
    bytes = fit(a.comm_bytes.at(kind), b.comm_bytes.at(kind), c.comm_bytes.at(kind),
                fit.at(b.comm_bytes.at(kind), c.comm_bytes.at(kind)), kind + " bytes");
  }
  r.transfers = fit.count(a.transfers, b.transfers, c.transfers, "the transfers issued");
  r.executions = fit.count(a.executions, b.executions, c.executions, "the executions issued");
  r.replayed = fit.count(a.replayed, b.replayed, c.replayed, "the activities replayed");
  if (fit.ok())
    fit.fail(steps_mismatch(r.step_times_s, sim));
  why = fit.why();
  if (!fit.ok())
    return std::nullopt;
  r.extrapolated_from = plan.points;
  r.extrapolation = plan.reason;
  return r;
}

} // namespace trainsim::sim
