// Jobs sharing one fabric in one SimGrid simulation (issue 17, docs/cluster.md "Jobs sharing the fabric"):
// node placement, the queue's progress over changing sets, and the 3-tier 3:1 fat tree against the
// closed-form shares of its pod trunks.
#include <catch2/catch.hpp>

#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "TestUtil.hpp"
#include "trainsim/cli/ClusterRun.hpp"
#include "trainsim/cluster/ClusterReport.hpp"
#include "trainsim/cluster/ClusterSpec.hpp"
#include "trainsim/cluster/NodePlacement.hpp"
#include "trainsim/cluster/Queue.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"

using namespace trainsim;
using cluster::PlacementPolicy;
using cluster::PlacementSpec;
using nlohmann::json;

namespace {

/// 3 tiers, radix 4, 1 accelerator per node: 2 nodes per leaf, floor(4 x 3/4) = 3 leaves per pod, so 12 nodes
/// make 2 pods of 6. Leaves 1:1; each pod's trunk to the core carries 6 NICs' worth / 3 = 2 NICs.
const json fabric_3tier = {{"type", "fat_tree"}, {"nic_bandwidth", "100Gbps"},
                           {"tiers", 3},         {"oversubscription", {"1:1", "3:1"}},
                           {"switch_radix", 4},  {"latency", "1us"}};

/// Two identical data-parallel jobs of 6 nodes on a 12-node pool of that fabric, placed by `placement`.
json two_jobs(const json& placement_a, const json& placement_b)
{
  auto job = [](const std::string& name, const json& placement) {
    return json{
        {"name", name},
        {"pool", "h800"},
        {"nodes", 6},
        {"placement", placement},
        {"model", {{"preset", "gpt3-1.7b"}}},
        {"training", {{"global_batch_size", 6}, {"micro_batch_size", 1}, {"tokens", "1B"}, {"precision", "bf16"}}},
        {"parallelism", {{"tp", 1}, {"pp", 1}, {"dp", 6}}}};
  };
  return {{"schema_version", 1},
          {"name", "two"},
          {"cluster",
           {{"fabric", fabric_3tier},
            {"pools",
             {{{"name", "h800"}, {"accelerator", "H800-SXM-80GB"}, {"nodes", 12}, {"accelerators_per_node", 1}}}}}},
          {"queue", {{"period", "1d"}, {"node_failures", false}}},
          {"jobs", {job("a", placement_a), job("b", placement_b)}}};
}

cluster::ClusterOutcome run(const json& doc)
{
  const auto& catalog = scenario::Catalog::instance();
  return cli::run_cluster(cluster::parse_cluster_spec(doc, catalog), catalog);
}

/// A pool of 12 nodes: 2 per leaf, 3 leaves per pod (the fabric above).
cluster::NodeTopology pods_of_six()
{
  cluster::NodeTopology t;
  for (int n = 0; n < 12; ++n) {
    t.leaf.push_back(n / 2);
    t.pod.push_back(n / 6);
  }
  return t;
}

} // namespace

TEST_CASE("placement: packed, spread, topology_aware and explicit nodes", "[cluster][share]")
{
  const auto topo = pods_of_six();
  std::vector<char> free(12, 1);
  using V = std::vector<int>;
  CHECK(cluster::place_nodes({PlacementPolicy::packed, {}}, 4, free, topo) == V{0, 1, 2, 3});
  CHECK(cluster::place_nodes({PlacementPolicy::spread, {}}, 4, free, topo) == V{0, 6, 1, 7});
  CHECK(cluster::place_nodes({PlacementPolicy::nodes, {5, 3}}, 2, free, topo) == V{5, 3});
  free[0] = free[2] = free[7] = 0; // leaf 0 has node 1 free, leaf 1 node 3, leaf 3 node 6
  CHECK(cluster::place_nodes({PlacementPolicy::packed, {}}, 3, free, topo) == V{1, 3, 4});
  // One leaf holds 2: the fullest that does (fewest free: leaf 2 = {4, 5}, before leaf 4 = {8, 9}).
  CHECK(cluster::place_nodes({PlacementPolicy::topology_aware, {}}, 2, free, topo) == V{4, 5});
  // Five fit in one pod only: pod 1 has 5 free (6, 8-11), pod 0 has 4: pod 1, its leaves fullest first.
  CHECK(cluster::place_nodes({PlacementPolicy::topology_aware, {}}, 5, free, topo) == V{8, 9, 10, 11, 6});
  // Seven: pods by free nodes, most first.
  CHECK(cluster::place_nodes({PlacementPolicy::topology_aware, {}}, 7, free, topo) == V{8, 9, 10, 11, 6, 4, 5});
  CHECK(cluster::place_nodes({PlacementPolicy::nodes, {0, 1}}, 2, free, topo).empty()); // node 0 is held
  CHECK(cluster::place_nodes({PlacementPolicy::spread, {}}, 10, free, topo).empty());   // 9 free
  CHECK(cluster::node_ranges({8, 3, 0, 1, 2, 9, 5}) == "0-3,5,8-9");
}

TEST_CASE("queue: a job's run stretches by its set's factor from each change of the set on", "[cluster][share]")
{
  // Two jobs of 100 s alone; together each runs at half speed. a alone over [0, 50) does half its work, the
  // other half takes 100 s together: a ends at 150. b does half its work together over [50, 150), the rest
  // alone: it ends at 200.
  std::vector<cluster::QueuePool> pools{cluster::QueuePool{"p", 4, 1, 0, 0, 0}};
  std::vector<cluster::QueueJob> jobs{{0, 0, 2, 0, 100, 0, {PlacementPolicy::packed, {}}},
                                      {0, 50, 2, 0, 100, 0, {PlacementPolicy::packed, {}}}};
  int calls = 0;
  const cluster::ShareFn share = [&](int, const std::vector<int>& running, const std::vector<std::vector<int>>&) {
    ++calls;
    return std::vector<double>(running.size(), running.size() > 1 ? 2.0 : 1.0);
  };
  const auto q = cluster::run_queue(pools, jobs, "fifo", 300, 1, false, 1000, &share);
  CHECK(q.end_s[0] == Approx(150).epsilon(1e-12));
  CHECK(q.end_s[1] == Approx(200).epsilon(1e-12));
  CHECK(q.nodes[0] == std::vector<int>{0, 1});
  CHECK(q.nodes[1] == std::vector<int>{2, 3});
  CHECK(calls == 3); // a starts, b starts, a ends (the last end leaves no set)
  // Without a share function the runs are their own.
  const auto alone = cluster::run_queue(pools, jobs, "fifo", 300, 1, false);
  CHECK(alone.end_s == std::vector<double>{100, 150});
}

TEST_CASE("two jobs on a 3-tier fat tree with 3:1 at the spine: spread slower, packed not (closed-form trunk shares)",
          "[cluster][share][sim]")
{
  // The data-parallel ring of a job spread over both pods (nodes alternate pods) crosses the pods on every
  // hop: 3 ring flows each way on each pod trunk of 2 NICs' worth. Alone each gets 2/3 of a NIC, with the
  // other spread job 6 flows share it, 1/3; packed within a pod a job's flows stay under the NIC limit, 1.
  const auto job = test::scenario_with([](json& j) {
    j["cluster"] = {
        {"accelerator", "H800-SXM-80GB"}, {"nodes", 6}, {"accelerators_per_node", 1}, {"fabric", fabric_3tier}};
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 6}};
    j["training"]["global_batch_size"] = 6;
    j["training"]["micro_batch_size"] = 1;
    j["simulation"] = {{"steps", 1}};
  });
  auto pool = job;
  pool.cluster.nodes = 12;
  const auto fabric = topology::Fabric::build(pool.cluster);
  REQUIRE(fabric.summary().pods == 2);
  auto cal = scenario::Catalog::instance().calibration();
  cal.scale_out_bus_efficiency = 1;
  cal.collective_step_latency_s = 0;
  const auto w = workload::build_workload(job, cal);
  const std::vector<int> packed_a{0, 1, 2, 3, 4, 5}, packed_b{6, 7, 8, 9, 10, 11};
  const std::vector<int> spread_a{0, 6, 1, 7, 2, 8}, spread_b{3, 9, 4, 10, 5, 11};
  auto dp = [](const sim::SimResult& r) { return r.stages.at(0).comm_total.at("dp"); };
  auto sim = [&](const std::vector<std::vector<int>>& nodes) {
    std::vector<sim::SharedJob> jobs;
    for (const auto& n : nodes)
      jobs.push_back({&job, &w, n});
    return sim::simulate_shared(jobs, fabric, pool, cal);
  };
  const auto packed_alone = sim({packed_a}), spread_alone = sim({spread_a});
  const auto packed = sim({packed_a, packed_b}), spread = sim({spread_a, spread_b});
  INFO("dp busy per step: packed alone " << dp(packed_alone.jobs[0]) << " s, spread alone " << dp(spread_alone.jobs[0])
                                         << " s, spread together " << dp(spread.jobs[0]) << " s");
  CHECK(dp(spread_alone.jobs[0]) / dp(packed_alone.jobs[0]) == Approx(1.5).epsilon(0.01));
  for (int k = 0; k < 2; ++k) {
    CHECK(dp(spread.jobs[k]) / dp(spread_alone.jobs[0]) == Approx(2.0).epsilon(0.01));
    CHECK(spread.jobs[k].step_time_s > spread_alone.jobs[0].step_time_s * 1.5);
    CHECK(packed.jobs[k].step_time_s == Approx(packed_alone.jobs[0].step_time_s).epsilon(1e-9));
  }
  // Alone and packed in one pod, the shared path (full fidelity on the pool's fabric) agrees with the job's
  // own run (its own 6-node fabric, reduced fidelity) within 1%: the factor of a job that shares nothing is 1.
  const auto own = sim::simulate(job, w, topology::Fabric::build(job.cluster), cal);
  CHECK(packed_alone.jobs[0].step_time_s == Approx(own.step_time_s).epsilon(0.01));
  // The pod trunks (pod_uplink) carry traffic only when the jobs are spread.
  auto tier = [](const sim::SharedResult& r, const std::string& name) {
    for (const auto& t : r.tiers)
      if (t.tier == name)
        return t.utilisation;
    return -1.0;
  };
  CHECK(tier(packed, "pod_uplink") == 0.0);
  CHECK(tier(spread, "pod_uplink") > 0.5);
}

TEST_CASE("trainsim cluster: jobs[] step_time_s shared against step_time_alone_s, and the tiers' load",
          "[cluster][share]")
{
  const auto spread = run(two_jobs("spread", "spread"));
  const auto packed = run(two_jobs("packed", "packed"));
  for (int k = 0; k < 2; ++k) {
    const auto& s = spread.jobs[k];
    const auto& p = packed.jobs[k];
    INFO(s.name << ": spread " << s.step_time_s << " s (alone " << s.step_time_alone_s << " s), packed "
                << p.step_time_s << " s (alone " << p.step_time_alone_s << " s)");
    CHECK(s.placement == "spread");
    CHECK(s.step_time_s > 1.5 * s.step_time_alone_s);
    CHECK(p.step_time_s == Approx(p.step_time_alone_s).epsilon(1e-9));
    CHECK(s.run_s / p.run_s == Approx(s.step_time_s / p.step_time_s).epsilon(1e-9));
  }
  CHECK(spread.jobs[0].placed_nodes == "0-2,6-8");
  CHECK(packed.jobs[1].placed_nodes == "6-11");
  // One shared set per run (both jobs start at once) and each job alone at its nodes.
  REQUIRE(spread.shared_sets.size() == 3);
  CHECK(spread.shared_sets[0].jobs == std::vector<std::string>{"a", "b"});
  const auto j = cluster::to_json(spread);
  CHECK(j.at("jobs").at(0).at("step_time_alone_s").get<double>() == spread.jobs[0].step_time_alone_s);
  bool pod_trunk = false;
  for (const auto& t : j.at("shared_sets").at(0).at("tiers"))
    pod_trunk = pod_trunk || (t.at("tier") == "pod_uplink" && t.at("utilisation").get<double>() > 0.5);
  CHECK(pod_trunk);
  // Deterministic: the same file gives the same report.
  CHECK(cluster::to_json(run(two_jobs("spread", "spread"))).dump() == j.dump());
}

TEST_CASE("cluster file: placement keys, node ranges and their JSON paths", "[cluster][share]")
{
  auto fails = [](json doc, const std::string& pointer, const std::string& text) {
    try {
      run(doc);
      FAIL("accepted");
    } catch (const core::ConfigError& e) {
      INFO(e.what());
      CHECK(e.pointer() == pointer);
      CHECK(std::string(e.what()).find(text) != std::string::npos);
    }
  };
  fails(two_jobs("packd", "packed"), "/jobs/0/placement", "packed");
  fails(two_jobs({{"nodes", {"0-4"}}}, "packed"), "/jobs/0/placement/nodes", "lists 5 nodes");
  fails(two_jobs({{"nodes", {"0-3", "3-4"}}}, "packed"), "/jobs/0/placement/nodes/1", "listed twice");
  fails(two_jobs({{"nodes", {"8-13"}}}, "packed"), "/jobs/0/placement/nodes/0", "beyond the pool");
  fails(two_jobs({{"nodes", {"5-0"}}}, "packed"), "/jobs/0/placement/nodes/0", "ends before");
  fails(two_jobs({{"nodes", {"0-5"}}, {"rack", 1}}, "packed"), "/jobs/0/placement/rack", "unknown key");
  fails(two_jobs(3, "packed"), "/jobs/0/placement", "packed");
  auto ecmp = two_jobs("packed", "packed");
  ecmp["cluster"]["fabric"]["load_balance"] = "ecmp";
  fails(ecmp, "/cluster/fabric/load_balance", "spray");
  // Explicit nodes: the second job waits until its nodes are free.
  const auto o = run(two_jobs({{"nodes", {"0-5"}}}, {{"nodes", {"3-8"}}}));
  CHECK(o.jobs[1].start_s == Approx(o.jobs[0].end_s));
  CHECK(o.jobs[1].placed_nodes == "3-8");
}
