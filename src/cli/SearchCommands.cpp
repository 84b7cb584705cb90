// trainsim search (best parallelism under an objective) and trainsim regress (CI baseline comparison).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>

#include "trainsim/cli/Commands.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Html.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/sweep/Regress.hpp"
#include "trainsim/sweep/Search.hpp"

namespace trainsim::cli {

namespace {

/// One simulation per group of plans that differ only in their site; a report for each.
sweep::EvaluateGroup group_pipeline()
{
  return [](const std::vector<scenario::Scenario>& group) {
    const auto ms = run_site_group(group, scenario::Catalog::instance());
    std::vector<nlohmann::ordered_json> reports;
    for (size_t i = 0; i < group.size(); ++i)
      reports.push_back(report::to_json(group[i], ms[i]));
    return reports;
  };
}

sweep::Evaluate pipeline()
{
  return [](const scenario::Scenario& s) {
    const auto out = run_scenario(s, scenario::Catalog::instance());
    return report::to_json(s, out.metrics);
  };
}

struct SearchArgs {
  std::string scenario, objective = "time", json_out, rows_out, html_out, html_y = "coal";
  int top = 5, jobs = 0, max_tp = 0;
  bool exhaustive = false, quiet = false;
  std::vector<std::string> fix, space, constraints;
};

/// The report field of an objective figure, for tables and plots.
std::string field_of(const std::string& figure)
{
  return figure == "time"     ? "time_to_train_days"
         : figure == "energy" ? "energy_mwh"
         : figure == "carbon" ? "carbon_tco2e"
         : figure == "coal"   ? "carbon_coal_tco2e"
                              : "cost_rmb";
}

nlohmann::json parse_value(const std::string& v)
{
  try {
    return nlohmann::json::parse(v);
  } catch (const std::exception&) {
    return v; // a bare word: a string such as selective
  }
}

std::string cell(const nlohmann::json& v)
{
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string header_of(const std::string& d)
{
  return d == "micro_batch_size" ? "mbs" : d == "sequence_parallel" ? "sp" : d == "zero_stage" ? "zero" : d;
}

std::string figure_cell(const nlohmann::ordered_json& report, const char* key, const char* format)
{
  if (!report.contains(key) || report.at(key).is_null())
    return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, report.at(key).get<double>());
  return buf;
}

/// The best plans: their dimensions (widths from the values), then the figures a planner signs off.
void print_top(const sweep::SearchResult& r)
{
  std::vector<size_t> width;
  for (const auto& d : r.dimensions) {
    size_t w = std::max<size_t>(4, header_of(d).size());
    for (const auto& e : r.top)
      w = std::max(w, cell(e.config.at(d)).size());
    width.push_back(w);
  }
  std::printf("%-4s", "rank");
  for (size_t i = 0; i < r.dimensions.size(); ++i)
    std::printf(" %*s", static_cast<int>(width[i]), header_of(r.dimensions[i]).c_str());
  std::printf(" %12s %8s %10s %6s %10s %10s %10s %12s\n", "score", "step_s", "tokens/s", "mfu", "days", "MWh",
              "coal_tCO2e", "cost_RMB");
  for (size_t k = 0; k < r.top.size(); ++k) {
    const auto& e = r.top[k];
    std::printf("%-4zu", k + 1);
    for (size_t i = 0; i < r.dimensions.size(); ++i)
      std::printf(" %*s", static_cast<int>(width[i]), cell(e.config.at(r.dimensions[i])).c_str());
    std::printf(" %12.6g %8.4f %10.4g %6.3f %10.2f %10.1f %10s %12s\n", e.score,
                e.report.at("step_time_s").get<double>(), e.report.at("tokens_per_s").get<double>(),
                e.report.at("mfu").get<double>(), e.report.at("time_to_train_days").get<double>(),
                e.report.at("energy_mwh").get<double>(), figure_cell(e.report, "carbon_coal_tco2e", "%.1f").c_str(),
                figure_cell(e.report, "cost_rmb", "%.4g").c_str());
  }
}

/// --rows: every evaluated plan as a result row (its dimensions, then the report's figures), in candidate
/// order, for `trainsim html-sweep`; --html: time to train against a figure with the Pareto front.
void write_search_files(const SearchArgs& a, const sweep::SearchResult& r, const std::string& html_field)
{
  if (a.rows_out.empty() && a.html_out.empty())
    return;
  std::vector<nlohmann::ordered_json> rows;
  for (const auto& e : r.evaluated_plans) {
    nlohmann::ordered_json row;
    row["candidate"] = e.candidate;
    for (const auto& d : r.dimensions)
      row[d] = e.config.at(d);
    row["meets_constraints"] = e.meets;
    for (const auto& [k, v] : e.report.items())
      if (v.is_number() || v.is_null())
        row[k] = v;
    rows.push_back(std::move(row));
  }
  core::OutputFiles files;
  if (!a.rows_out.empty()) {
    std::string text;
    for (const auto& row : rows)
      text += row.dump() + "\n";
    files.add(a.rows_out, text);
  }
  if (!a.html_out.empty()) {
    report::SweepPlot plot{"time_to_train_days", html_field, false, false,
                           "search: time to train against " + html_field + " (every evaluated plan)"};
    files.add(a.html_out, report::sweep_to_html(rows, plot));
  }
  files.commit();
}

int cmd_search(const SearchArgs& a)
{
  const auto& cat = scenario::Catalog::instance();
  const nlohmann::json base = scenario::load_json_file(a.scenario);
  sweep::SearchOptions o;
  o.objective = sweep::Objective::parse(a.objective);
  if (a.top < 1 || a.jobs < 0 || a.max_tp < 0)
    throw core::UsageError("--top must be at least 1, -j and --max-tp at least 0");
  o.top = a.top;
  o.jobs = a.jobs;
  o.exhaustive = a.exhaustive;
  o.max_tp = a.max_tp;
  for (const auto& f : a.fix) {
    size_t pos = 0;
    while (pos <= f.size()) {
      const size_t c = f.find(',', pos);
      o.fixed.push_back(f.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
      pos = c == std::string::npos ? f.size() + 1 : c + 1;
    }
  }
  for (const auto& s : a.space) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw core::UsageError("--space \"" + printable(s) + "\": write NAME=v1,v2,... e.g. --space tp=2,4,8");
    auto& values = o.restrict[s.substr(0, eq)];
    size_t pos = eq + 1;
    while (pos <= s.size()) {
      const size_t c = s.find(',', pos);
      values.push_back(parse_value(s.substr(pos, c == std::string::npos ? std::string::npos : c - pos)));
      pos = c == std::string::npos ? s.size() + 1 : c + 1;
    }
  }
  for (const auto& c : a.constraints)
    o.constraints.push_back(sweep::Constraint::parse(c));
  const std::string html_field = field_of(a.html_y);
  core::check_outputs({{"scenario", a.scenario}},
                      {{"--json", a.json_out}, {"--rows", a.rows_out}, {"--html", a.html_out}});
  o.progress = a.quiet ? sweep::Progress::Mode::off : sweep::Progress::auto_mode(stderr, false);
  if (o.progress == sweep::Progress::Mode::lines)
    o.progress = sweep::Progress::Mode::off; // one line per simulation is noise in logs; the summary says it all
  const auto r = sweep::search(base, cat, o, group_pipeline());
  if (r.top.empty() && (r.constrained > 0 || r.violated > 0))
    throw core::InfeasibleError("--constraint", "no plan meets the constraints (" + std::to_string(r.constrained) +
                                                    " break them by their lower bound, " + std::to_string(r.violated) +
                                                    " when simulated); relax --constraint or widen --space");
  if (r.top.empty() && r.invalid == 0 && r.failed == 0)
    throw core::InfeasibleError("/parallelism", "no configuration of the search space fits in memory (" +
                                                    std::to_string(r.candidates) +
                                                    " tried); add accelerators or allow recompute");
  if (r.top.empty()) // say why: not every rejection is memory (issue 19: pp 1 with vpp 2 was blamed on it)
    throw core::ConfigError("/parallelism",
                            "no configuration of the search space runs (" + std::to_string(r.candidates) +
                                " tried: " + std::to_string(r.invalid) + " invalid, " + std::to_string(r.no_fit) +
                                " do not fit in memory, " + std::to_string(r.failed) + " failed" +
                                (r.first_invalid.empty() ? "" : "; the first invalid: " + r.first_invalid) +
                                "); widen --space, drop --fix or change the scenario's parallelism");
  std::string dims;
  for (const auto& d : r.dimensions)
    dims += (dims.empty() ? "" : " ") + d;
  std::printf("search over %s; objective: %s\n", dims.c_str(), o.objective.describe().c_str());
  if (!r.dropped.empty()) {
    std::string d;
    for (const auto& x : r.dropped)
      d += (d.empty() ? "" : ", ") + x;
    std::printf("not searched (not in the scenario format yet): %s\n", d.c_str());
  }
  std::printf("%zu configurations: %zu invalid, %zu do not fit in memory (not simulated), %zu pruned by the lower "
              "bound, %zu simulated%s\n",
              r.candidates, r.invalid, r.no_fit, r.pruned, r.simulated,
              r.failed ? (", " + std::to_string(r.failed) + " failed").c_str() : "");
  if (r.evaluated != r.simulated)
    std::printf("%zu plans evaluated by %zu simulations (plans that differ only in their site share one)\n",
                r.evaluated, r.simulated);
  if (!o.constraints.empty()) {
    std::string c;
    for (const auto& k : o.constraints)
      c += (c.empty() ? "" : ", ") + k.text;
    std::printf("constraints %s: %zu plans break them by their lower bound (not simulated), %zu when evaluated\n",
                c.c_str(), r.constrained, r.violated);
  }
  std::printf("\n");
  print_top(r);
  write_search_files(a, r, html_field);
  if (!a.json_out.empty()) {
    nlohmann::ordered_json j;
    j["objective"] = a.objective;
    j["dimensions"] = r.dimensions;
    j["configurations"] = r.candidates;
    j["invalid"] = r.invalid;
    j["no_fit"] = r.no_fit;
    j["pruned_by_bound"] = r.pruned;
    j["simulated"] = r.simulated;
    j["evaluated"] = r.evaluated;
    j["constraints"] = a.constraints;
    j["constrained_by_bound"] = r.constrained;
    j["violated"] = r.violated;
    j["exhaustive"] = a.exhaustive;
    j["top"] = nlohmann::ordered_json::array();
    for (const auto& e : r.top) {
      nlohmann::ordered_json cfg;
      for (const auto& d : r.dimensions)
        cfg[d] = e.config.at(d);
      j["top"].push_back({{"candidate", e.candidate},
                          {"config", cfg},
                          {"score", e.score},
                          {"lower_bound", e.lower_bound},
                          {"scenario", e.scenario},
                          {"report", e.report}});
    }
    core::write_file_atomically(a.json_out, j.dump(2) + "\n");
  }
  return 0;
}

struct RegressArgs {
  std::string baseline;
  std::vector<std::string> scenarios;
  double tolerance = 0.02;
  bool two_sided = false, update = false, allow_new = false;
  int jobs = 0;
};

int cmd_regress(const RegressArgs& a)
{
  namespace fs = std::filesystem;
  if (!(a.tolerance >= 0) || a.tolerance > 10)
    throw core::UsageError("--tolerance must be a relative tolerance between 0 and 10 (0.02 is 2%)");
  sweep::Baseline base;
  std::error_code ec;
  if (!a.update || fs::exists(a.baseline, ec))
    base = sweep::Baseline::load(a.baseline);
  std::set<std::string> names;
  for (const auto& s : a.scenarios)
    if (!names.insert(fs::path(s).filename().string()).second)
      throw core::UsageError(s + ": two scenarios named " + fs::path(s).filename().string() +
                             "; the baseline keys scenarios by file name, rename one");
  std::vector<sweep::Outcome> outcomes(a.scenarios.size());
  size_t next = 0;
  const auto evaluate = pipeline();
  sweep::run_pool(
      a.jobs > 0 ? a.jobs : sweep::available_cores(),
      [&]() -> std::optional<sweep::Task> {
        if (next >= a.scenarios.size())
          return std::nullopt;
        const size_t k = next++;
        const std::string path = a.scenarios[k];
        return sweep::Task{k, [path, &evaluate] {
                             return sweep::slim_report(
                                 evaluate(scenario::load_scenario_file(path, scenario::Catalog::instance())));
                           }};
      },
      [&](size_t k, sweep::Outcome o) { outcomes[k] = std::move(o); });
  sweep::RegressOptions ro{a.tolerance, a.two_sided};
  std::vector<sweep::RegressRow> rows;
  for (size_t k = 0; k < a.scenarios.size(); ++k) {
    const std::string name = fs::path(a.scenarios[k]).filename().string();
    const auto& o = outcomes[k];
    if (o.status != sweep::Status::ok) {
      sweep::RegressRow r;
      r.scenario = name;
      r.error = printable(o.error);
      rows.push_back(r);
      continue;
    }
    const sweep::BaselineEntry now{o.result.at("tokens_per_s").get<double>(), o.result.at("energy_mwh").get<double>(),
                                   o.result.at("step_time_s").get<double>()};
    auto it = base.scenarios.find(name);
    rows.push_back(
        sweep::compare(name, it == base.scenarios.end() ? std::nullopt : std::optional(it->second), now, ro));
  }
  std::cout << sweep::regress_table(rows, ro);
  if (a.update) {
    bool errors = false;
    for (const auto& r : rows) {
      if (r.current)
        base.scenarios[r.scenario] = *r.current;
      errors = errors || !r.error.empty();
    }
    core::write_file_atomically(a.baseline, base.to_text());
    std::cout << "updated " << a.baseline << " (" << base.scenarios.size() << " scenarios)\n";
    return errors ? static_cast<int>(core::ExitCode::bad_input) : 0;
  }
  const int code = sweep::regress_exit_code(rows, a.allow_new);
  if (code == 2)
    std::cerr
        << "trainsim: error: a scenario failed to run or has no baseline entry (see the table); fix it, or add it "
           "with --update\n";
  else if (code == 1)
    std::cerr << "trainsim: regression beyond the tolerance (see the table); if intended, rewrite the baseline with "
                 "--update\n";
  return code;
}

} // namespace

void add_search_commands(CLI::App& app, CommandTable& table)
{
  auto s = std::make_shared<SearchArgs>();
  auto* search =
      app.add_subcommand("search", "find the best parallelism for a scenario's model and cluster (docs/sweep.md)");
  search->add_option("scenario", s->scenario, "scenario JSON file (its parallelism is the starting point)")->required();
  search
      ->add_option("--objective", s->objective,
                   "time, energy, carbon, coal, cost, or a weighted mix such as time=0.7,coal=0.3")
      ->capture_default_str();
  search->add_option("--top", s->top, "how many configurations to print")->capture_default_str();
  search->add_option("-j,--jobs", s->jobs, "simulations at once (default 0: every core)");
  search->add_flag("--exhaustive", s->exhaustive, "simulate every configuration that fits (no bound pruning)");
  search->add_option("--max-tp", s->max_tp, "largest tensor-parallel size (default: accelerators per node)");
  search->add_option("--fix", s->fix,
                     "keep these dimensions at the scenario's values, e.g. --fix zero_stage,recompute");
  search->add_option("--space", s->space, "only these values of a dimension, e.g. --space tp=2,4 (repeatable)");
  search->add_option("--json", s->json_out, "write the top configurations with their scenarios and reports to FILE");
  search->add_flag("-q,--quiet", s->quiet, "no progress bar");
  search->add_option("--constraint", s->constraints,
                     "a bound every plan must meet, e.g. time_to_train<=60d, energy<=5000MWh, coal<=2000t, "
                     "cost<=2e8RMB (repeatable)");
  search->add_option("--rows", s->rows_out, "write every evaluated plan as JSON Lines (for html-sweep) to FILE");
  search->add_option("--html", s->html_out, "write an HTML page: time to train against --html-y, Pareto front");
  search
      ->add_option("--html-y", s->html_y, "the figure --html plots against time: coal (default), carbon, energy, cost")
      ->check(CLI::IsMember({"coal", "carbon", "energy", "cost"}));
  table.add(search, [s] { return cmd_search(*s); });

  auto r = std::make_shared<RegressArgs>();
  auto* regress = app.add_subcommand("regress", "compare simulated throughput and energy with a stored baseline (CI)");
  regress->add_option("--baseline", r->baseline, "baseline JSON file")->required();
  regress->add_option("scenarios", r->scenarios, "scenario JSON files")->required();
  regress->add_option("--tolerance", r->tolerance, "relative tolerance (0.02 is 2%)")->capture_default_str();
  regress->add_flag("--two-sided", r->two_sided, "fail on any change beyond the tolerance, better or worse");
  regress->add_flag("--update", r->update, "rewrite the baseline with the current figures of these scenarios");
  regress->add_flag("--allow-new", r->allow_new, "a scenario missing from the baseline is reported, not an error");
  regress->add_option("-j,--jobs", r->jobs, "scenarios run at once (default 0: every core)");
  table.add(regress, [r] { return cmd_regress(*r); });
}

} // namespace trainsim::cli
