#include "trainsim/sweep/Search.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Units.hpp"
#include "trainsim/metrics/Metrics.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"

#include "trainsim/sim/AtScale.hpp" // the at-scale mechanisms in the lower bound

namespace trainsim::sweep {

using nlohmann::json;

namespace {

const std::vector<std::string>& figure_names()
{
  static const std::vector<std::string> n{"time", "energy", "carbon", "coal", "cost"};
  return n;
}

double figure(const Figures& f, const std::string& name)
{
  return name == "time"     ? f.time_to_train_s
         : name == "energy" ? f.energy_mwh
         : name == "carbon" ? f.carbon_tco2e
         : name == "coal"   ? f.coal_tco2e
                            : f.cost_rmb;
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
          throw core::InvalidArgument("weight");
      } catch (const std::exception&) {
        throw core::UsageError("--objective: weight of \"" + name +
                               "\" must be a positive number, e.g. time=0.7,carbon=0.3");
      }
    }
    if (std::find(figure_names().begin(), figure_names().end(), name) == figure_names().end())
      throw core::UsageError("--objective: \"" + name +
                             "\" is not an objective; valid: time, energy, carbon, coal, cost, or a "
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
           : terms[0].first == "carbon" ? "carbon (t CO2e)"
           : terms[0].first == "coal"   ? "coal carbon (t CO2e)"
                                        : "cost (RMB)";
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

Constraint Constraint::parse(const std::string& text)
{
  const auto usage = [&text](const std::string& why) {
    return core::UsageError("--constraint \"" + text + "\": " + why +
                            "; write FIGURE<=VALUE, e.g. time_to_train<=60d, energy<=5000MWh, carbon<=3000t, "
                            "coal<=2000t, cost<=2e8RMB");
  };
  const size_t le = text.find("<=");
  if (le == std::string::npos || le == 0 || le + 2 >= text.size())
    throw usage("no FIGURE<=VALUE");
  Constraint c;
  c.text = text;
  std::string name = text.substr(0, le);
  if (name == "time_to_train")
    name = "time";
  if (std::find(figure_names().begin(), figure_names().end(), name) == figure_names().end())
    throw usage("\"" + name + "\" is not a figure (time_to_train, energy, carbon, coal, cost)");
  c.figure = name;
  const std::string value = text.substr(le + 2);
  try {
    if (name == "time") {
      c.max = core::parse_quantity(value, core::Dimension::time);
    } else {
      size_t used = 0;
      c.max = std::stod(value, &used);
      const std::string unit = value.substr(used);
      const std::string want = name == "energy" ? "MWh" : name == "cost" ? "RMB" : "t";
      if (!unit.empty() && unit != want)
        throw usage("the unit of " + name + " is " + want + ", got \"" + unit + "\"");
    }
  } catch (const core::UsageError&) {
    throw;
  } catch (const std::exception&) {
    throw usage(name == "time" ? "the value must be a time such as 60d, 1440h" : "the value must be a number");
  }
  if (!(c.max > 0) || !std::isfinite(c.max))
    throw usage("the bound must be a positive, finite number");
  return c;
}

std::vector<SearchDimension> plan_search_space()
{
  using Chosen = std::map<std::string, json>;
  const auto none = [](const json&, const Chosen&) { return std::vector<json>{}; }; // --space gives the values
  std::vector<SearchDimension> d;
  d.push_back({"site", "/site", json(), none});
  d.push_back({"grid", "/site/grid", json(), none});
  d.push_back({"power_cap", "/power/cap", json(), none});
  d.push_back({"start_date", "/site/start_date", json(), none});
  d.push_back({"accelerator", "/cluster/accelerator", json(), none});
  d.push_back({"nodes", "/cluster/nodes", json(), none});
  d.push_back({"fabric", "/cluster/fabric", json(), none});
  return d;
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
  size_t group = 0; ///< plans that differ only in their site share one simulation
};

const std::vector<std::string> plan_names{"site", "grid", "power_cap", "start_date", "accelerator", "nodes", "fabric"};
bool is_plan(const std::string& name)
{
  return std::find(plan_names.begin(), plan_names.end(), name) != plan_names.end();
}

/// Sets a dimension's value in a plan: a fabric is named by its preset; a site preset replaces the keys it
/// defines (grid, cooling, PUE) and keeps the scenario's others (start date, prices, green share).
void apply(json& doc, const SearchDimension& d, const json& v)
{
  if (d.name == "site") {
    json site = doc.contains("site") && doc["site"].is_object() ? doc["site"] : json::object();
    for (const char* k : {"grid", "cooling", "pue"})
      site.erase(k);
    site["preset"] = v;
    doc["site"] = site;
    return;
  }
  set_at(doc, d.pointer, d.name == "fabric" ? json{{"preset", v}} : v, d.pointer);
}

/// Analytic lower bounds of the figures (see search()). No rank's step is shorter than the busiest
/// stage's compute (and optimizer) time `t`, and every second a rank does not compute it spends in a
/// state whose power is at least the pipeline-bubble (idle) power; so the metrics of a step of length `t`
/// in which each stage computes for its compute time and idles for the rest bound every energy and
/// carbon figure from below (time-to-train, energy, carbon and cost all grow with the step time). The same
/// metrics code computes them, so the bound follows the energy model (docs/energy-carbon.md). With an hourly
/// intensity profile a longer run may reach cleaner hours, so carbon is bounded by the energy bound times the
/// profile's cleanest hour instead.
Figures lower_bound(const scenario::Scenario& s, const workload::Workload& w, const topology::Fabric& fabric,
                    const scenario::Calibration& cal, const std::vector<std::string>& needed)
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
  for (const auto& n : needed) {
    if (n == "coal" && !m.coal_known)
      throw core::ConfigError("/site/coal_share", "the coal share of grid " + s.site.grid.id +
                                                      " is not known, so coal carbon cannot be ranked; give "
                                                      "/site/coal_share and /site/fossil_co2_kg_per_kwh");
    if (n == "cost" && !m.cost_known)
      throw core::ConfigError("/site", "no price at this site, so cost cannot be ranked; give "
                                       "/site/electricity_rmb_per_kwh and/or /site/accelerator_rmb_per_hour");
  }
  Figures f;
  f.time_to_train_s = m.time_to_train_s;
  f.energy_mwh = m.energy_mwh;
  f.carbon_tco2e = m.carbon_tco2e;
  f.coal_tco2e = m.coal_known ? m.carbon_coal_tco2e : 0.0;
  f.cost_rmb = m.cost_rmb;
  if (const auto& prof = s.site.carbon.profile_kg_per_kwh; !prof.empty()) {
    const double lo = *std::min_element(prof.begin(), prof.end());
    f.carbon_tco2e = m.energy_mwh * lo;
    if (m.coal_known && m.carbon_intensity_kg_per_kwh > 0) // coal's factor grows with the hourly intensity
      f.coal_tco2e = m.energy_mwh * m.coal_kg_per_kwh * lo / m.carbon_intensity_kg_per_kwh;
  }
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
    else if ((name == "site" || name == "grid" || name == "accelerator" || name == "fabric" || name == "start_date") &&
             !v.is_string())
      want = "names (grids, accelerators and fabric presets of trainsim list; dates as 2025-03-01)";
    else if (name == "power_cap" && !v.is_string() && !v.is_null())
      want = "powers such as 500W (or null: no cap)";
    else if (name == "layer_split" && !(v.is_string() && (v == "even" || v == "balanced")))
      want = "even or balanced";
    else if (name != "recompute" && name != "sequence_parallel" && name != "power_cap" && name != "layer_split" &&
             (!is_plan(name) || name == "nodes")) { // whole numbers: the parallelism degrees and nodes
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

/// The plan dimensions first: a chosen node count reaches the parallelism dimensions' divisors.
void enumerate(const std::vector<SearchDimension>& dims, size_t at, const json& resolved,
               std::map<std::string, json>& chosen, const std::function<void()>& leaf)
{
  if (at == dims.size()) {
    leaf();
    return;
  }
  for (const auto& v : dims[at].values(resolved, chosen)) {
    chosen[dims[at].name] = v;
    if (dims[at].name == "nodes") {
      json patched = resolved;
      patched["cluster"]["nodes"] = v;
      enumerate(dims, at + 1, patched, chosen, leaf);
    } else {
      enumerate(dims, at + 1, resolved, chosen, leaf);
    }
  }
  chosen.erase(dims[at].name);
}

std::string valid_dimensions()
{
  return "tp, cp, pp, vpp, ep, micro_batch_size, zero_stage, recompute, sequence_parallel (those this scenario "
         "format supports), and with --space: site, grid, power_cap, start_date, accelerator, nodes, fabric";
}

/// Mixed pools, vpp 1: the stages of each pool when every stage lies in one pool and the stages fall on two
/// pools ({stages of the first, stages of the second}); {0, 0} otherwise.
std::pair<long, long> stages_per_pool(const json& r, const std::map<std::string, json>& c)
{
  const long pp = num(c, "pp"), per_stage = num(c, "tp") * num(c, "cp") * num(c, "dp");
  const long apn = r["cluster"]["accelerators_per_node"].get<long>();
  const auto& pools = r["cluster"]["pools"];
  auto pool_of = [&](long node) {
    size_t k = 0;
    while (k + 1 < pools.size() && node >= pools[k + 1]["first_node"].get<long>())
      ++k;
    return k;
  };
  std::vector<size_t> of;
  for (long st = 0; st < pp; ++st) {
    const size_t a = pool_of(st * per_stage / apn), b = pool_of(((st + 1) * per_stage - 1) / apn);
    if (a != b)
      return {0, 0};
    of.push_back(a);
  }
  const long first = std::count(of.begin(), of.end(), of.front());
  if (num(c, "vpp") != 1 || first == pp || std::count(of.begin(), of.end(), of.back()) != pp - first)
    return {0, 0};
  return {first, pp - first};
}

/// Mixed pools (docs/cluster.md "One job over mixed pools"): /parallelism/layer_split as a dimension after
/// vpp: "balanced" (by the pools' peaks), "even" where it divides, and lists: with two virtual stages every
/// split; with more over two pools (vpp 1), every split giving each stage of a pool the same count. The lower
/// bound prunes most. --fix layer_split keeps the scenario's.
void add_split_dimension(const SearchOptions& o, std::vector<SearchDimension>& dims, SearchResult& res)
{
  SearchDimension d{"layer_split", "/parallelism/layer_split", json(),
                    [](const json& r, const std::map<std::string, json>& c) {
                      const long v = num(c, "pp") * num(c, "vpp"), layers = r["model"]["layers"].get<long>();
                      std::vector<json> out{"balanced"};
                      if (layers % v == 0)
                        out.emplace_back("even");
                      for (long first = 1; v == 2 && first < layers; ++first)
                        out.push_back(json::array({first, layers - first}));
                      const auto [n0, n1] = v > 2 ? stages_per_pool(r, c) : std::pair<long, long>{0, 0};
                      for (long l0 = 1; n0 > 0 && n0 * l0 + n1 <= layers; ++l0)
                        if ((layers - n0 * l0) % n1 == 0) {
                          json split = json::array();
                          for (long k = 0; k < n0 + n1; ++k)
                            split.push_back(k < n0 ? l0 : (layers - n0 * l0) / n1);
                          out.push_back(split);
                        }
                      return out;
                    }};
  const bool fixed = std::find(o.fixed.begin(), o.fixed.end(), d.name) != o.fixed.end();
  if (const auto r = o.restrict.find(d.name); r != o.restrict.end()) {
    const auto values = r->second;
    d.values = [values](const json&, const std::map<std::string, json>&) { return values; };
  } else if (fixed) {
    d.values = [](const json& r, const std::map<std::string, json>&) {
      const auto& p = r["parallelism"];
      return std::vector<json>{p.contains("layer_split") ? p["layer_split"] : json("even")};
    };
  }
  res.dimensions.push_back(d.name);
  auto at = std::find_if(dims.begin(), dims.end(), [](const SearchDimension& x) { return x.name == "vpp"; });
  dims.insert(at == dims.end() ? dims.end() : at + 1, std::move(d));
}

/// The space: plan dimensions named by --space, then the parallelism dimensions the scenario format knows
/// (others dropped), with --fix and --space applied.
std::vector<SearchDimension> search_space(const json& base, const json& resolved, const scenario::Catalog& catalog,
                                          const SearchOptions& o, SearchResult& res)
{
  std::vector<SearchDimension> dims;
  for (auto d : plan_search_space()) {
    const auto r = o.restrict.find(d.name);
    if (r == o.restrict.end())
      continue; // the scenario's own value
    const auto values = r->second;
    d.values = [values](const json&, const std::map<std::string, json>&) { return values; };
    res.dimensions.push_back(d.name);
    dims.push_back(std::move(d));
  }
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
  if (resolved["cluster"].contains("pools")) // mixed pools: the layer split is part of the plan
    add_split_dimension(o, dims, res);
  for (const auto& f : o.fixed)
    if (is_plan(f) || std::find(res.dimensions.begin(), res.dimensions.end(), f) == res.dimensions.end())
      throw core::UsageError("--fix " + f +
                             ": not a search dimension (plan dimensions are fixed unless --space "
                             "names them); valid: " +
                             valid_dimensions());
  for (const auto& [f, v] : o.restrict)
    if (f == "dp" || std::find(res.dimensions.begin(), res.dimensions.end(), f) == res.dimensions.end())
      throw core::UsageError("--space " + f +
                             "=...: not a search dimension (dp follows from the others); valid: " + valid_dimensions());
  for (const auto& [f, v] : o.restrict)
    check_space_values(f, v);
  return dims;
}

/// Every plan that parses and fits, with its lower bound and its group (the plan without its site: the
/// simulation does not depend on the site).
std::vector<Candidate> candidates(const json& base, const json& resolved, const scenario::Catalog& catalog,
                                  const SearchOptions& o, const std::vector<SearchDimension>& dims, SearchResult& res)
{
  std::vector<std::string> needed;
  for (const auto& [n, w] : o.objective.terms)
    needed.push_back(n);
  for (const auto& c : o.constraints)
    needed.push_back(c.figure);
  std::vector<Candidate> cands;
  std::map<std::string, std::unique_ptr<topology::Fabric>> fabrics; // by cluster
  std::map<std::string, size_t> groups;
  std::map<std::string, json> chosen;
  enumerate(dims, 0, resolved, chosen, [&] {
    Candidate c;
    c.index = res.candidates++;
    c.config = chosen;
    c.doc = base;
    for (const auto& d : dims)
      apply(c.doc, d, chosen.at(d.name));
    if (auto pre = precheck(c.doc, catalog, &c.parsed)) {
      ++(pre->status == Status::infeasible ? res.no_fit : res.invalid);
      if (pre->status != Status::infeasible && res.first_invalid.empty())
        res.first_invalid = pre->error;
      return;
    }
    try {
      const auto w = workload::build_workload(c.parsed, catalog.calibration());
      auto& fabric = fabrics[scenario::to_json(c.parsed)["cluster"].dump()];
      if (!fabric)
        fabric = std::make_unique<topology::Fabric>(topology::Fabric::build(c.parsed.cluster));
      c.bound = lower_bound(c.parsed, w, *fabric, catalog.calibration(), needed);
    } catch (const core::InfeasibleError&) {
      ++res.no_fit;
      return;
    } catch (const core::ConfigError& e) {
      if (res.invalid++ == 0)
        res.first_invalid = e.what();
      return;
    }
    for (const auto& k : o.constraints)
      if (figure(c.bound, k.figure) > k.max) {
        ++res.constrained;
        return;
      }
    c.bound_score = score(o.objective, c.bound);
    json step = c.doc;
    step.erase("site");
    c.group = groups.emplace(step.dump(), groups.size()).first->second;
    cands.push_back(std::move(c));
  });
  return cands;
}

Figures figures_of(const nlohmann::ordered_json& report)
{
  const auto num = [&](const char* k) { return report.at(k).is_null() ? 0.0 : report.at(k).get<double>(); };
  return {num("time_to_train_s"), num("energy_mwh"), num("carbon_tco2e"), num("carbon_coal_tco2e"),
          report.contains("cost_rmb") ? num("cost_rmb") : 0.0};
}

} // namespace

SearchResult search(const json& base, const scenario::Catalog& catalog, const SearchOptions& o,
                    const EvaluateGroup& evaluate)
{
  SearchResult res;
  const json resolved = scenario::to_json(scenario::parse_scenario(base, catalog));
  const auto dims = search_space(base, resolved, catalog, o, res);
  auto cands = candidates(base, resolved, catalog, o, dims, res);
  std::stable_sort(cands.begin(), cands.end(),
                   [](const Candidate& a, const Candidate& b) { return a.bound_score < b.bound_score; });
  std::map<size_t, std::vector<size_t>> members; // group -> candidates, in bound order
  for (size_t k = 0; k < cands.size(); ++k)
    members[cands[k].group].push_back(k);

  // Branch and bound over the sorted candidates: simulate in order (a plan's whole group at once: one
  // simulation, a report per site), stop once the next bound cannot enter the top N.
  std::vector<SearchResult::Entry> done;
  std::vector<double> best; // sorted scores of the evaluated plans that meet every constraint
  std::vector<bool> started(members.size(), false);
  const size_t top = static_cast<size_t>(std::max(1, o.top));
  size_t next = 0;
  Progress progress(stderr, o.progress, members.size(), 0, "search");
  auto cutoff = [&] { return best.size() >= top ? best[top - 1] : INFINITY; };
  run_pool(
      o.jobs > 0 ? o.jobs : available_cores(),
      [&]() -> std::optional<Task> {
        while (next < cands.size() && started[cands[next].group])
          ++next; // evaluated with its group
        if (next >= cands.size())
          return std::nullopt;
        const double kth = cutoff();
        if (!o.exhaustive && cands[next].bound_score > kth + 1e-12 * std::fabs(kth)) {
          next = cands.size(); // sorted: every later bound is at least as high
          return std::nullopt;
        }
        const size_t g = cands[next++].group;
        started[g] = true;
        std::vector<scenario::Scenario> group;
        for (size_t k : members[g])
          group.push_back(cands[k].parsed);
        return Task{g, [&evaluate, group] {
                      nlohmann::ordered_json reports = nlohmann::ordered_json::array();
                      for (auto& r : evaluate(group))
                        reports.push_back(slim_report(std::move(r)));
                      return reports;
                    }};
      },
      [&](size_t g, Outcome out) {
        progress.tick(to_string(out.status), "#" + std::to_string(cands[members[g].front()].index));
        if (out.status != Status::ok || out.result.size() != members[g].size()) {
          ++res.failed;
          return;
        }
        ++res.simulated;
        for (size_t i = 0; i < members[g].size(); ++i) {
          const auto& c = cands[members[g][i]];
          ++res.evaluated;
          SearchResult::Entry e{c.index, c.config, c.doc, 0, c.bound_score, {}, std::move(out.result[i])};
          e.figures = figures_of(e.report);
          e.score = score(o.objective, e.figures);
          for (const auto& [n, w] : o.objective.terms)
            res.max_bound_ratio = std::max(res.max_bound_ratio, figure(c.bound, n) / figure(e.figures, n));
          e.meets = std::all_of(o.constraints.begin(), o.constraints.end(),
                                [&](const Constraint& k) { return figure(e.figures, k.figure) <= k.max; });
          res.evaluated_plans.push_back(e);
          res.evaluated_plans.back().scenario = json();
          if (!e.meets) {
            ++res.violated;
            continue;
          }
          best.insert(std::upper_bound(best.begin(), best.end(), e.score), e.score);
          done.push_back(std::move(e));
        }
      });
  res.pruned = cands.size() - res.evaluated;
  progress.finish(std::to_string(res.simulated) + " simulated, " + std::to_string(res.pruned) + " pruned by the bound");
  TRAINSIM_ASSERT(res.max_bound_ratio <= 1 + 1e-9, "a lower bound exceeded its simulated figure (ratio " +
                                                       std::to_string(res.max_bound_ratio) +
                                                       "); the search would not be exact");
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score < b.score : a.candidate < b.candidate;
  });
  if (done.size() > top)
    done.resize(top);
  res.top = std::move(done);
  std::sort(res.evaluated_plans.begin(), res.evaluated_plans.end(),
            [](const auto& a, const auto& b) { return a.candidate < b.candidate; });
  return res;
}

SearchResult search(const json& base, const scenario::Catalog& catalog, const SearchOptions& o,
                    const Evaluate& evaluate)
{
  return search(base, catalog, o, [&evaluate](const std::vector<scenario::Scenario>& group) {
    std::vector<nlohmann::ordered_json> reports;
    for (const auto& s : group)
      reports.push_back(evaluate(s));
    return reports;
  });
}

} // namespace trainsim::sweep
