#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/cluster/Queue.hpp"

namespace trainsim::cluster {

/// One job's figures in the report (docs/cluster.md, "Report").
struct JobOutcome {
  std::string name, pool, accelerator;
  int nodes = 0;
  long accelerators = 0;
  int priority = 0;
  int configuration = 0; ///< index of the distinct configuration whose step was simulated
  double submit_s = 0, start_s = 0, end_s = 0, wait_s = 0, run_s = 0;
  double step_time_s = 0, tokens = 0, tokens_per_s = 0, mfu = 0;
  /// Jobs sharing the fabric (docs/cluster.md): its placement policy ("none": not simulated with others) and
  /// nodes; its step alone at those nodes; step_time_s is then the mean over its run of the shared steps.
  std::string placement = "none", placed_nodes;
  double step_time_alone_s = 0;
  double energy_mwh = 0, carbon_tco2e = 0, carbon_coal_tco2e = 0;
  bool finished_in_period = false;
};

struct PoolOutcome {
  std::string name, accelerator;
  int nodes = 0, accelerators_per_node = 0;
  double idle_node_w = 0, failures_per_node_h = 0, repair_s = 0;
  long failures = 0;
  double utilisation = 0;
};

/// A fabric tier's load in one shared simulation.
struct TierOutcome {
  std::string tier;
  long links = 0;
  double utilisation = 0, busiest_link = 0;
};

/// One set of jobs simulated together on a pool's fabric (once per distinct set of configurations and nodes).
struct SharedSetOutcome {
  std::string pool;
  std::vector<std::string> jobs, nodes; ///< the jobs (as first met) and their nodes
  std::vector<double> step_time_s;      ///< each job's step in this set
  std::vector<TierOutcome> tiers;
};

/// The whole `trainsim cluster` result: the queue, the pools, the totals over the period.
struct ClusterOutcome {
  std::string name, description, scheduler, grid;
  double period_s = 0, makespan_s = 0;
  long accelerators = 0;
  int configurations = 0; ///< distinct job configurations simulated (each once)
  std::vector<JobOutcome> jobs;
  std::vector<PoolOutcome> pools;
  double utilisation = 0;     ///< busy accelerator-seconds / (accelerators x period)
  double energy_mwh = 0;      ///< facility energy over the period: running jobs + idle powered nodes
  double energy_jobs_mwh = 0; ///< the jobs' own energy, whole runs (also after the period)
  double carbon_tco2e = 0, carbon_coal_tco2e = 0;
  double kg_per_kwh = 0, coal_kg_per_kwh = 0; ///< the jobs' energy-weighted factors, applied to the period
  std::optional<double> coal_share;           ///< the grid's coal share of generation, where known
  double mean_wait_s = 0, max_wait_s = 0;
  double tokens_in_period = 0; ///< tokens trained within the period (a running job's share of its budget)
  std::vector<QueueSample> samples;
  std::vector<SharedSetOutcome> shared_sets; ///< jobs with a placement, simulated together (docs/cluster.md)
};

/// The JSON report (schema_version 1): jobs[], pools[], totals, and the power series.
nlohmann::ordered_json to_json(const ClusterOutcome& o);
/// Power and utilisation over time: one row per change (t_s, power_mw, busy/up accelerators, utilisation,
/// busy and down nodes per pool).
std::string to_csv(const ClusterOutcome& o);
/// Console summary: one line per job, then the totals.
std::string to_console(const ClusterOutcome& o);
/// Self-contained HTML: utilisation and power over time (inline SVG), the job table and the totals.
std::string to_html(const ClusterOutcome& o);

} // namespace trainsim::cluster
