#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace trainsim::sweep {

/// Progress of a batch of points on stderr: a bar with rate and ETA redrawn in place on a terminal,
/// one plain line per finished point otherwise (logs, CI, Slurm output files).
class Progress {
public:
  enum class Mode { off, bar, lines };
  Progress(std::FILE* out, Mode mode, size_t total, size_t already_done, std::string label);
  static Mode auto_mode(std::FILE* out, bool quiet);
  /// One more point finished with `status` (its label in lines mode: `what`).
  void tick(const std::string& status, const std::string& what);
  /// Ends the bar line; prints the totals.
  void finish(const std::string& summary);
  /// "1h02m", "3m05s", "12s".
  static std::string duration(double seconds);

private:
  void draw(const std::string& status, const std::string& what);
  std::FILE* out_;
  Mode mode_;
  size_t total_, done_, start_done_, failed_ = 0;
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

} // namespace trainsim::sweep
