#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace trainsim::cli {

/// Parses the command line and runs the command; returns the process exit code
/// (0 ok, 1 regression found, 2 bad input, 3 internal error). Never calls exit().
int main_entry(int argc, char** argv);

/// The subcommands and what each runs once parsed. Every command family lives in its own file and
/// registers itself through one `add_*_commands` function called from main_entry (src/cli/Main.cpp).
class CommandTable {
public:
  using Action = std::function<int()>;
  void add(CLI::App* subcommand, Action action) { entries_.emplace_back(subcommand, std::move(action)); }
  const std::vector<std::pair<CLI::App*, Action>>& entries() const { return entries_; }

private:
  std::vector<std::pair<CLI::App*, Action>> entries_;
};

/// Strips control bytes so that text from a user's file never reaches the terminal raw.
std::string printable(const std::string& text);

/// run, validate, reproduce (src/cli/Commands.cpp).
void add_core_commands(CLI::App& app, CommandTable& table);
/// footprint: the published energy/carbon bookkeeping (src/cli/FootprintCommands.cpp).
void add_footprint_commands(CLI::App& app, CommandTable& table);
/// list, html-sweep (src/cli/ReportCommands.cpp).
void add_report_commands(CLI::App& app, CommandTable& table);
/// sweep, sweep merge (src/cli/SweepCommands.cpp).
void add_sweep_commands(CLI::App& app, CommandTable& table);
/// search, regress (src/cli/SearchCommands.cpp).
void add_search_commands(CLI::App& app, CommandTable& table);

/// topo (src/cli/TopoCommands.cpp).
void add_topo_commands(CLI::App& app, CommandTable& table);
/// cluster: a queue of jobs on node pools (src/cli/ClusterCommands.cpp).
void add_cluster_commands(CLI::App& app, CommandTable& table);

} // namespace trainsim::cli
