#include "trainsim/cli/Commands.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "trainsim/core/Log.hpp"
#include <CLI/CLI.hpp>

#include "trainsim/cli/ReportOutputs.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Printable.hpp"
#include "trainsim/core/Units.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/ResourceGuard.hpp"

namespace trainsim::cli {

namespace {

scenario::Scenario load(const std::string& path, const scenario::Catalog& cat)
{
  return path.empty() ? scenario::default_scenario(cat) : scenario::load_scenario_file(path, cat);
}

/// --max-memory / --max-time override the scenario's /simulation limits (resource guard).
struct LimitOptions {
  std::string memory, time;
  void apply(scenario::Scenario& s) const
  {
    auto parse = [](const std::string& option, const std::string& text, core::Dimension dim, const char* example) {
      double x = 0;
      try {
        x = core::parse_quantity(text, dim);
      } catch (const core::InvalidArgument& e) {
        throw core::UsageError(option + " " + text + ": " + e.what() + "; e.g. " + option + " " + example);
      }
      if (!(x > 0) || !std::isfinite(x))
        throw core::UsageError(option + " " + text + ": must be positive; e.g. " + option + " " + example);
      return x;
    };
    if (!memory.empty())
      s.simulation.max_memory_bytes = parse("--max-memory", memory, core::Dimension::bytes, "32GB");
    if (!time.empty())
      s.simulation.max_time_s = parse("--max-time", time, core::Dimension::time, "2h");
  }
  void add_to(CLI::App* app)
  {
    app->add_option("--max-memory", memory,
                    "resource guard: refuse scenarios estimated to need more memory (e.g. 32GB)");
    app->add_option("--max-time", time, "resource guard: refuse scenarios estimated to run longer (e.g. 2h)");
  }
};

int cmd_run(const std::string& path, const std::string& json_out, const std::string& csv_out, bool quiet,
            const std::string& fidelity, const ReportOutputs& extra, const LimitOptions& limits)
{
  const auto& cat = scenario::Catalog::instance();
  // Fail before simulating, not after: every output writable, none an input or another output.
  core::check_outputs({{"scenario", path}},
                      {{"--json", json_out}, {"--csv", csv_out}, {"--trace", extra.trace}, {"--html", extra.html}});
  auto s = load(path, cat);
  if (const auto& profile = s.site.carbon.intensity_profile; !profile.empty()) { // an input too
    std::filesystem::path p(profile);
    if (p.is_relative())
      p = std::filesystem::path(path).parent_path() / p;
    core::check_outputs({{"scenario", path}, {"/site/intensity_profile", p.string()}},
                        {{"--json", json_out}, {"--csv", csv_out}, {"--trace", extra.trace}, {"--html", extra.html}});
  }
  limits.apply(s);
  sim::SimOptions options = extra.sim_options(s);
  options.fidelity = parse_fidelity(fidelity);
  const auto out = run_scenario(s, cat, options);
  // All files or none: each is written to a temporary first, then all are renamed into place.
  core::OutputFiles files;
  if (!json_out.empty())
    files.add(json_out, report::to_json_text(s, out.metrics));
  if (!csv_out.empty())
    files.add(csv_out, report::csv_header() + report::csv_row(out.metrics));
  extra.write(s, out, files);
  files.commit();
  if (!quiet)
    std::cout << report::to_console(s, out.metrics, use_colour(1));
  return 0;
}

int cmd_validate(const std::string& path, bool dump, const LimitOptions& limits)
{
  auto s = scenario::load_scenario_file(path, scenario::Catalog::instance());
  limits.apply(s);
  // A scenario is valid only if it can be simulated within the resource limits and fits in memory.
  workload::check_resources(s, workload::limits_of(s));
  topology::Fabric::build(s.cluster);
  for (const auto& phase : s.phases) // a phase may run on its own number of nodes (training.phases[].nodes)
    topology::Fabric::build(phase.scenario->cluster);
  workload::build_workload(s, scenario::Catalog::instance().calibration());
  if (dump)
    std::cout << scenario::to_json(s).dump(2) << "\n";
  else
    std::cout << core::printable(path) << ": valid (" << s.cluster.total_accelerators() << " accelerators, "
              << core::printable(s.model.name) << ")\n";
  return 0;
}

int cmd_reproduce(const std::string& dir, bool markdown, const std::string& json_out)
{
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw core::IoError(dir + ": not a directory; name a folder of scenario files with a \"reference\" block");
  std::vector<std::string> files;
  std::vector<core::NamedPath> inputs;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files)
    inputs.push_back({"the case", f});
  core::check_outputs(inputs, {{"--json", json_out}});
  const auto& cat = scenario::Catalog::instance();
  std::vector<report::ReproduceRow> rows;
  nlohmann::ordered_json cases = nlohmann::ordered_json::array();
  for (const auto& f : files) {
    const auto s = scenario::load_scenario_file(f, cat);
    if (!s.reference)
      continue;
    const auto out = run_scenario(s, cat);
    rows.push_back({fs::path(f).filename().string(), s.name, out.metrics.step_time_s, s.reference->step_time_s,
                    out.metrics.mfu, s.reference->source});
    rows.back().accelerators = out.metrics.accelerators;
    cases.push_back({{"file", rows.back().file},
                     {"name", s.name},
                     {"predicted_step_time_s", rows.back().predicted_s},
                     {"published_step_time_s", rows.back().published_s},
                     {"error", rows.back().error()},
                     {"mfu", out.metrics.mfu},
                     {"source", s.reference->source},
                     {"accelerators", rows.back().accelerators}});
  }
  if (rows.empty())
    throw core::IoError(dir + ": no scenario with a \"reference\" block; add /reference/step_time_s to the cases");
  std::cout << report::reproduce_table(rows, markdown);
  if (!json_out.empty()) {
    nlohmann::ordered_json j{{"cases", cases}, {"mape_percent", report::mean_absolute_percentage_error(rows)}};
    for (const auto& c : report::mape_by_size(rows)) // issue 13: MAPE by GPU-count class
      j["mape_by_size_percent"][c.label] = {{"mape_percent", c.mape_percent}, {"cases", c.cases}};
    core::write_file_atomically(json_out, j.dump(2) + "\n");
  }
  return 0;
}

} // namespace

void add_core_commands(CLI::App& app, CommandTable& table)
{
  auto run_path = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  auto csv_out = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto fidelity = std::make_shared<std::string>();
  auto* run =
      app.add_subcommand("run", "simulate training steps and report step time, MFU, time-to-train, energy, carbon");
  auto* scenario_arg =
      run->add_option("scenario", *run_path, "scenario JSON file (default: the built-in default scenario)");
  run->add_option("--json", *json_out, "write the JSON report to FILE");
  run->add_option("--csv", *csv_out, "write a CSV report to FILE");
  run->add_flag("-q,--quiet", *quiet, "print nothing on success");
  run->add_option("--fidelity", *fidelity,
                  "full: simulate every replica and rank; reduced: one replica, one rail where symmetric "
                  "(default: the scenario's /simulation/fidelity, else full up to 256 accelerators)");
  auto run_limits = std::make_shared<LimitOptions>();
  run_limits->add_to(run);
  auto extra = std::make_shared<ReportOutputs>();
  extra->add_options(run);
  table.add(run, [=] {
    // `run ''` is an empty path, not a request for the default scenario (that is `run` alone).
    if (scenario_arg->count() > 0 && run_path->empty())
      throw core::UsageError("scenario \"\": empty path; name a scenario file, or leave it out for the default");
    for (const char* option : {"--json", "--csv", "--trace", "--html"})
      if (run->get_option(option)->count() > 0 && run->get_option(option)->as<std::string>().empty())
        throw core::UsageError(std::string(option) + " \"\": empty output path; name a file");
    return cmd_run(*run_path, *json_out, *csv_out, *quiet, *fidelity, *extra, *run_limits);
  });

  auto validate_path = std::make_shared<std::string>();
  auto dump = std::make_shared<bool>(false);
  auto* validate = app.add_subcommand("validate", "check a scenario file without running it");
  validate->add_option("scenario", *validate_path, "scenario JSON file")->required();
  validate->add_flag("--dump", *dump, "print the resolved scenario");
  auto validate_limits = std::make_shared<LimitOptions>();
  validate_limits->add_to(validate);
  table.add(validate, [=] { return cmd_validate(*validate_path, *dump, *validate_limits); });

  auto repro_dir = std::make_shared<std::string>("scenarios/validation");
  auto repro_json = std::make_shared<std::string>();
  auto markdown = std::make_shared<bool>(false);
  auto* reproduce = app.add_subcommand("reproduce", "run validation cases and compare with published step times");
  reproduce->add_option("dir", *repro_dir, "folder of scenario files with a \"reference\" block")
      ->capture_default_str();
  reproduce->add_flag("--markdown", *markdown, "print a Markdown table");
  reproduce->add_option("--json", *repro_json, "write the comparison as JSON to FILE");
  table.add(reproduce, [=] { return cmd_reproduce(*repro_dir, *markdown, *repro_json); });
}

} // namespace trainsim::cli
