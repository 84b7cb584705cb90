#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/cluster/NodePlacement.hpp"

namespace trainsim::scenario {
class Catalog;
}

namespace trainsim::cluster {

/// One node pool of the centre: `nodes` nodes of one accelerator type (docs/cluster.md).
struct PoolSpec {
  std::string name;
  nlohmann::json accelerator; ///< a catalogue id or an inline object, as /cluster/accelerator of a scenario
  int nodes = 0;
  int accelerators_per_node = 0; ///< 0: the accelerator's default
};

/// One job of the queue: a scenario's model, training (with its token budget) and parallelism, placed on
/// `nodes` nodes of one pool once the scheduler starts it.
struct JobSpec {
  std::string name;
  int pool = 0;        ///< index into ClusterSpec::pools
  double submit_s = 0; ///< from the start of the period
  int nodes = 0;
  int priority = 0;        ///< higher first (scheduler `priority`)
  PlacementSpec placement; ///< /jobs/N/placement; none: not simulated with other jobs (docs/cluster.md)
  nlohmann::json model, training, parallelism, simulation; ///< passed to the scenario parser as written
};

/// A `trainsim cluster` file, parsed and checked: every key known, every job fits its pool.
struct ClusterSpec {
  std::string name, description;
  nlohmann::json fabric; ///< /cluster/fabric, as in a scenario (every job's fabric)
  std::vector<PoolSpec> pools;
  nlohmann::json site;            ///< as in a scenario
  nlohmann::json failures;        ///< as in a scenario; null: the catalogue's defaults
  double period_s = 0;            ///< the window the cluster totals cover
  std::string scheduler = "fifo"; ///< a name of scheduler_names()
  long seed = 1;                  ///< node failures in the queue
  bool node_failures = true;      ///< queue.node_failures: failures take nodes away
  std::vector<JobSpec> jobs;
};

/// Parses a cluster file; throws core::ConfigError naming the JSON path (exit code 2).
ClusterSpec parse_cluster_spec(const nlohmann::json& document, const scenario::Catalog& catalog);

/// The scenario document of job `j` as the scenario parser takes it (the pool's accelerator, the job's
/// nodes, the cluster's fabric, site and failures).
nlohmann::json job_scenario(const ClusterSpec& spec, size_t j);

/// Maps a pointer of a job's scenario (/cluster/nodes, /model/...) to the cluster file's (/jobs/3/nodes).
std::string cluster_pointer(const ClusterSpec& spec, size_t j, const std::string& scenario_pointer);

} // namespace trainsim::cluster
