#include <iostream>

#include <CLI/CLI.hpp>

#include "trainsim/cli/Commands.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Log.hpp"
#include "trainsim/core/Printable.hpp"

namespace trainsim::cli {

std::string printable(const std::string& text)
{
  return core::printable(text);
}

namespace {

/// The first word of the command line when it names no command ("trainsim frobnicate"), else empty.
std::string unknown_command(const CLI::App& app, int argc, char** argv)
{
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--log-level") {
      ++i;
      continue;
    }
    if (!word.empty() && word[0] == '-')
      continue;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == word)
        return "";
    return word;
  }
  return "";
}

} // namespace

int main_entry(int argc, char** argv)
{
  CLI::App app{"trainsim: how long, how much energy and how much CO2 an LLM training run takes on a cluster"};
  app.set_version_flag("--version", "trainsim 0.1.0");
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")->capture_default_str();

  CommandTable table;
  add_core_commands(app, table);
  add_footprint_commands(app, table);
  add_report_commands(app, table);
  add_sweep_commands(app, table);
  add_search_commands(app, table);
  add_topo_commands(app, table);
  add_cluster_commands(app, table);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (const auto word = unknown_command(app, argc, argv); !word.empty()) {
      std::string names;
      for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names += (names.empty() ? "" : ", ") + sub->get_name();
      std::cerr << "trainsim: error: unknown command \"" << printable(word) << "\"; the commands are " << names
                << " (trainsim --help)\n";
      return static_cast<int>(core::ExitCode::bad_input);
    }
    std::cerr << "trainsim: error: " << printable(e.what()) << "; run trainsim --help for the commands and options\n";
    return static_cast<int>(core::ExitCode::bad_input);
  }
  try {
    core::set_log_level(log_level);
    for (const auto& [sub, action] : table.entries())
      if (*sub)
        return action();
  } catch (const core::Error& e) {
    std::cerr << "trainsim: error: " << printable(e.what()) << "\n";
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    std::cerr << "trainsim: internal error: " << printable(e.what()) << "\n";
    return static_cast<int>(core::ExitCode::internal);
  }
  return 0;
}

} // namespace trainsim::cli
