#include "trainsim/sweep/Sweep.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"
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

std::string point_label(const Point& p)
{
  std::string s = "#" + std::to_string(p.index);
  for (const auto& [k, v] : p.axes.items())
    s += " " + k.substr(k.rfind('/') + 1) + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  return s;
}

/// DIR/job.json, strictly: its shard count must lie in 1..points and its fingerprint and point count match.
int read_job(const std::string& dir, const SweepSpec& spec, size_t points)
{
  const std::string path = (std::filesystem::path(dir) / "job.json").string();
  const json doc = scenario::load_json_file(path, "write the folder again with trainsim sweep --slurm");
  scenario::JsonReader r(doc, "");
  try {
    r.get_int("trainsim_slurm_job", 1, 1);
    const std::string fingerprint = r.get_string("fingerprint");
    const long n = r.get_int("points", 0, static_cast<long>(max_sweep_points));
    const long shards = r.get_int("shards", 1, std::max<long>(1, n));
    r.finish();
    if (fingerprint != spec.fingerprint() || static_cast<size_t>(n) != points)
      throw core::IoError(path + " does not belong to " + dir + "/sweep.json (another sweep, or " + std::to_string(n) +
                          " points instead of " + std::to_string(points) +
                          "); write the folder again with trainsim sweep --slurm");
    return static_cast<int>(shards);
  } catch (const core::ConfigError& e) {
    const std::string what = e.what(); // "POINTER: message" ("/" for the root)
    throw core::ConfigError(e.pointer(), path + ": " + what.substr(std::max<size_t>(e.pointer().size(), 1) + 2) +
                                             "; write the folder again with trainsim sweep --slurm");
  }
}

/// Every shard file in DIR must be one of `shards` (a job.json edited to another count would silently skip or
/// invent shards).
void check_shard_files(const std::string& dir, int shards)
{
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    int i = 0, n = 0;
    char tail[16] = {0};
    if (std::sscanf(name.c_str(), "shard-%d-of-%d.%15s", &i, &n, tail) == 3 && n != shards)
      throw core::IoError(dir + "/" + name + " is a shard of " + std::to_string(n) + " but job.json says " +
                          std::to_string(shards) + " shards; write the folder again with trainsim sweep --slurm");
  }
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

/// With --reports DIR: the point's full JSON report, DIR/point-NNNNNN.json.
void write_point_report(const std::string& dir, size_t index, const ordered_json& report)
{
  if (dir.empty())
    return;
  char name[32];
  std::snprintf(name, sizeof name, "point-%06zu.json", index);
  core::write_file_atomically((std::filesystem::path(dir) / name).string(), report.dump(2) + "\n");
}

} // namespace

SweepSummary run_sweep(const SweepSpec& spec, const scenario::Catalog& catalog, const SweepOptions& o,
                       const Evaluate& evaluate, const EvaluateSiteGroup& group)
{
  if (o.shards < 1 || o.shard < 1 || o.shard > o.shards)
    throw core::UsageError("--shard " + std::to_string(o.shard) + "/" + std::to_string(o.shards) +
                           ": write i/n with 1 <= i <= n");
  if (!o.pareto.empty())
    parse_pareto(o.pareto, spec.columns()); // fail before running anything
  const Expansion ex = expand(spec, catalog);
  SweepSummary sum;
  sum.points = ex.size();
  sum.skipped = ex.skipped;
  const auto shards = static_cast<size_t>(o.shards), shard = static_cast<size_t>(o.shard - 1);
  auto is_mine = [&](size_t i) { return i < ex.size() && i % shards == shard; };
  sum.mine = ex.size() / shards + (shard < ex.size() % shards ? 1 : 0);
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
  for (const auto& [i, r] : done)
    if (!is_mine(i) || ex.point(i).axes != r.axes)
      throw core::IoError(o.out_prefix + ".jsonl: point " + std::to_string(i) +
                          " does not match this sweep; the results come from another sweep, choose another --out");
  sum.resumed = done.size();
  Progress progress(stderr, o.progress, sum.mine, done.size(), "sweep");
  std::map<size_t, std::string> labels; // of the points running now
  auto record = [&](size_t index, const ordered_json& axes, Outcome out) {
    Record r;
    r.point = index;
    r.axes = axes;
    r.status = out.status;
    r.error = std::move(out.error);
    if (r.status == Status::ok)
      r.report = std::move(out.result);
    store.append(r);
    progress.tick(to_string(r.status), labels[index] + (r.status == Status::ok ? "" : ": " + r.error));
    labels.erase(index);
    if (r.status == Status::invalid && sum.first_invalid.empty())
      sum.first_invalid = r.error;
    done[r.point] = std::move(r);
  };
  std::map<size_t, ordered_json> running_axes;
  auto single = [&evaluate, &o](size_t index, std::shared_ptr<scenario::Scenario> parsed) {
    return Task{index, [&evaluate, parsed, &o, index] {
                  ordered_json report = evaluate(*parsed);
                  write_point_report(o.reports_dir, index, report);
                  return slim_report(std::move(report));
                }};
  };
  // Site groups (docs/sweep.md): the task of a group is known by its first point's index.
  struct Group {
    std::vector<size_t> points;
    std::shared_ptr<std::vector<scenario::Scenario>> parsed;
  };
  std::map<size_t, Group> groups;
  std::deque<Task> retry; // members of a group whose task did not end ok, run one by one
  size_t next = shard;    // this shard's points: shard, shard + shards, ...
  // The point's document without its site: points with equal keys share one simulation.
  auto site_free = [](json doc) {
    doc.erase("site");
    return doc;
  };
  run_pool(
      o.jobs > 0 ? o.jobs : available_cores(),
      [&]() -> std::optional<Task> {
        if (!retry.empty()) {
          Task t = std::move(retry.front());
          retry.pop_front();
          return t;
        }
        for (; next < ex.size(); next += shards) {
          const size_t index = next;
          if (done.count(index))
            continue;
          Point p = ex.point(index); // built now, one at a time: a sweep never holds every scenario
          labels[index] = point_label(p);
          auto parsed = std::make_shared<scenario::Scenario>();
          if (auto pre = precheck(p.scenario, catalog, parsed.get())) {
            record(index, p.axes, std::move(*pre));
            continue;
          }
          running_axes[index] = std::move(p.axes);
          next += shards;
          if (!group || !parsed->phases.empty()) // a phased run simulates each phase: not grouped
            return single(index, parsed);
          Group g{{index}, std::make_shared<std::vector<scenario::Scenario>>(1, *parsed)};
          const json key = site_free(std::move(p.scenario));
          for (; g.points.size() < o.max_site_group && next < ex.size() && !done.count(next); next += shards) {
            Point q = ex.point(next);
            if (site_free(q.scenario) != key)
              break; // (a phased point's site-free document differs from a plain one's: phases are not site)
            labels[next] = point_label(q);
            scenario::Scenario qs;
            if (auto pre = precheck(q.scenario, catalog, &qs)) {
              record(next, q.axes, std::move(*pre));
              continue;
            }
            running_axes[next] = std::move(q.axes);
            g.points.push_back(next);
            g.parsed->push_back(std::move(qs));
          }
          if (g.points.size() == 1)
            return single(index, parsed);
          groups[index] = g;
          return Task{index, [&group, &o, g] {
                        auto reports = group(*g.parsed);
                        ordered_json out = ordered_json::array();
                        for (size_t k = 0; k < g.points.size(); ++k) {
                          write_point_report(o.reports_dir, g.points[k], reports.at(k));
                          out.push_back(slim_report(std::move(reports[k])));
                        }
                        return out;
                      }};
        }
        return std::nullopt;
      },
      [&](size_t index, Outcome out) {
        auto g = groups.find(index);
        if (g == groups.end()) {
          auto it = running_axes.find(index);
          record(index, it->second, std::move(out));
          running_axes.erase(it);
          return;
        }
        const Group members = std::move(g->second);
        groups.erase(g);
        for (size_t k = 0; k < members.points.size(); ++k) {
          const size_t i = members.points[k];
          if (out.status != Status::ok) { // each point again on its own, so that its outcome is its own
            retry.push_back(single(i, std::make_shared<scenario::Scenario>((*members.parsed)[k])));
            continue;
          }
          auto it = running_axes.find(i);
          record(i, it->second, Outcome{Status::ok, {}, std::move(out.result.at(k))});
          running_axes.erase(it);
        }
      });
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
  const int shards = read_job(dir, spec, ex.size());
  check_shard_files(dir, shards);
  std::map<size_t, Record> all;
  std::vector<std::string> missing_shards;
  for (int i = 1; i <= shards; ++i) {
    const std::string prefix = shard_prefix(dir, i, shards);
    if (!fs::exists(prefix + ".jsonl", ec)) {
      missing_shards.push_back(std::to_string(i));
      continue;
    }
    const ordered_json meta = scenario::load_ordered_json_file(
        prefix + ".meta.json", "the shard's metadata is damaged; run shard " + std::to_string(i) + " again");
    if (!meta.is_object() || !meta.contains("fingerprint") || meta["fingerprint"] != spec.fingerprint())
      throw core::IoError(prefix + ".jsonl comes from another sweep; run shard " + std::to_string(i) + " again");
    for (auto& r : read_jsonl(prefix + ".jsonl"))
      if (r.point < ex.size() && r.axes == ex.point(r.point).axes &&
          static_cast<int>(r.point % static_cast<size_t>(shards)) == i - 1)
        all[r.point] = std::move(r);
      else
        throw core::IoError(prefix + ".jsonl: point " + std::to_string(r.point) +
                            " does not belong to this shard of the sweep");
  }
  std::string missing;
  size_t n_missing = 0;
  for (size_t index = 0; index < ex.size(); ++index)
    if (!all.count(index)) {
      if (++n_missing <= 10)
        missing += (missing.empty() ? "" : ", ") + std::to_string(index);
    }
  if (n_missing > 0) {
    std::string shards_text;
    for (const auto& s : missing_shards)
      shards_text += (shards_text.empty() ? "" : ",") + s;
    throw core::IoError(dir + ": " + std::to_string(n_missing) + " of " + std::to_string(ex.size()) +
                        " points have no result (" + missing + (n_missing > 10 ? ", ..." : "") + ")" +
                        (shards_text.empty() ? "" : "; shards without output: " + shards_text) +
                        "; rerun the unfinished shards (sbatch --array=LIST sweep.sbatch) and merge again");
  }
  SweepSummary sum;
  sum.points = sum.mine = ex.size();
  sum.skipped = ex.skipped;
  for (const auto& [i, r] : all)
    ++sum.counts[r.status];
  write_result_files(out_prefix, layout_for(spec, !pareto.empty()), finalize(all, pareto, spec));
  return sum;
}

} // namespace trainsim::sweep
