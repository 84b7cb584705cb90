#include "trainsim/cluster/ClusterSpec.hpp"

#include <map>

#include "trainsim/cluster/Scheduler.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/JsonReader.hpp"

namespace trainsim::cluster {

using core::ConfigError;
using core::Dimension;
using nlohmann::json;
using scenario::JsonReader;

namespace {

/// An array under `key` of at least one object; every item's pointer is key/i.
const json& array_of_objects(JsonReader& r, const std::string& key, const std::string& what)
{
  const json& a = r.raw(key);
  if (!a.is_array() || a.empty())
    throw ConfigError(r.pointer_of(key), "must be a non-empty array of " + what + " objects");
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].is_object())
      throw ConfigError(r.pointer_of(key) + "/" + std::to_string(i), "must be an object (" + what + ")");
  return a;
}

std::vector<PoolSpec> parse_pools(JsonReader& cluster)
{
  const json& a = array_of_objects(cluster, "pools", "node pool");
  std::vector<PoolSpec> pools;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < a.size(); ++i) {
    JsonReader p(a[i], cluster.pointer_of("pools") + "/" + std::to_string(i));
    PoolSpec pool;
    pool.name = p.get_string("name");
    if (pool.name.empty())
      throw ConfigError(p.pointer_of("name"), "must not be empty; name the pool (\"h800\")");
    if (!seen.emplace(pool.name, i).second)
      throw ConfigError(p.pointer_of("name"), "pool \"" + pool.name + "\" is named twice; give each pool its own name");
    pool.accelerator = p.raw("accelerator");
    pool.nodes = static_cast<int>(p.get_int("nodes", 1, 1000000));
    if (p.has("accelerators_per_node"))
      pool.accelerators_per_node = static_cast<int>(p.get_int("accelerators_per_node", 1, 1024));
    p.finish();
    pools.push_back(std::move(pool));
  }
  return pools;
}

int pool_index(const std::vector<PoolSpec>& pools, const std::string& name, const std::string& pointer)
{
  std::string names;
  for (size_t k = 0; k < pools.size(); ++k) {
    if (pools[k].name == name)
      return static_cast<int>(k);
    names += (names.empty() ? "" : ", ") + pools[k].name;
  }
  throw ConfigError(pointer, "unknown pool \"" + name + "\"; the pools are " + names);
}

/// /jobs/N/placement: "packed", "spread", "topology_aware" or {"nodes": ["0-7", "16"]} (exactly the job's nodes).
PlacementSpec parse_placement(JsonReader& r, int nodes, const PoolSpec& pool)
{
  PlacementSpec spec;
  if (r.raw("placement").is_string()) {
    const std::string name = r.get_enum("placement", placement_names());
    for (auto p : {PlacementPolicy::packed, PlacementPolicy::spread, PlacementPolicy::topology_aware})
      if (name == to_string(p))
        spec.policy = p;
    return spec;
  }
  if (!r.raw("placement").is_object())
    throw ConfigError(r.pointer_of("placement"), "must be \"packed\", \"spread\", \"topology_aware\" or "
                                                 "{\"nodes\": [\"0-7\", ...]} (node ranges of the pool)");
  auto p = r.child("placement");
  const json& ranges = p.raw("nodes");
  const std::string ptr = p.pointer_of("nodes");
  if (!ranges.is_array() || ranges.empty())
    throw ConfigError(ptr, "must be a non-empty array of node ranges (\"0-7\", \"12\")");
  std::vector<char> seen(static_cast<size_t>(pool.nodes), 0);
  for (size_t i = 0; i < ranges.size(); ++i) {
    const std::string at = ptr + "/" + std::to_string(i);
    if (!ranges[i].is_string())
      throw ConfigError(at, "must be a string: a node \"3\" or a range \"0-7\"");
    for (int n : parse_node_range(ranges[i].get<std::string>(), pool.nodes, at)) {
      if (seen[static_cast<size_t>(n)])
        throw ConfigError(at, "node " + std::to_string(n) + " is listed twice; list each node once");
      seen[static_cast<size_t>(n)] = 1;
      spec.nodes.push_back(n);
    }
  }
  if (static_cast<int>(spec.nodes.size()) != nodes)
    throw ConfigError(ptr, "lists " + std::to_string(spec.nodes.size()) + " nodes, but the job asks for " +
                               std::to_string(nodes) + " (/nodes); list exactly that many");
  p.finish();
  spec.policy = PlacementPolicy::nodes;
  return spec;
}

JobSpec parse_job(const json& object, const std::string& pointer, const ClusterSpec& spec)
{
  JsonReader r(object, pointer);
  JobSpec job;
  job.name = r.get_string("name");
  job.pool = pool_index(spec.pools, r.get_string("pool"), r.pointer_of("pool"));
  job.submit_s = r.get_nonnegative_quantity("submit", Dimension::time, 1e10, 0.0);
  job.nodes = static_cast<int>(r.get_int("nodes", 1, 1000000));
  if (job.nodes > spec.pools[job.pool].nodes)
    throw ConfigError(r.pointer_of("nodes"), std::to_string(job.nodes) + " nodes, but pool \"" +
                                                 spec.pools[job.pool].name + "\" has " +
                                                 std::to_string(spec.pools[job.pool].nodes) +
                                                 "; ask for at most that many or enlarge the pool");
  job.priority = static_cast<int>(r.get_int("priority", -1000000, 1000000, 0));
  if (r.has("placement"))
    job.placement = parse_placement(r, job.nodes, spec.pools[job.pool]);
  job.model = r.raw("model");
  job.training = r.raw("training");
  job.parallelism = r.raw("parallelism");
  if (r.has("simulation"))
    job.simulation = r.raw("simulation");
  r.finish();
  return job;
}

void parse_queue(JsonReader& q, ClusterSpec& spec)
{
  spec.period_s = q.get_quantity("period", Dimension::time, 0, 1e10);
  spec.scheduler = q.get_enum("scheduler", scheduler_names(), std::string("fifo"));
  spec.seed = q.get_int("seed", 0, 1L << 62, 1);
  spec.node_failures = q.get_bool("node_failures", true);
  q.finish();
}

} // namespace

ClusterSpec parse_cluster_spec(const json& document, const scenario::Catalog& catalog)
{
  (void)catalog; // the accelerators and fabric are checked by the scenario parser, job by job
  if (!document.is_object())
    throw ConfigError("", "a cluster file must be a JSON object with cluster, queue and jobs");
  JsonReader r(document, "");
  r.get_int("schema_version", 1, 1, 1);
  ClusterSpec spec;
  spec.name = r.get_string("name", std::string("cluster"));
  spec.description = r.get_string("description", std::string());
  {
    auto c = r.child("cluster");
    spec.fabric = c.raw("fabric");
    spec.pools = parse_pools(c);
    c.finish();
  }
  spec.site = r.has("site") ? r.raw("site") : json::object();
  if (r.has("failures"))
    spec.failures = r.raw("failures");
  {
    auto q = r.child("queue");
    parse_queue(q, spec);
  }
  const json& jobs = array_of_objects(r, "jobs", "job");
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const std::string ptr = "/jobs/" + std::to_string(i);
    spec.jobs.push_back(parse_job(jobs[i], ptr, spec));
    if (!names.emplace(spec.jobs.back().name, i).second)
      throw ConfigError(ptr + "/name", "job \"" + spec.jobs.back().name + "\" is named twice (also /jobs/" +
                                           std::to_string(names[spec.jobs.back().name]) +
                                           "); give each job its own name");
  }
  r.finish();
  return spec;
}

json job_scenario(const ClusterSpec& spec, size_t j)
{
  const JobSpec& job = spec.jobs.at(j);
  const PoolSpec& pool = spec.pools.at(job.pool);
  json cluster = {{"accelerator", pool.accelerator}, {"nodes", job.nodes}, {"fabric", spec.fabric}};
  if (pool.accelerators_per_node > 0)
    cluster["accelerators_per_node"] = pool.accelerators_per_node;
  json doc = {{"schema_version", 1}, {"name", job.name},         {"cluster", cluster},
              {"model", job.model},  {"training", job.training}, {"parallelism", job.parallelism},
              {"site", spec.site}};
  if (!spec.failures.is_null())
    doc["failures"] = spec.failures;
  doc["simulation"] = job.simulation.is_null() ? json{{"steps", 1}, {"seed", spec.seed}} : job.simulation;
  return doc;
}

std::string cluster_pointer(const ClusterSpec& spec, size_t j, const std::string& p)
{
  const std::string job = "/jobs/" + std::to_string(j);
  const std::string pool = "/cluster/pools/" + std::to_string(spec.jobs.at(j).pool);
  auto starts = [&](const std::string& prefix) { return p == prefix || p.rfind(prefix + "/", 0) == 0; };
  if (starts("/cluster/fabric"))
    return p;
  if (starts("/cluster/accelerator") || starts("/cluster/accelerators_per_node"))
    return pool + p.substr(8);
  if (starts("/cluster/nodes"))
    return job + "/nodes";
  if (starts("/cluster"))
    return job + p.substr(8); // other cluster keys have no place in a job; name the job
  if (starts("/model") || starts("/training") || starts("/parallelism") || starts("/simulation"))
    return job + p;
  if (starts("/site") || starts("/failures"))
    return p;
  return job + (p == "/" ? "" : p);
}

} // namespace trainsim::cluster
