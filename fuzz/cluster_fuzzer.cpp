// libFuzzer target for `trainsim cluster` files (issue 17, docs/cluster.md): bytes -> strict JSON ->
// ClusterSpec -> each job's scenario (the scenario parser, as the CLI runs it) -> placement of every job on an
// empty pool -> the queue with unit run times and the placements (no SimGrid). Bad input must end in a
// core::Error (exit code 2); anything else escaping, a sanitizer report, a placement that is not the job's
// size in distinct nodes of its pool, two running jobs on one node, or a job that never ends is a bug and
// aborts. Built like scenario_fuzzer.cpp: with libFuzzer (TRAINSIM_FUZZ=ON, tools/fuzz) and, in every build,
// as fuzz_replay_cluster (ctest fuzz_regressions_cluster replays fuzz/seeds/cluster, scenarios/cluster and
// the cluster-* bad-input files).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "trainsim/cluster/ClusterSpec.hpp"
#include "trainsim/cluster/NodePlacement.hpp"
#include "trainsim/cluster/Queue.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace {

using namespace trainsim;

[[noreturn]] void invariant_failed(const char* what)
{
  std::fprintf(stderr, "cluster_fuzzer: invariant violated: %s\n", what);
  std::abort();
}

/// A pool topology of `nodes` nodes: leaves of 4 nodes, pods of 4 leaves.
cluster::NodeTopology synthetic(int nodes)
{
  cluster::NodeTopology t;
  for (int n = 0; n < nodes; ++n) {
    t.leaf.push_back(n / 4);
    t.pod.push_back(n / 16);
  }
  return t;
}

void check_placement(const std::vector<int>& nodes, int count, int pool_nodes)
{
  if (static_cast<int>(nodes.size()) != count)
    invariant_failed("a placement takes exactly the job's nodes");
  std::set<int> distinct(nodes.begin(), nodes.end());
  if (distinct.size() != nodes.size() || *distinct.begin() < 0 || *distinct.rbegin() >= pool_nodes)
    invariant_failed("a placement's nodes are distinct nodes of the pool");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  static const auto& cat = scenario::Catalog::instance();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto spec = cluster::parse_cluster_spec(scenario::parse_ordered_json_strict(text, "fuzz.cluster.json"), cat);
    if (spec.jobs.empty() || spec.pools.empty())
      invariant_failed("a parsed cluster file has pools and jobs");
    std::vector<cluster::QueuePool> pools;
    for (const auto& p : spec.pools) {
      if (p.nodes > 100000) // keep every input fast; the pools' own limits are unit-tested
        return 0;
      pools.push_back(cluster::QueuePool{p.name, p.nodes, 1, 0, 0, 0, synthetic(p.nodes)});
    }
    std::vector<cluster::QueueJob> jobs;
    for (size_t j = 0; j < spec.jobs.size(); ++j) {
      const auto& job = spec.jobs[j];
      (void)scenario::parse_scenario(cluster::job_scenario(spec, j), cat);
      const int pool_nodes = spec.pools[static_cast<size_t>(job.pool)].nodes;
      const auto placed = cluster::place_nodes(job.placement, job.nodes, std::vector<char>(pool_nodes, 1),
                                               pools[static_cast<size_t>(job.pool)].topology);
      check_placement(placed, job.nodes, pool_nodes);
      jobs.push_back({job.pool, job.submit_s, job.nodes, job.priority, 1.0, 0.0, job.placement});
    }
    if (jobs.size() > 200)
      return 0;
    const auto q = cluster::run_queue(pools, jobs, spec.scheduler, 1.0, 1, false);
    for (size_t j = 0; j < jobs.size(); ++j) {
      if (!(q.end_s[j] >= q.start_s[j] && q.start_s[j] >= jobs[j].submit_s))
        invariant_failed("every job starts after its submission and ends");
      check_placement(q.nodes[j], jobs[j].nodes, pools[static_cast<size_t>(jobs[j].pool)].nodes);
      for (size_t k = 0; k < j; ++k) // jobs of one pool running at once hold different nodes
        if (jobs[k].pool == jobs[j].pool && q.start_s[k] < q.end_s[j] && q.start_s[j] < q.end_s[k])
          for (int n : q.nodes[j])
            for (int m : q.nodes[k])
              if (n == m)
                invariant_failed("two running jobs hold one node");
    }
  } catch (const core::Error&) {
    // Bad input, reported as such (exit 2 in the CLI): expected.
  }
  return 0;
}
