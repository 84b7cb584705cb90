// trainsim sweep / sweep merge: parameter sweeps over scenario paths, locally or as a Slurm job array.
#include <climits>
#include <filesystem>
#include <iostream>
#include <memory>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "trainsim/cli/Commands.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/sweep/Slurm.hpp"
#include "trainsim/sweep/Sweep.hpp"

namespace trainsim::cli {

namespace {

struct SweepArgs {
  std::string file;
  std::string out;
  int jobs = 0;
  bool resume = false, overwrite = false, quiet = false, list = false;
  std::string pareto, shard, reports, progress = "auto";
  long point = -1;
  std::string slurm_dir;
  int shards = 0, cpus_per_task = 1;
  std::string time_limit, partition, account;
  std::vector<std::string> sbatch;
  std::string merge_dir, merge_out, merge_pareto;
};

std::string self_executable()
{
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    throw core::Error("internal: cannot find the trainsim executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

void parse_shard(const std::string& text, int& i, int& n)
{
  size_t used1 = 0, used2 = 0;
  try {
    const auto slash = text.find('/');
    if (slash == std::string::npos)
      throw core::InvalidArgument("no slash");
    i = std::stoi(text.substr(0, slash), &used1);
    n = std::stoi(text.substr(slash + 1), &used2);
    if (used1 != slash || used2 != text.size() - slash - 1 || n < 1 || i < 1 || i > n)
      throw core::InvalidArgument("range");
  } catch (const std::exception&) {
    throw core::UsageError("--shard \"" + printable(text) + "\": write i/n with 1 <= i <= n, e.g. --shard 3/16");
  }
}

sweep::Progress::Mode progress_mode(const std::string& m, bool quiet)
{
  if (quiet || m == "off")
    return sweep::Progress::Mode::off;
  if (m == "bar")
    return sweep::Progress::Mode::bar;
  if (m == "lines")
    return sweep::Progress::Mode::lines;
  return sweep::Progress::auto_mode(stderr, false);
}

int cmd_sweep(const SweepArgs& a)
{
  if (a.file.empty())
    throw core::UsageError("sweep: name a sweep file (trainsim sweep SWEEP.json) or run trainsim sweep merge DIR");
  const auto& cat = scenario::Catalog::instance();
  const auto spec = sweep::SweepSpec::load(a.file);
  if (a.list || a.point >= 0) {
    const auto ex = sweep::expand(spec, cat);
    if (a.point >= 0) {
      if (static_cast<size_t>(a.point) >= ex.size())
        throw core::UsageError("--point " + std::to_string(a.point) + ": the sweep has points 0.." +
                               std::to_string(ex.size()) + " (exclusive)");
      std::cout << ex.point(static_cast<size_t>(a.point)).scenario.dump(2) << "\n";
      return 0;
    }
    for (size_t k = 0; k < ex.size(); ++k)
      std::cout << k << " " << ex.point(k).axes.dump() << "\n";
    std::cout << ex.size() << " points, " << ex.skipped << " skipped by constraints\n";
    return 0;
  }
  if (!a.slurm_dir.empty()) {
    const auto ex = sweep::expand(spec, cat);
    sweep::SlurmOptions so{a.slurm_dir, a.shards,  a.cpus_per_task, a.time_limit,
                           a.partition, a.account, a.sbatch,        self_executable()};
    const auto job = sweep::write_slurm_job(spec, ex.size(), so);
    if (!a.quiet)
      std::cout << "wrote " << job.script << ": " << ex.size() << " points in " << job.shards
                << " array tasks\nsubmit: sbatch " << job.script << "\nmerge:  trainsim sweep merge "
                << std::filesystem::absolute(a.slurm_dir).string() << "\n";
    return 0;
  }
  sweep::SweepOptions o;
  if (!a.shard.empty())
    parse_shard(a.shard, o.shard, o.shards);
  if (a.jobs < 0)
    throw core::UsageError("-j must be at least 1 (or 0 for every core)");
  o.out_prefix = a.out;
  if (o.out_prefix.empty()) {
    o.out_prefix = std::filesystem::path(a.file).stem().string() + "-results";
    if (o.shards > 1)
      o.out_prefix = sweep::shard_prefix(".", o.shard, o.shards);
  }
  o.jobs = a.jobs;
  o.resume = a.resume;
  o.overwrite = a.overwrite;
  o.pareto = a.pareto;
  o.reports_dir = a.reports;
  o.progress = progress_mode(a.progress, a.quiet);
  const sweep::Evaluate evaluate = [&cat](const scenario::Scenario& s) {
    const auto out = run_scenario(s, cat);
    return report::to_json(s, out.metrics);
  };
  // Points that differ only in their site share one simulation (docs/sweep.md).
  const sweep::EvaluateSiteGroup group = [&cat](const std::vector<scenario::Scenario>& members) {
    return site_group_reports(members, cat);
  };
  const auto sum = sweep::run_sweep(spec, cat, o, evaluate, group);
  if (!a.quiet)
    std::cout << sum.describe() << "\nresults: " << o.out_prefix << ".csv, " << o.out_prefix << ".jsonl\n";
  if (sum.exit_code() == static_cast<int>(core::ExitCode::bad_input))
    std::cerr << "trainsim: error: every point is invalid, e.g.: " << printable(sum.first_invalid) << "\n";
  return sum.exit_code();
}

int cmd_merge(const SweepArgs& a)
{
  const std::string out = a.merge_out.empty() ? (std::filesystem::path(a.merge_dir) / "results").string() : a.merge_out;
  const auto sum = sweep::merge_shards(a.merge_dir, out, a.merge_pareto, scenario::Catalog::instance());
  std::cout << sum.describe() << "\nresults: " << out << ".csv, " << out << ".jsonl\n";
  return 0;
}

} // namespace

void add_sweep_commands(CLI::App& app, CommandTable& table)
{
  auto a = std::make_shared<SweepArgs>();
  auto* sw = app.add_subcommand("sweep", "run a scenario over a grid of values (docs/sweep.md)");
  sw->add_option("sweep", a->file, "sweep file: {\"base\": scenario, \"axes\": {\"/parallelism/tp\": [1, 2, 4]}}");
  sw->add_option("-o,--out", a->out, "result files PREFIX.csv, PREFIX.jsonl (default: <sweep name>-results)");
  sw->add_option("-j,--jobs", a->jobs, "points run at once (default 0: every core)");
  sw->add_flag("--resume", a->resume, "keep the points already in the result files and run the rest");
  sw->add_flag("--overwrite", a->overwrite, "start over even when result files exist");
  sw->add_option("--pareto", a->pareto, "mark the Pareto-optimal rows over two or more fields, e.g. time,carbon");
  sw->add_option("--shard", a->shard, "run only shard i of n (points with index % n == i-1), e.g. 3/16");
  sw->add_option("--reports", a->reports, "also write each point's full JSON report into DIR");
  sw->add_option("--progress", a->progress, "auto (bar on a terminal, lines otherwise), bar, lines, off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}));
  sw->add_flag("-q,--quiet", a->quiet, "print nothing but errors");
  sw->add_flag("--list", a->list, "print the points (after constraints) and exit");
  sw->add_option("--point", a->point, "print the scenario of point N and exit");
  sw->add_option("--slurm", a->slurm_dir, "write a Slurm job array into DIR instead of running");
  sw->add_option("--shards", a->shards, "with --slurm: number of array tasks (default: min(points, 32))");
  sw->add_option("--cpus-per-task", a->cpus_per_task, "with --slurm: cores per task, used as -j")
      ->capture_default_str();
  sw->add_option("--time", a->time_limit, "with --slurm: sbatch --time limit per task, e.g. 02:00:00");
  sw->add_option("--partition", a->partition, "with --slurm: sbatch --partition");
  sw->add_option("--account", a->account, "with --slurm: sbatch --account");
  sw->add_option("--sbatch", a->sbatch,
                 "with --slurm: another sbatch option, verbatim (repeatable), e.g. --sbatch=--mem=8G");
  auto* merge = sw->add_subcommand("merge", "combine the shard results of a --slurm job folder into DIR/results.*");
  merge->add_option("dir", a->merge_dir, "the folder given to --slurm")->required();
  merge->add_option("-o,--out", a->merge_out, "result files PREFIX.csv, PREFIX.jsonl (default DIR/results)");
  merge->add_option("--pareto", a->merge_pareto, "mark the Pareto-optimal rows, as in sweep --pareto");
  sw->require_subcommand(0, 1);
  table.add(sw, [a, merge] { return *merge ? cmd_merge(*a) : cmd_sweep(*a); });
}

} // namespace trainsim::cli
