#include "trainsim/cli/Commands.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include "trainsim/core/Log.hpp"

#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/topology/Fabric.hpp"

namespace trainsim::cli {

namespace {

/// One line, printable: control bytes from a user's file never reach the terminal raw.
std::string printable(const std::string& text)
{
  std::string out;
  for (unsigned char c : text)
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

scenario::Scenario load(const std::string& path, const scenario::Catalog& cat)
{
  return path.empty() ? scenario::default_scenario(cat) : scenario::load_scenario_file(path, cat);
}

int cmd_run(const std::string& path, const std::string& json_out, const std::string& csv_out, bool quiet)
{
  const auto& cat = scenario::Catalog::instance();
  const auto s = load(path, cat);
  const auto out = run_scenario(s, cat);
  // Write every requested file before printing, each atomically.
  if (!json_out.empty())
    core::write_file_atomically(json_out, report::to_json_text(s, out.metrics));
  if (!csv_out.empty())
    core::write_file_atomically(csv_out, report::csv_header() + report::csv_row(out.metrics));
  if (!quiet)
    std::cout << report::to_console(s, out.metrics);
  return 0;
}

int cmd_validate(const std::string& path, bool dump)
{
  const auto s = scenario::load_scenario_file(path, scenario::Catalog::instance());
  // A scenario is valid only if it also fits in memory.
  topology::Fabric::build(s.cluster);
  workload::build_workload(s, scenario::Catalog::instance().calibration());
  if (dump)
    std::cout << scenario::to_json(s).dump(2) << "\n";
  else
    std::cout << path << ": valid (" << s.cluster.total_accelerators() << " accelerators, " << s.model.name << ")\n";
  return 0;
}

int cmd_reproduce(const std::string& dir, bool markdown, const std::string& json_out)
{
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw core::IoError(dir + ": not a directory; name a folder of scenario files with a \"reference\" block");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
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
    cases.push_back({{"file", rows.back().file},
                     {"name", s.name},
                     {"predicted_step_time_s", rows.back().predicted_s},
                     {"published_step_time_s", rows.back().published_s},
                     {"error", rows.back().error()},
                     {"mfu", out.metrics.mfu},
                     {"source", s.reference->source}});
  }
  if (rows.empty())
    throw core::IoError(dir + ": no scenario with a \"reference\" block; add /reference/step_time_s to the cases");
  std::cout << report::reproduce_table(rows, markdown);
  if (!json_out.empty()) {
    nlohmann::ordered_json j{{"cases", cases}, {"mape_percent", report::mean_absolute_percentage_error(rows)}};
    core::write_file_atomically(json_out, j.dump(2) + "\n");
  }
  return 0;
}

} // namespace

int main_entry(int argc, char** argv)
{
  CLI::App app{"trainsim: how long, how much energy and how much CO2 an LLM training run takes on a cluster"};
  app.set_version_flag("--version", "trainsim 0.1.0");
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")->capture_default_str();

  std::string run_path, json_out, csv_out;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "simulate training steps and report step time, MFU, time-to-train, energy, carbon");
  run->add_option("scenario", run_path, "scenario JSON file (default: the built-in default scenario)");
  run->add_option("--json", json_out, "write the JSON report to FILE");
  run->add_option("--csv", csv_out, "write a CSV report to FILE");
  run->add_flag("-q,--quiet", quiet, "print nothing on success");

  std::string validate_path;
  bool dump = false;
  auto* validate = app.add_subcommand("validate", "check a scenario file without running it");
  validate->add_option("scenario", validate_path, "scenario JSON file")->required();
  validate->add_flag("--dump", dump, "print the resolved scenario");

  std::string repro_dir = "scenarios/validation", repro_json;
  bool markdown = false;
  auto* reproduce = app.add_subcommand("reproduce", "run validation cases and compare with published step times");
  reproduce->add_option("dir", repro_dir, "folder of scenario files with a \"reference\" block")->capture_default_str();
  reproduce->add_flag("--markdown", markdown, "print a Markdown table");
  reproduce->add_option("--json", repro_json, "write the comparison as JSON to FILE");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "trainsim: error: " << e.what() << "; run trainsim --help for the commands and options\n";
    return static_cast<int>(core::ExitCode::bad_input);
  }
  try {
    core::set_log_level(log_level);
    if (*run)
      return cmd_run(run_path, json_out, csv_out, quiet);
    if (*validate)
      return cmd_validate(validate_path, dump);
    if (*reproduce)
      return cmd_reproduce(repro_dir, markdown, repro_json);
  } catch (const core::Error& e) {
    std::cerr << "trainsim: error: " << printable(e.what()) << "\n";
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    std::cerr << "trainsim: internal error: " << e.what() << "\n";
    return static_cast<int>(core::ExitCode::internal);
  }
  return 0;
}

} // namespace trainsim::cli
