#include "trainsim/sweep/Slurm.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sys/stat.h>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"

namespace trainsim::sweep {

std::string shell_quote(const std::string& word)
{
  std::string q = "'";
  for (char c : word)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

namespace {

bool has_control(const std::string& text)
{
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

/// What the user wrote, with control bytes shown as \xNN (never echoed raw).
std::string shown(const std::string& text)
{
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

/// The values written into #SBATCH lines are checked strictly: a newline there would add a command to the
/// job script.
void check_slurm_values(const SlurmOptions& o)
{
  static const std::regex name("[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+-]+)*");
  static const std::regex time("([0-9]+-)?[0-9]+(:[0-9]+){0,2}|UNLIMITED|unlimited|INFINITE|infinite");
  if (!o.partition.empty() && !std::regex_match(o.partition, name))
    throw core::UsageError("--partition \"" + shown(o.partition) +
                           "\": not a partition name; use letters, digits, . _ + - (a comma between names)");
  if (!o.account.empty() && !std::regex_match(o.account, name))
    throw core::UsageError("--account \"" + shown(o.account) +
                           "\": not an account name; use letters, digits, . _ + - (a comma between names)");
  if (!o.time_limit.empty() && !std::regex_match(o.time_limit, time))
    throw core::UsageError("--time \"" + shown(o.time_limit) +
                           "\": not a Slurm time; write minutes, MM:SS, HH:MM:SS or D-HH:MM:SS, e.g. 02:00:00");
  for (const auto& e : o.extra)
    if (e.rfind("--", 0) != 0 || has_control(e) || e.size() < 3)
      throw core::UsageError("--sbatch \"" + shown(e) + "\": give one sbatch option such as --mem=8G");
  if (has_control(o.dir))
    throw core::UsageError("--slurm \"" + shown(o.dir) + "\": a control character in the folder name; rename it");
}

} // namespace

SlurmJob write_slurm_job(const SweepSpec& spec, size_t points, const SlurmOptions& o)
{
  namespace fs = std::filesystem;
  if (points == 0)
    throw core::UsageError("the sweep has no point to run (every point is removed by its constraints)");
  SlurmJob job;
  job.shards = o.shards > 0 ? o.shards : static_cast<int>(std::min<size_t>(points, 32));
  if (static_cast<size_t>(job.shards) > points)
    throw core::UsageError("--shards " + std::to_string(job.shards) + " is more than the " + std::to_string(points) +
                           " points; use at most one shard per point");
  if (o.cpus_per_task < 1)
    throw core::UsageError("--cpus-per-task must be at least 1");
  check_slurm_values(o);
  std::error_code ec;
  const fs::path dir = fs::absolute(o.dir);
  fs::create_directories(dir / "logs", ec);
  if (ec)
    throw core::IoError(dir.string() + ": cannot create (" + ec.message() + ")");
  core::write_file_atomically((dir / "sweep.json").string(), spec.to_json().dump(2) + "\n");
  const nlohmann::ordered_json meta{
      {"trainsim_slurm_job", 1}, {"fingerprint", spec.fingerprint()}, {"points", points}, {"shards", job.shards}};
  core::write_file_atomically((dir / "job.json").string(), meta.dump(2) + "\n");

  const std::string n = std::to_string(job.shards);
  std::string s = "#!/bin/bash\n";
  s += "# trainsim sweep job array: " + std::to_string(points) + " points in " + n + " shards.\n";
  s += "# Submit: sbatch " + shell_quote((dir / "sweep.sbatch").string()) + "\n";
  s += "# Merge when every task is done: trainsim sweep merge " + shell_quote(dir.string()) + "\n";
  s += "#SBATCH --job-name=trainsim-sweep\n";
  s += "#SBATCH --array=1-" + n + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus_per_task) + "\n";
  s += "#SBATCH --output=" + (dir / "logs" / "shard-%a.out").string() + "\n";
  if (!o.time_limit.empty())
    s += "#SBATCH --time=" + o.time_limit + "\n";
  if (!o.partition.empty())
    s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.account.empty())
    s += "#SBATCH --account=" + o.account + "\n";
  for (const auto& e : o.extra)
    s += "#SBATCH " + e + "\n";
  s += "set -euo pipefail\n";
  s += "i=${SLURM_ARRAY_TASK_ID:?run this script with sbatch, or set SLURM_ARRAY_TASK_ID=1.." + n + "}\n";
  s += "out=$(printf '%s/shard-%04d-of-%04d' " + shell_quote(dir.string()) + " \"$i\" " + n + ")\n";
  s += "# --resume: a requeued or resubmitted task continues where it stopped.\n";
  s += "exec " + shell_quote(o.binary) + " sweep " + shell_quote((dir / "sweep.json").string()) + " --shard \"$i/" + n +
       "\" --out \"$out\" -j \"${SLURM_CPUS_PER_TASK:-" + std::to_string(o.cpus_per_task) + "}\" --resume\n";
  job.script = (dir / "sweep.sbatch").string();
  core::write_file_atomically(job.script, s);
  ::chmod(job.script.c_str(), 0755);
  return job;
}

} // namespace trainsim::sweep
