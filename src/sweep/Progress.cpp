#include "trainsim/sweep/Progress.hpp"

#include <cmath>
#include <unistd.h>

namespace trainsim::sweep {

Progress::Progress(std::FILE* out, Mode mode, size_t total, size_t already_done, std::string label)
    : out_(out), mode_(mode), total_(total), done_(already_done), start_done_(already_done), label_(std::move(label)),
      start_(std::chrono::steady_clock::now()), last_draw_(start_ - std::chrono::seconds(1))
{
  if (mode_ == Mode::lines)
    std::fprintf(out_, "%s: %zu points, %zu already done\n", label_.c_str(), total_, already_done);
}

Progress::Mode Progress::auto_mode(std::FILE* out, bool quiet)
{
  if (quiet)
    return Mode::off;
  return isatty(fileno(out)) ? Mode::bar : Mode::lines;
}

std::string Progress::duration(double s)
{
  char buf[32];
  if (!std::isfinite(s))
    return "?";
  const long t = std::lround(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

void Progress::tick(const std::string& status, const std::string& what)
{
  ++done_;
  if (status != "ok")
    ++failed_;
  draw(status, what);
}

void Progress::draw(const std::string& status, const std::string& what)
{
  if (mode_ == Mode::off)
    return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_ - start_done_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
  if (mode_ == Mode::lines) {
    std::fprintf(out_, "%s: %zu/%zu %s %s (%.2f points/s, ETA %s)\n", label_.c_str(), done_, total_, status.c_str(),
                 what.c_str(), rate, duration(eta).c_str());
    std::fflush(out_);
    return;
  }
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  constexpr int width = 30;
  const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
  std::string bar(static_cast<size_t>(filled), '#');
  bar += std::string(static_cast<size_t>(width - filled), '.');
  std::fprintf(out_, "\r\033[K%s [%s] %zu/%zu  %zu not ok  %.2f/s  ETA %s", label_.c_str(), bar.c_str(), done_, total_,
               failed_, rate, duration(eta).c_str());
  std::fflush(out_);
}

void Progress::finish(const std::string& summary)
{
  if (mode_ == Mode::off)
    return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (mode_ == Mode::bar)
    std::fprintf(out_, "\n");
  std::fprintf(out_, "%s: %s in %s\n", label_.c_str(), summary.c_str(), duration(elapsed).c_str());
  std::fflush(out_);
}

} // namespace trainsim::sweep
