#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/sweep/Progress.hpp"
#include "trainsim/sweep/ResultStore.hpp"
#include "trainsim/sweep/SweepSpec.hpp"

namespace trainsim::sweep {

/// Runs one parsed scenario and returns its JSON report (the CLI passes the simulation pipeline in;
/// the sweep module never simulates by itself). Called in a worker child process.
using Evaluate = std::function<nlohmann::ordered_json(const scenario::Scenario&)>;
/// Runs parsed scenarios that differ only in their site (nothing the simulation reads) and returns their
/// reports in order, each exactly the report Evaluate gives it (the CLI simulates the group once:
/// cli::run_site_group). Called in a worker child process.
using EvaluateSiteGroup = std::function<std::vector<nlohmann::ordered_json>(const std::vector<scenario::Scenario>&)>;

struct SweepOptions {
  std::string out_prefix; ///< PREFIX.jsonl, PREFIX.csv, PREFIX.meta.json
  int jobs = 0;           ///< 0: all cores
  bool resume = false;
  bool overwrite = false;
  int shard = 1, shards = 1; ///< this process runs the points with index % shards == shard - 1
  std::string pareto;        ///< "time,carbon"; empty: no Pareto column
  std::string reports_dir;   ///< when set, each ok point's full JSON report is written there
  Progress::Mode progress = Progress::Mode::off;
  /// With a site-group evaluator: at most this many consecutive points of this shard that differ only in
  /// their site run as one task (one simulation).
  size_t max_site_group = 64;
};

struct SweepSummary {
  size_t points = 0;               ///< after constraints, whole sweep
  size_t skipped = 0;              ///< removed by constraints
  size_t mine = 0;                 ///< in this shard
  size_t resumed = 0;              ///< already recorded
  std::map<Status, size_t> counts; ///< over this shard's records
  std::string first_invalid;       ///< an example parser error, when every point is invalid
  std::string describe() const;
  /// 0; 2 when every point is invalid; 3 when a point failed (crash, kill, internal error).
  int exit_code() const;
};

/// What can be decided without simulating: a parser error (invalid) or a model that does not fit in
/// memory (infeasible, from the workload memory model). Returns std::nullopt and fills `parsed` otherwise.
std::optional<Outcome> precheck(const nlohmann::json& doc, const scenario::Catalog& catalog,
                                scenario::Scenario* parsed);

/// The report without its resolved scenario (the axes say what differs), as stored in results.
nlohmann::ordered_json slim_report(nlohmann::ordered_json report);

ResultLayout layout_for(const SweepSpec& spec, bool pareto);
nlohmann::ordered_json meta_for(const SweepSpec& spec, size_t points, int shard, int shards);
/// "DIR/shard-0003-of-0016"
std::string shard_prefix(const std::string& dir, int shard, int shards);

/// Runs (this shard of) a sweep, streaming results; see docs/sweep.md. With `group`, consecutive points
/// (in this shard's order) that differ only in their site are evaluated together by one task; a group
/// whose task does not end ok runs again point by point, so every point's outcome is its own.
SweepSummary run_sweep(const SweepSpec& spec, const scenario::Catalog& catalog, const SweepOptions& options,
                       const Evaluate& evaluate, const EvaluateSiteGroup& group = {});

/// Combines DIR/shard-*-of-N.jsonl (written by the job array of write_slurm_job) into OUT.jsonl/OUT.csv,
/// byte-identical to a local run of DIR/sweep.json. Throws IoError naming missing points or shards.
SweepSummary merge_shards(const std::string& dir, const std::string& out_prefix, const std::string& pareto,
                          const scenario::Catalog& catalog);

} // namespace trainsim::sweep
