#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "trainsim/cli/Commands.hpp"
#include "trainsim/cli/ReportOutputs.hpp"
#include "trainsim/collective/Collective.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/ChromeTrace.hpp"
#include "trainsim/report/Html.hpp"
#include "trainsim/report/Listing.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/topology/FabricModel.hpp"

namespace trainsim::cli {

void ReportOutputs::add_options(CLI::App* command)
{
  command->add_option("--trace", trace,
                      "write a Chrome trace-event / Perfetto JSON of the last simulated step to FILE");
  command->add_option("--html", html, "write a self-contained HTML report to FILE");
}

sim::SimOptions ReportOutputs::sim_options(const scenario::Scenario& s) const
{
  sim::SimOptions o;
  if (!trace.empty() || !html.empty())
    o.trace_step = s.simulation.steps - 1;
  return o;
}

void ReportOutputs::write(const scenario::Scenario& s, const RunOutput& out, core::OutputFiles& files) const
{
  if (!trace.empty())
    files.add(trace, report::to_chrome_trace(s, out.sim.trace).dump(1) + "\n");
  if (!html.empty())
    files.add(html, report::to_html(report::to_json(s, out.metrics), &out.sim.trace));
}

bool use_colour(int fd)
{
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && *no_colour != '\0')
    return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb")
    return false;
  return isatty(fd) != 0;
}

namespace {

const std::vector<std::string>& list_categories()
{
  static const std::vector<std::string> c{"accelerators", "fabrics",     "grids",      "sites",
                                          "models",       "collectives", "frameworks", "keys"};
  return c;
}

std::string generated_note(const std::string& category)
{
  return "Generated from the code and the catalogue by `trainsim list " + category +
         " --markdown`; do not edit by hand: run `tools/gen-reference-docs` (the `reference_docs` test fails when "
         "this page and the code drift apart).";
}

/// A catalogue file of platforms/ other than the three the Catalog reads (for example fabric presets),
/// as the object under its own name; null when there is none.
nlohmann::json optional_catalogue(const std::string& name)
{
  const std::string path = scenario::Catalog::default_dir() + "/" + name + ".json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return nullptr;
  const auto j = scenario::load_json_file(path, "fix the catalogue file");
  if (!j.is_object())
    throw core::ConfigError("", path + ": the catalogue must be a JSON object");
  return j.contains(name) ? j.at(name) : j;
}

std::vector<report::Table> fabric_tables()
{
  std::vector<report::Table> out;
  report::Table types;
  types.title = "Fabric types";
  types.intro = "Values of `/cluster/fabric/type`, with the keys of `/cluster/fabric` they read "
                "(docs/scenario-format.md, docs/architecture.md#the-fabric-model).";
  types.headers = {"type", "structure", "keys"};
  // One row per fabric model registered in topology (topology::fabric_models()), with the keys it reads.
  for (const auto& m : topology::fabric_models()) {
    std::string keys = "nic_bandwidth, latency, in_network_reduction";
    for (const auto& c : m.common)
      keys += ", " + c + (c == "tiers" ? " (1-3)" : "");
    for (const auto& p : m.params)
      keys += ", " + p.name;
    types.rows.push_back({m.name, m.doc, keys});
  }
  out.push_back(types);
  report::Table tiers;
  tiers.title = "Link tiers";
  tiers.intro = "The kinds of links a fabric is built from; `--trace` and `--html` report the utilisation of each.";
  tiers.headers = {"tier", "links"};
  const std::vector<std::pair<topology::LinkKind, std::string>> kinds{
      {topology::LinkKind::scale_up,
       "accelerator to its node's scale-up switch (NVLink / HCCS class), one per accelerator"},
      {topology::LinkKind::nic, "accelerator NIC to its leaf switch, one per accelerator"},
      {topology::LinkKind::leaf_uplink, "leaf to spine layer: one trunk per leaf"},
      {topology::LinkKind::pod_uplink, "pod to core layer (3 tiers): one trunk per pod"}};
  for (const auto& [kind, what] : kinds)
    tiers.rows.push_back({topology::to_string(kind), what});
  out.push_back(tiers);
  const auto presets = optional_catalogue("fabrics");
  if (presets.is_object() && !presets.empty())
    out.push_back(report::catalogue_table("Fabric presets (platforms/fabrics.json)", presets));
  return out;
}

report::Table collective_table()
{
  collective::register_builtins();
  report::Table t;
  t.title = "Collective algorithms";
  t.intro = "Algorithms in the collective registry (`collective::Registry`). For each collective: phases and "
            "sequential latency steps over 8 and 64 members, and the bytes each member sends as a multiple of "
            "the buffer size (from the algorithm's own expansion).";
  t.headers = {
      "algorithm",     "collective",           "phases (n=8)",          "latency steps (n=8)", "sent per member (n=8)",
      "phases (n=64)", "latency steps (n=64)", "sent per member (n=64)"};
  for (const auto& name : collective::Registry::instance().names()) {
    auto algo = collective::Registry::instance().create(name);
    for (auto kind : {collective::CollectiveKind::all_reduce, collective::CollectiveKind::reduce_scatter,
                      collective::CollectiveKind::all_gather}) {
      std::vector<std::string> row{name, collective::to_string(kind)};
      for (int n : {8, 64}) {
        if (!algo->supports(kind, n, collective::Topology{})) { // the algorithm's own answer
          row.insert(row.end(), {"–", "–", "not supported"});
          continue;
        }
        const auto s = algo->expand(kind, n, 1.0);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.4g x", s.bytes_sent_by(0));
        row.insert(row.end(), {std::to_string(s.phases.size()), std::to_string(s.latency_steps), buf});
      }
      t.rows.push_back(row);
    }
  }
  return t;
}

/// Every scenario key, from its one declaration (scenario::scenario_keys(), src/scenario/Keys*.cpp).
report::Table keys_table()
{
  report::Table t;
  t.title = "Scenario keys";
  t.intro = "Every key of a scenario file, declared once in `src/scenario/Keys*.cpp`: the parser takes ranges and "
            "defaults from the declaration and refuses to read an undeclared key; any other key is an error. "
            "`*` stands for an array index. Prose and examples: docs/scenario-format.md.";
  t.headers = {"key", "type", "valid", "default", "description"};
  for (const auto& k : scenario::scenario_keys().keys())
    t.rows.push_back({k.path, scenario::to_string(k.type), scenario::valid_text(k), scenario::default_text(k), k.doc});
  return t;
}

std::vector<report::Table> tables_of(const std::string& category)
{
  const auto& cat = scenario::Catalog::instance();
  if (category == "accelerators") {
    auto t = report::catalogue_table("Accelerators (platforms/accelerators.json)", cat.accelerators());
    t.intro = "Presets for `/cluster/accelerator`; peak FLOP/s are dense, per precision (– : no such mode).";
    return {t};
  }
  if (category == "grids") {
    auto t = report::catalogue_table("Electricity grids (platforms/grids.json)", cat.grids());
    t.intro = "Presets for `/site/grid`; `co2_kg_per_kwh` is the average emission factor (kg/kWh = t/MWh).";
    return {t};
  }
  if (category == "sites") {
    auto t = report::catalogue_table("Sites (platforms/sites.json)", cat.sites());
    t.intro = "Presets for `/site/preset`: a grid and the climate of the outdoor cooling model (monthly means, "
              "January first); the scenario's own site keys win. `search --space site=...` compares them.";
    return {t};
  }
  if (category == "models") {
    auto t = report::catalogue_table("Model presets (platforms/models.json)", cat.models());
    t.intro = "Presets for `/model/preset`; any field can be overridden in the scenario.";
    return {t};
  }
  if (category == "fabrics")
    return fabric_tables();
  if (category == "frameworks") { // issue 14: platforms/frameworks.json, docs/frameworks.md
    auto t = report::catalogue_table("Framework presets (platforms/frameworks.json)", cat.frameworks());
    t.intro =
        "Presets for `/training/framework`: the defaults a software stack applies to the keys a scenario "
        "leaves out (`zero3.*`: only with zero_stage 3); any key given in the scenario wins (docs/frameworks.md).";
    return {t};
  }
  if (category == "collectives")
    return {collective_table()};
  if (category == "keys")
    return {keys_table()};
  std::string valid;
  for (const auto& c : list_categories())
    valid += (valid.empty() ? "" : ", ") + c;
  throw core::UsageError("list " + category + ": unknown category; valid: " + valid);
}

int cmd_list(const std::string& category, bool markdown)
{
  std::vector<std::string> cats = category.empty() ? list_categories() : std::vector<std::string>{category};
  const bool bold = !markdown && use_colour(STDOUT_FILENO);
  for (const auto& c : cats) {
    auto tables = tables_of(c);
    if (markdown) {
      std::string title = c;
      title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
      std::cout << "# " << title << "\n\n" << generated_note(c) << "\n\n";
    }
    for (const auto& t : tables) {
      std::string text = report::render(t, markdown);
      if (bold) // the title line
        text = "\033[1m" + text.substr(0, text.find('\n')) + "\033[0m" + text.substr(text.find('\n'));
      std::cout << text;
    }
  }
  return 0;
}

int cmd_html_sweep(const std::string& results, const report::SweepPlot& plot_in, const std::string& x_better,
                   const std::string& y_better, const std::string& out)
{
  core::check_outputs({{"results", results}}, {{"-o", out}});
  report::SweepPlot plot = plot_in;
  auto better = [](const std::string& v, const std::string& field, const char* option) {
    if (v.empty())
      return report::higher_is_better(field);
    if (v == "high" || v == "low")
      return v == "high";
    throw core::UsageError(std::string(option) + " " + v + ": write high or low");
  };
  plot.x_higher_better = better(x_better, plot.x, "--x-better");
  plot.y_higher_better = better(y_better, plot.y, "--y-better");
  const auto rows = report::read_result_rows(results);
  core::write_file_atomically(out, report::sweep_to_html(rows, plot));
  return 0;
}

} // namespace

void add_report_commands(CLI::App& app, CommandTable& table)
{
  auto category = std::make_shared<std::string>();
  auto markdown = std::make_shared<bool>(false);
  auto* list = app.add_subcommand(
      "list", "list the catalogue, the registered models and the scenario keys: accelerators, "
              "fabrics, grids, sites, models, collectives, frameworks, keys (all without an argument)");
  list->add_option("category", *category,
                   "accelerators, fabrics, grids, sites, models, collectives, frameworks or keys");
  list->add_flag("--markdown", *markdown, "print Markdown (the docs/reference/ pages are this output)");
  table.add(list, [=] { return cmd_list(*category, *markdown); });

  auto results = std::make_shared<std::string>();
  auto plot = std::make_shared<report::SweepPlot>();
  auto x_better = std::make_shared<std::string>();
  auto y_better = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* hs = app.add_subcommand("html-sweep", "render sweep results (JSON Lines or CSV) as an HTML scatter of two "
                                              "fields with their Pareto front");
  hs->add_option("results", *results, "result rows: JSON Lines (one object per line) or a .csv file")->required();
  hs->add_option("--x", plot->x, "field on the x axis (e.g. energy_mwh, or a nested name such as breakdown.compute_s)")
      ->required();
  hs->add_option("--y", plot->y, "field on the y axis (e.g. step_time_s)")->required();
  hs->add_option("--x-better", *x_better, "high or low (default: high for throughput, MFU, TFLOP/s; low otherwise)");
  hs->add_option("--y-better", *y_better, "high or low (default as for --x-better)");
  hs->add_option("--title", plot->title, "page title");
  hs->add_option("-o,--out", *out, "write the HTML to FILE")->required();
  table.add(hs, [=] { return cmd_html_sweep(*results, *plot, *x_better, *y_better, *out); });
}

} // namespace trainsim::cli
