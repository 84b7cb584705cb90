#include "trainsim/sweep/Sweep.hpp"

#include <cstdio>
#include <filesystem>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/workload/Memory.hpp"

namespace trainsim::sweep {

using nlohmann::json;
using nlohmann::ordered_json;

std::string SweepSummary::describe() const
{
  std::string s = std::to_string(points) + " points";
  if (skipped)
    s += " (" + std::to_string(skipped) + " more skipped by constraints)";
  if (mine != points)
    s += ", " + std::to_string(mine) + " in this shard";
  if (resumed)
    s += ", " + std::to_string(resumed) + " resumed";
  s += ":";
  for (Status st : {Status::ok, Status::infeasible, Status::invalid, Status::failed}) {
    auto it = counts.find(st);
    s += " " + std::to_string(it == counts.end() ? 0 : it->second) + " " + to_string(st);
  }
  return s;
}

int SweepSummary::exit_code() const
{
  auto count = [&](Status s) {
    auto it = counts.find(s);
    return it == counts.end() ? size_t{0} : it->second;
  };
  if (count(Status::failed) > 0)
    return static_cast<int>(core::ExitCode::internal);
  if (mine > 0 && count(Status::invalid) == mine)
    return static_cast<int>(core::ExitCode::bad_input);
  return 0;
}

std::optional<Outcome> precheck(const json& doc, const scenario::Catalog& catalog, scenario::Scenario* parsed)
{
  try {
    *parsed = scenario::parse_scenario(doc, catalog);
    const auto shape = workload::ModelShape::of(parsed->model);
    workload::check_fits(workload::estimate_memory(*parsed, shape, catalog.calibration()), *parsed);
  } catch (const core::InfeasibleError& e) {
    return Outcome{Status::infeasible, e.what(), {}};
  } catch (const core::ConfigError& e) {
    return Outcome{Status::invalid, e.what(), {}};
  }
  return std::nullopt;
}

ordered_json slim_report(ordered_json report)
{
  report.erase("resolved_scenario");
  return report;
}

ResultLayout layout_for(const SweepSpec& spec, bool pareto)
{
  return ResultLayout{spec.columns(), pareto};
}

ordered_json meta_for(const SweepSpec& spec, size_t points, int shard, int shards)
{
  return ordered_json{{"trainsim_sweep_results", 1},
                      {"fingerprint", spec.fingerprint()},
                      {"points", points},
                      {"shard", std::to_string(shard) + "/" + std::to_string(shards)},
                      {"columns", spec.columns()}};
}

std::string shard_prefix(const std::string& dir, int shard, int shards)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "shard-%04d-of-%04d", shard, shards);
  return (std::filesystem::path(dir) / buf).string();
}

namespace {

Record make_record(const Point& p, Outcome o)
{
  Record r;
  r.point = p.index;
  r.axes = p.axes;
  r.status = o.status;
  r.error = std::move(o.error);
  if (r.status == Status::ok)
    r.report = std::move(o.result);
  return r;
}

std::string point_label(const Point& p)
{
  std::string s = "#" + std::to_string(p.index);
  for (const auto& [k, v] : p.axes.items())
    s += " " + k.substr(k.rfind('/') + 1) + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  return s;
}

std::vector<Record> finalize(std::map<size_t, Record>& done, const std::string& pareto, const SweepSpec& spec)
{
  std::vector<Record> sorted;
  for (auto& [i, r] : done)
    sorted.push_back(r);
  if (!pareto.empty())
    mark_pareto(sorted, parse_pareto(pareto, spec.columns()));
  return sorted;
}

} // namespace

SweepSummary run_sweep(const SweepSpec& spec, const scenario::Catalog& catalog, const SweepOptions& o,
                       const Evaluate& evaluate)
{
  if (o.shards < 1 || o.shard < 1 || o.shard > o.shards)
    throw core::UsageError("--shard " + std::to_string(o.shard) + "/" + std::to_string(o.shards) +
                           ": write i/n with 1 <= i <= n");
  if (!o.pareto.empty())
    parse_pareto(o.pareto, spec.columns()); // fail before running anything
  const Expansion ex = expand(spec, catalog);
  SweepSummary sum;
  sum.points = ex.points.size();
  sum.skipped = ex.skipped;
  std::vector<const Point*> mine;
  for (const auto& p : ex.points)
    if (static_cast<int>(p.index % static_cast<size_t>(o.shards)) == o.shard - 1)
      mine.push_back(&p);
  sum.mine = mine.size();
  if (!o.reports_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.reports_dir, ec);
    if (ec)
      throw core::IoError(o.reports_dir + ": cannot create (" + ec.message() + ")");
  }
  const auto out_dir = std::filesystem::path(o.out_prefix).parent_path();
  if (!out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
  }
  ResultStore store(o.out_prefix, layout_for(spec, !o.pareto.empty()), meta_for(spec, sum.points, o.shard, o.shards));
  std::map<size_t, Record> done = store.open(o.resume, o.overwrite);
  std::map<size_t, const Point*> by_index;
  for (const Point* p : mine)
    by_index[p->index] = p;
  for (const auto& [i, r] : done) {
    auto it = by_index.find(i);
    if (it == by_index.end() || it->second->axes != r.axes)
      throw core::IoError(o.out_prefix + ".jsonl: point " + std::to_string(i) +
                          " does not match this sweep; the results come from another sweep, choose another --out");
  }
  sum.resumed = done.size();
  Progress progress(stderr, o.progress, mine.size(), done.size(), "sweep");
  auto record = [&](const Point& p, Outcome out) {
    Record r = make_record(p, std::move(out));
    store.append(r);
    progress.tick(to_string(r.status), point_label(p) + (r.status == Status::ok ? "" : ": " + r.error));
    if (r.status == Status::invalid && sum.first_invalid.empty())
      sum.first_invalid = r.error;
    done[r.point] = std::move(r);
  };
  size_t next = 0;
  std::vector<scenario::Scenario> parsed(mine.size());
  run_pool(
      o.jobs > 0 ? o.jobs : available_cores(),
      [&]() -> std::optional<Task> {
        while (next < mine.size()) {
          const size_t k = next++;
          const Point& p = *mine[k];
          if (done.count(p.index))
            continue;
          if (auto pre = precheck(p.scenario, catalog, &parsed[k])) {
            record(p, std::move(*pre));
            continue;
          }
          const scenario::Scenario* s = &parsed[k];
          return Task{k, [&evaluate, s, &o, index = p.index] {
                        ordered_json report = evaluate(*s);
                        if (!o.reports_dir.empty()) {
                          char name[32];
                          std::snprintf(name, sizeof name, "point-%06zu.json", index);
                          core::write_file_atomically((std::filesystem::path(o.reports_dir) / name).string(),
                                                      report.dump(2) + "\n");
                        }
                        return slim_report(std::move(report));
                      }};
        }
        return std::nullopt;
      },
      [&](size_t k, Outcome out) { record(*mine[k], std::move(out)); });
  for (const auto& [i, r] : done)
    ++sum.counts[r.status];
  store.finish(finalize(done, o.pareto, spec));
  progress.finish(sum.describe());
  return sum;
}

SweepSummary merge_shards(const std::string& dir, const std::string& out_prefix, const std::string& pareto,
                          const scenario::Catalog& catalog)
{
  namespace fs = std::filesystem;
  const std::string spec_path = (fs::path(dir) / "sweep.json").string();
  std::error_code ec;
  if (!fs::is_regular_file(spec_path, ec))
    throw core::IoError(dir + ": no sweep.json; merge a folder written by trainsim sweep --slurm DIR");
  const SweepSpec spec = SweepSpec::load(spec_path);
  if (!pareto.empty())
    parse_pareto(pareto, spec.columns());
  const Expansion ex = expand(spec, catalog);
  ordered_json job;
  try {
    job = ordered_json::parse(core::read_file((fs::path(dir) / "job.json").string()));
  } catch (const nlohmann::json::exception&) {
    throw core::IoError(dir + "/job.json: damaged; write the folder again with trainsim sweep --slurm");
  }
  const int shards = job.value("shards", 0);
  if (shards < 1 || job.value("fingerprint", "") != spec.fingerprint())
    throw core::IoError(dir + "/job.json does not belong to " + spec_path +
                        "; write the folder again with trainsim sweep --slurm");
  std::map<size_t, Record> all;
  std::vector<std::string> missing_shards;
  for (int i = 1; i <= shards; ++i) {
    const std::string prefix = shard_prefix(dir, i, shards);
    if (!fs::exists(prefix + ".jsonl", ec)) {
      missing_shards.push_back(std::to_string(i));
      continue;
    }
    ordered_json meta;
    try {
      meta = ordered_json::parse(core::read_file(prefix + ".meta.json"));
    } catch (const nlohmann::json::exception&) {
      throw core::IoError(prefix + ".meta.json: damaged; run shard " + std::to_string(i) + " again");
    }
    if (meta.value("fingerprint", "") != spec.fingerprint())
      throw core::IoError(prefix + ".jsonl comes from another sweep; run shard " + std::to_string(i) + " again");
    for (auto& r : read_jsonl(prefix + ".jsonl"))
      if (r.point < ex.points.size() && r.axes == ex.points[r.point].axes &&
          static_cast<int>(r.point % static_cast<size_t>(shards)) == i - 1)
        all[r.point] = std::move(r);
      else
        throw core::IoError(prefix + ".jsonl: point " + std::to_string(r.point) +
                            " does not belong to this shard of the sweep");
  }
  std::string missing;
  size_t n_missing = 0;
  for (const auto& p : ex.points)
    if (!all.count(p.index)) {
      if (++n_missing <= 10)
        missing += (missing.empty() ? "" : ", ") + std::to_string(p.index);
    }
  if (n_missing > 0) {
    std::string shards_text;
    for (const auto& s : missing_shards)
      shards_text += (shards_text.empty() ? "" : ",") + s;
    throw core::IoError(dir + ": " + std::to_string(n_missing) + " of " + std::to_string(ex.points.size()) +
                        " points have no result (" + missing + (n_missing > 10 ? ", ..." : "") + ")" +
                        (shards_text.empty() ? "" : "; shards without output: " + shards_text) +
                        "; rerun the unfinished shards (sbatch --array=LIST sweep.sbatch) and merge again");
  }
  SweepSummary sum;
  sum.points = sum.mine = ex.points.size();
  sum.skipped = ex.skipped;
  for (const auto& [i, r] : all)
    ++sum.counts[r.status];
  write_result_files(out_prefix, layout_for(spec, !pareto.empty()), finalize(all, pareto, spec));
  return sum;
}

} // namespace trainsim::sweep
