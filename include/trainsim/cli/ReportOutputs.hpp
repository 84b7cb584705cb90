#pragma once
#include <string>

#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/AtomicFile.hpp"

namespace CLI {
class App;
}

namespace trainsim::cli {

/// The optional report files of `trainsim run` beside --json and --csv (src/cli/ReportCommands.cpp).
struct ReportOutputs {
  std::string trace; ///< Chrome trace-event / Perfetto JSON of the last simulated step
  std::string html;  ///< self-contained HTML report
  /// Adds --trace and --html to a command.
  void add_options(CLI::App* command);
  /// The simulation options these outputs need (a recorded step when either is asked for).
  sim::SimOptions sim_options(const scenario::Scenario& s) const;
  /// Stages the requested files in `files` (written when the caller commits them, all or none).
  void write(const scenario::Scenario& s, const RunOutput& out, core::OutputFiles& files) const;
};

/// Whether to colour output on this stream: a terminal, NO_COLOR unset or empty, TERM not "dumb".
bool use_colour(int fd);

} // namespace trainsim::cli
