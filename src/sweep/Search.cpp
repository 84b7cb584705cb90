#include "trainsim/sweep/Search.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "trainsim/core/Errors.hpp"
#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/workload/Program.hpp"

#include "trainsim/sim/AtScale.hpp" // the at-scale mechanisms in the lower bound

namespace trainsim::sweep {

using nlohmann::json;

namespace {

const std::vector<std::string>& figure_names()
{
  static const std::vector<std::string> n{"time", "energy", "carbon"};
  return n;
}

double figure(const Figures& f, const std::string& name)
{
  return name == "time" ? f.time_to_train_s : name == "energy" ? f.energy_mwh : f.carbon_tco2e;
}

std::vector<json> divisors(long n, long max)
{
  std::vector<json> d;
  for (long i = 1; i <= std::min(n, max); ++i)
    if (n % i == 0)
      d.push_back(i);
  return d;
}

long num(const std::map<std::string, json>& c, const char* k, long fallback = 1)
{
  auto it = c.find(k);
  return it == c.end() ? fallback : it->second.get<long>();
}

long accelerators(const json& r)
{
  return r["cluster"]["nodes"].get<long>() * r["cluster"]["accelerators_per_node"].get<long>();
}

} // namespace

Objective Objective::parse(const std::string& text)
{
  Objective o;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string term = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
    const size_t eq = term.find('=');
    const std::string name = term.substr(0, eq);
    double w = 1;
    if (eq != std::string::npos) {
      try {
        size_t used = 0;
        w = std::stod(term.substr(eq + 1), &used);
        if (used != term.size() - eq - 1 || !(w > 0) || !std::isfinite(w))
          throw std::invalid_argument("weight");
      } catch (const std::exception&) {
        throw core::UsageError("--objective: weight of \"" + name +
                               "\" must be a positive number, e.g. time=0.7,carbon=0.3");
      }
    }
    if (std::find(figure_names().begin(), figure_names().end(), name) == figure_names().end())
      throw core::UsageError("--objective: \"" + name +
                             "\" is not an objective; valid: time, energy, carbon, or a "
                             "weighted mix such as time=0.7,carbon=0.3");
    for (const auto& [n, x] : o.terms)
      if (n == name)
        throw core::UsageError("--objective: \"" + name + "\" given twice");
    o.terms.emplace_back(name, w);
  }
  // Normalised here, once and overflow-free (by the largest, then by the sum), so that score() never sees
  // an infinite sum of weights (1e308 + 1e308) or a weight that vanished: every weight lies in (0, 1].
  double largest = 0;
  for (const auto& [n, w] : o.terms)
    largest = std::max(largest, w);
  double sum = 0;
  for (auto& [n, w] : o.terms)
    sum += (w /= largest);
  for (auto& [n, w] : o.terms) {
    w /= sum;
    if (!(w > 0) || !std::isfinite(w))
      throw core::UsageError("--objective: the weight of \"" + n +
                             "\" is negligible next to the others (below 1e-300 of the largest); drop it");
  }
  return o;
}

std::string Objective::describe() const
{
  if (!mixed())
    return terms[0].first == "time"     ? "time to train (s)"
           : terms[0].first == "energy" ? "energy (MWh)"
                                        : "carbon (t CO2e)";
  std::string s = "weighted geometric mean of";
  for (const auto& [n, w] : terms)
    s += " " + n + "^" + std::to_string(w).substr(0, 4);
  return s;
}

double score(const Objective& o, const Figures& f)
{
  if (!o.mixed())
    return figure(f, o.terms[0].first);
  double total = 0, wsum = 0;
  for (const auto& [n, w] : o.terms) { // weights are normalised by Objective::parse
    total += w * std::log(std::max(figure(f, n), 1e-300));
    wsum += w;
  }
  return std::exp(total / wsum);
}

std::vector<SearchDimension> default_search_space(int max_tp)
{
  using Chosen = std::map<std::string, json>;
  std::vector<SearchDimension> d;
  d.push_back({"tp", "/parallelism/tp", json(), [max_tp](const json& r, const Chosen&) {
                 return divisors(accelerators(r),
                                 max_tp > 0 ? max_tp : r["cluster"]["accelerators_per_node"].get<long>());
               }});
  d.push_back({"cp", "/parallelism/cp", 1, [](const json& r, const Chosen& c) {
                 std::vector<json> v;
                 for (long x : {1, 2, 4, 8})
                   if ((accelerators(r) / num(c, "tp")) % x == 0)
                     v.push_back(x);
                 return v;
               }});
  d.push_back({"pp", "/parallelism/pp", json(), [](const json& r, const Chosen& c) {
                 const long rest = accelerators(r) / (num(c, "tp") * num(c, "cp"));
                 std::vector<json> v;
                 for (const auto& x : divisors(rest, r["model"]["layers"].get<long>()))
                   if (r["model"]["layers"].get<long>() % x.get<long>() == 0)
                     v.push_back(x);
                 return v;
               }});
  d.push_back({"dp", "/parallelism/dp", json(), [](const json& r, const Chosen& c) {
                 return std::vector<json>{accelerators(r) / (num(c, "tp") * num(c, "cp") * num(c, "pp"))};
               }});
  d.push_back({"vpp", "/parallelism/vpp", json(), [](const json& r, const Chosen& c) {
                 const long pp = num(c, "pp"), layers = r["model"]["layers"].get<long>();
                 std::vector<json> v{1};
                 for (long x = 2; pp > 1 && x <= 8; ++x)
                   if (layers % (pp * x) == 0)
                     v.push_back(x);
                 return v;
               }});
  d.push_back({"ep", "/parallelism/ep", 1, [](const json&, const Chosen& c) {
                 std::vector<json> v;
                 for (long x : {1, 2, 4, 8})
                   if (num(c, "dp") % x == 0)
                     v.push_back(x);
                 return v;
               }});
  d.push_back({"micro_batch_size", "/training/micro_batch_size", json(), [](const json& r, const Chosen& c) {
                 std::vector<json> v;
                 for (long x : {1, 2, 4, 8})
                   if (r["training"]["global_batch_size"].get<long>() % (num(c, "dp") * x) == 0)
                     v.push_back(x);
                 return v;
               }});
  d.push_back({"zero_stage", "/parallelism/zero_stage", json(), [](const json&, const Chosen&) {
                 return std::vector<json>{0, 1, 2, 3}; // the parser rejects stages it does not model yet
               }});
  d.push_back({"recompute", "/training/recompute", json(), [](const json&, const Chosen&) {
                 return std::vector<json>{"none", "selective", "full"};
               }});
  d.push_back({"sequence_parallel", "/parallelism/sequence_parallel", json(), [](const json&, const Chosen& c) {
                 return num(c, "tp") > 1 ? std::vector<json>{false, true} : std::vector<json>{false};
               }});
  return d;
}

namespace {

struct Candidate {
  size_t index = 0;
  std::map<std::string, json> config;
  json doc;
  scenario::Scenario parsed;
  Figures bound;
  double bound_score = 0;
};

/// Analytic lower bounds of the figures (see search()). No rank's step is shorter than the busiest
/// stage's compute (and optimizer) time `t`, and every second a rank does not compute it spends in a
/// state whose power is at least the pipeline-bubble (idle) power; so the metrics of a step of length `t`
/// in which each stage computes for its compute time and idles for the rest bound every energy and
/// carbon figure from below (time-to-train, energy and carbon all grow with the step time). The same
/// metrics code computes them, so the bound follows the energy model (docs/energy-carbon.md).
Figures lower_bound(const scenario::Scenario& s, const workload::Workload& w, const topology::Fabric& fabric,
                    const scenario::Calibration& cal)
{
  // At-scale mechanisms (docs/at-scale.md): each stage's compute runs at its seeded slowdown factor and its
  // host time is serial with it, so neither lets a stage's step be shorter than their sum.
  const sim::ComputeVariability slow(s, cal);
  const sim::HostOverhead host = sim::host_overhead(s, cal);
  double t = 0;
  for (size_t i = 0; i < w.stages.size(); ++i)
    t = std::max(t, w.stages[i].compute_s * slow.factor(0, static_cast<int>(i)) + sim::host_seconds(w.stages[i], host));
  sim::SimResult r;
  r.step_time_s = t;
  r.step_times_s = {t};
  r.simulated_seconds = t;
  for (const auto& st : w.stages) {
    sim::StageBreakdown b;
    for (const auto& op : st.ops)
      if (op.kind == workload::OpKind::compute || op.kind == workload::OpKind::tp_comm) // tp_comm: overlapped GEMMs
        b.compute += op.seconds;
      else if (op.kind == workload::OpKind::optimizer)
        b.optimizer += op.seconds;
    const double f = slow.factor(0, static_cast<int>(r.stages.size()));
    b.straggler = (f - 1) * (b.compute + b.optimizer);
    b.host = sim::host_seconds(st, host);
    b.bubble = std::max(0.0, t - b.compute - b.optimizer - b.straggler - b.host);
    r.stages.push_back(b);
  }
  const auto m = metrics::compute(s, w, r, fabric);
  Figures f;
  f.time_to_train_s = m.time_to_train_s;
  f.energy_mwh = m.energy_mwh;
  f.carbon_tco2e = m.carbon_tco2e;
  return f;
}

/// --space values must have their dimension's type: the enumeration divides by the integers.
void check_space_values(const std::string& name, const std::vector<json>& values)
{
  for (const auto& v : values) {
    std::string want;
    if (name == "recompute" && !v.is_string())
      want = "none, selective or full";
    else if (name == "sequence_parallel" && !v.is_boolean())
      want = "true or false";
    else if (name != "recompute" && name != "sequence_parallel") {
      const double lo = name == "zero_stage" ? 0 : 1;
      if (!v.is_number_integer() || v.get<double>() < lo || v.get<double>() > 1048576)
        want = std::string("whole numbers from ") + (lo == 0 ? "0" : "1") + " to 1048576";
    }
    if (!want.empty()) {
      std::string shown = v.is_string() ? v.get<std::string>() : v.dump();
      if (shown.size() > 40)
        shown = shown.substr(0, 37) + "...";
      throw core::UsageError("--space " + name + "=" + shown + ": " + name + " takes " + want +
                             ", e.g. --space tp=2,4,8");
    }
  }
}

void enumerate(const std::vector<SearchDimension>& dims, size_t at, const json& resolved,
               std::map<std::string, json>& chosen, const std::function<void()>& leaf)
{
  if (at == dims.size()) {
    leaf();
    return;
  }
  for (const auto& v : dims[at].values(resolved, chosen)) {
    chosen[dims[at].name] = v;
    enumerate(dims, at + 1, resolved, chosen, leaf);
  }
  chosen.erase(dims[at].name);
}

} // namespace

SearchResult search(const json& base, const scenario::Catalog& catalog, const SearchOptions& o,
                    const Evaluate& evaluate)
{
  SearchResult res;
  const json resolved = scenario::to_json(scenario::parse_scenario(base, catalog));
  // The space: drop dimensions the scenario format does not know yet; apply --fix and --space.
  std::vector<SearchDimension> dims;
  for (auto d : default_search_space(o.max_tp)) {
    if (!d.neutral.is_null()) {
      json probe = base;
      set_at(probe, d.pointer, d.neutral, d.pointer);
      try {
        scenario::parse_scenario(probe, catalog);
      } catch (const core::ConfigError& e) {
        if (e.pointer() == d.pointer) {
          res.dropped.push_back(d.name);
          continue;
        }
      }
    }
    const bool fixed = std::find(o.fixed.begin(), o.fixed.end(), d.name) != o.fixed.end();
    const auto r = o.restrict.find(d.name);
    if (d.name != "dp" && (fixed || r != o.restrict.end())) {
      std::vector<json> values;
      if (r != o.restrict.end())
        values = r->second;
      else {
        const json::json_pointer jp(d.pointer);
        values.push_back(resolved.contains(jp) ? resolved.at(jp) : d.neutral);
      }
      d.values = [values](const json&, const std::map<std::string, json>&) { return values; };
    }
    res.dimensions.push_back(d.name);
    dims.push_back(std::move(d));
  }
  for (const auto& f : o.fixed)
    if (std::find(res.dimensions.begin(), res.dimensions.end(), f) == res.dimensions.end())
      throw core::UsageError("--fix " + f +
                             ": not a search dimension; valid: tp, cp, pp, vpp, ep, micro_batch_size, "
                             "zero_stage, recompute, sequence_parallel (those this scenario format supports)");
  for (const auto& [f, v] : o.restrict)
    if (f == "dp" || std::find(res.dimensions.begin(), res.dimensions.end(), f) == res.dimensions.end())
      throw core::UsageError("--space " + f +
                             "=...: not a search dimension (dp follows from the others); valid: tp, "
                             "cp, pp, vpp, ep, micro_batch_size, zero_stage, recompute, sequence_parallel");
  for (const auto& [f, v] : o.restrict)
    check_space_values(f, v);

  // Enumerate, reject what the parser rejects, prune what does not fit, bound the rest.
  std::vector<Candidate> cands;
  std::unique_ptr<topology::Fabric> fabric;
  std::map<std::string, json> chosen;
  enumerate(dims, 0, resolved, chosen, [&] {
    Candidate c;
    c.index = res.candidates++;
    c.config = chosen;
    c.doc = base;
    for (const auto& d : dims)
      set_at(c.doc, d.pointer, chosen.at(d.name), d.pointer);
    if (auto pre = precheck(c.doc, catalog, &c.parsed)) {
      ++(pre->status == Status::infeasible ? res.no_fit : res.invalid);
      if (pre->status != Status::infeasible && res.first_invalid.empty())
        res.first_invalid = pre->error;
      return;
    }
    try {
      const auto w = workload::build_workload(c.parsed, catalog.calibration());
      if (!fabric) // every candidate runs on the same cluster
        fabric = std::make_unique<topology::Fabric>(topology::Fabric::build(c.parsed.cluster));
      c.bound = lower_bound(c.parsed, w, *fabric, catalog.calibration());
    } catch (const core::InfeasibleError&) {
      ++res.no_fit;
      return;
    } catch (const core::ConfigError& e) {
      if (res.invalid++ == 0)
        res.first_invalid = e.what();
      return;
    }
    c.bound_score = score(o.objective, c.bound);
    cands.push_back(std::move(c));
  });
  std::stable_sort(cands.begin(), cands.end(),
                   [](const Candidate& a, const Candidate& b) { return a.bound_score < b.bound_score; });

  // Branch and bound over the sorted candidates: simulate in order, stop once the next bound cannot
  // enter the top N.
  std::vector<SearchResult::Entry> done;
  std::vector<double> best; // sorted simulated scores
  const size_t top = static_cast<size_t>(std::max(1, o.top));
  size_t next = 0;
  Progress progress(stderr, o.progress, cands.size(), 0, "search");
  auto cutoff = [&] { return best.size() >= top ? best[top - 1] : INFINITY; };
  run_pool(
      o.jobs > 0 ? o.jobs : available_cores(),
      [&]() -> std::optional<Task> {
        if (next >= cands.size())
          return std::nullopt;
        const double kth = cutoff();
        if (!o.exhaustive && cands[next].bound_score > kth + 1e-12 * std::fabs(kth)) {
          res.pruned = cands.size() - next; // sorted: every later bound is at least as high
          next = cands.size();
          return std::nullopt;
        }
        const size_t k = next++;
        const scenario::Scenario* s = &cands[k].parsed;
        return Task{k, [&evaluate, s] { return slim_report(evaluate(*s)); }};
      },
      [&](size_t k, Outcome out) {
        progress.tick(to_string(out.status), "#" + std::to_string(cands[k].index));
        if (out.status != Status::ok) {
          ++res.failed;
          return;
        }
        ++res.simulated;
        const auto& c = cands[k];
        SearchResult::Entry e{c.index, c.config, c.doc, 0, c.bound_score, {}, std::move(out.result)};
        e.figures = {e.report.at("time_to_train_s").get<double>(), e.report.at("energy_mwh").get<double>(),
                     e.report.at("carbon_tco2e").get<double>()};
        e.score = score(o.objective, e.figures);
        for (const auto& [n, w] : o.objective.terms)
          res.max_bound_ratio = std::max(res.max_bound_ratio, figure(c.bound, n) / figure(e.figures, n));
        best.insert(std::upper_bound(best.begin(), best.end(), e.score), e.score);
        done.push_back(std::move(e));
      });
  progress.finish(std::to_string(res.simulated) + " simulated, " + std::to_string(res.pruned) + " pruned by the bound");
  if (res.max_bound_ratio > 1 + 1e-9)
    throw core::Error("internal: a lower bound exceeded its simulated figure (ratio " +
                      std::to_string(res.max_bound_ratio) + "); the search would not be exact, please report this");
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score < b.score : a.candidate < b.candidate;
  });
  if (done.size() > top)
    done.resize(top);
  res.top = std::move(done);
  return res;
}

} // namespace trainsim::sweep
