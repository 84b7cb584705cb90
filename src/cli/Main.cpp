#include <iostream>

#include <CLI/CLI.hpp>

#include "trainsim/cli/Commands.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Log.hpp"

namespace trainsim::cli {

std::string printable(const std::string& text)
{
  std::string out;
  for (unsigned char c : text)
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

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
    for (const auto& [sub, action] : table.entries())
      if (*sub)
        return action();
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
