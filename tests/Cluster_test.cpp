// trainsim cluster (issue 17): the queue's schedulers against closed forms, node failures, the energy
// integral, the cluster file's strict keys and JSON paths, and one configuration simulated once.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "trainsim/cli/ClusterRun.hpp"
#include "trainsim/cluster/ClusterReport.hpp"
#include "trainsim/cluster/ClusterSpec.hpp"
#include "trainsim/cluster/Queue.hpp"
#include "trainsim/cluster/Scheduler.hpp"
#include "trainsim/core/Errors.hpp"

using namespace trainsim;
using cluster::QueueJob;
using cluster::QueuePool;
using nlohmann::json;

namespace {

std::vector<QueuePool> one_pool(int nodes, double idle_w = 0)
{
  return {QueuePool{"p", nodes, 8, idle_w, 0, 0}};
}

QueueJob job(double submit, int nodes, double run, int priority = 0, double power = 0)
{
  return QueueJob{0, submit, nodes, priority, run, power};
}

cluster::QueueResult run(const std::vector<QueuePool>& pools, const std::vector<QueueJob>& jobs,
                         const std::string& scheduler, double period = 1000)
{
  return cluster::run_queue(pools, jobs, scheduler, period, 1, true);
}

/// A small valid cluster file: two pools, `jobs` as given (default: two Llama-3-8B jobs on the H800 pool).
json cluster_file()
{
  const json training = {{"global_batch_size", 64}, {"micro_batch_size", 1}, {"tokens", "1B"}, {"precision", "bf16"}};
  json training2 = training;
  training2["tokens"] = "2B";
  const json par = {{"tp", 8}, {"pp", 1}, {"dp", 2}};
  return {{"schema_version", 1},
          {"name", "t"},
          {"cluster",
           {{"fabric", {{"type", "fat_tree"}, {"nic_bandwidth", "400Gbps"}, {"tiers", 2}, {"latency", "1us"}}},
            {"pools",
             {{{"name", "h800"}, {"accelerator", "H800-SXM-80GB"}, {"nodes", 4}},
              {{"name", "ascend"}, {"accelerator", "Ascend-910B"}, {"nodes", 4}}}}}},
          {"site", {{"pue", 1.25}, {"grid", "cn-national-2023"}}},
          {"queue", {{"period", "2d"}, {"scheduler", "fifo"}, {"seed", 3}}},
          {"jobs",
           {{{"name", "a"},
             {"pool", "h800"},
             {"nodes", 2},
             {"model", {{"preset", "llama3-8b"}}},
             {"training", training},
             {"parallelism", par}},
            {{"name", "b"},
             {"pool", "h800"},
             {"submit", "1h"},
             {"nodes", 2},
             {"model", {{"preset", "llama3-8b"}}},
             {"training", training2},
             {"parallelism", par}}}}};
}

std::string error_of(const json& doc)
{
  try {
    const auto spec = cluster::parse_cluster_spec(doc, scenario::Catalog::instance());
    cli::run_cluster(spec, scenario::Catalog::instance());
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("fifo: jobs that each take the whole pool wait for the sum of the earlier run times", "[cluster]")
{
  // Closed form of a single server: wait_k = sum_{i<k} run_i - submit_k (all submitted at 0 here).
  const auto r = run(one_pool(4), {job(0, 4, 10), job(0, 4, 20), job(0, 4, 30)}, "fifo");
  CHECK(r.start_s == std::vector<double>{0, 10, 30});
  CHECK(r.end_s == std::vector<double>{10, 30, 60});
  CHECK(r.makespan_s == 60);
}

TEST_CASE("fifo blocks behind the head; backfill fills the hole without delaying the head's reservation", "[cluster]")
{
  // A holds 2 of 4 nodes until 100; B needs all 4 (reserved at 100); C (2 nodes, 50 s) fits in the hole.
  const std::vector<QueueJob> jobs{job(0, 2, 100), job(1, 4, 50), job(2, 2, 50)};
  const auto f = run(one_pool(4), jobs, "fifo");
  CHECK(f.start_s == std::vector<double>{0, 100, 150});
  const auto b = run(one_pool(4), jobs, "backfill");
  CHECK(b.start_s == std::vector<double>{0, 100, 2}); // C ends at 52 <= 100: backfilled
  // A C of 99 s would end at 101, after the reservation, and the head leaves no spare node: not backfilled.
  const auto late = run(one_pool(4), {job(0, 2, 100), job(1, 4, 50), job(2, 2, 99)}, "backfill");
  CHECK(late.start_s == std::vector<double>{0, 100, 150});
  // With a spare node at the reservation (pool of 5), a long 1-node job may run past it.
  const auto spare = run(one_pool(5), {job(0, 2, 100), job(1, 4, 50), job(2, 1, 500)}, "backfill");
  CHECK(spare.start_s == std::vector<double>{0, 100, 2});
}

TEST_CASE("priority: the urgent job overtakes the earlier one; ties keep submit order", "[cluster]")
{
  const auto r = run(one_pool(4), {job(0, 4, 100), job(1, 4, 10, 0), job(2, 4, 20, 5), job(3, 4, 5, 5)}, "priority");
  CHECK(r.start_s == std::vector<double>{0, 125, 100, 120});
  const auto f = run(one_pool(4), {job(0, 4, 100), job(1, 4, 10, 0), job(2, 4, 20, 5), job(3, 4, 5, 5)}, "fifo");
  CHECK(f.start_s == std::vector<double>{0, 100, 110, 130});
}

TEST_CASE("unknown scheduler names fail listing the valid ones", "[cluster]")
{
  CHECK_THROWS_WITH(cluster::make_scheduler("sjf"), Catch::Contains("valid: fifo, backfill, priority"));
}

TEST_CASE("energy over the period integrates running jobs' power and idle nodes'; utilisation closed form", "[cluster]")
{
  // 2 nodes idling at 100 W; one 1-node job of 1,000 W for 10 s; period 20 s.
  const auto r = run(one_pool(2, 100), {job(0, 1, 10, 0, 1000)}, "fifo", 20);
  CHECK(r.energy_j == Approx(1000 * 10 + 100 * 1 * 10 + 100 * 2 * 10));
  CHECK(r.busy_accelerator_s == Approx(1 * 8 * 10));
  REQUIRE(r.samples.size() >= 2);
  CHECK(r.samples.front().power_w == Approx(1100));
}

TEST_CASE("node failures take nodes away: count near nodes x rate x time; a full-pool job waits for repairs",
          "[cluster]")
{
  // 100 nodes, 1e-3 failures per node-second, instant repair: Poisson(1,000 per 10,000 s).
  std::vector<QueuePool> pools{QueuePool{"p", 100, 8, 0, 1e-3, 1e-9}};
  const auto r = cluster::run_queue(pools, {QueueJob{0, 0, 1, 0, 1, 0}}, "fifo", 1e4, 7, true);
  INFO("failures " << r.failures[0]);
  CHECK(std::abs(r.failures[0] - 1000.0) < 4 * std::sqrt(1000.0));
  // Same seed, same history; failures off: none.
  CHECK(cluster::run_queue(pools, {QueueJob{0, 0, 1, 0, 1, 0}}, "fifo", 1e4, 7, true).failures == r.failures);
  CHECK(cluster::run_queue(pools, {QueueJob{0, 0, 1, 0, 1, 0}}, "fifo", 1e4, 7, false).failures[0] == 0);
  // A pool of 2 nodes that fail often and take 1,000 s to repair: a 2-node job submitted later starts only
  // when both are up, and never on a down node.
  std::vector<QueuePool> flaky{QueuePool{"p", 2, 8, 0, 1e-3, 1000}};
  const auto q = cluster::run_queue(flaky, {QueueJob{0, 5000, 2, 0, 10, 0}}, "fifo", 1e4, 11, true);
  CHECK(q.start_s[0] >= 5000);
  for (const auto& s : q.samples)
    CHECK(s.busy_nodes[0] + s.down_nodes[0] <= 2 + s.down_nodes[0]);
}

TEST_CASE("cluster file: strict keys and every error at the cluster file's JSON path", "[cluster]")
{
  auto with = [](auto edit) {
    json d = cluster_file();
    edit(d);
    return error_of(d);
  };
  CHECK_THAT(with([](json& d) { d["jobs"][0]["pool"] = "a100"; }),
             Catch::StartsWith("/jobs/0/pool: unknown pool \"a100\"; the pools are h800, ascend"));
  CHECK_THAT(with([](json& d) { d["jobs"][1]["nodez"] = 2; }), Catch::StartsWith("/jobs/1"));
  CHECK_THAT(with([](json& d) { d["jobs"][0]["nodes"] = 9; }), Catch::StartsWith("/jobs/0/nodes: 9 nodes"));
  CHECK_THAT(with([](json& d) { d["queue"]["scheduler"] = "sjf"; }), Catch::StartsWith("/queue/scheduler"));
  CHECK_THAT(with([](json& d) { d["queue"].erase("period"); }), Catch::StartsWith("/queue/period"));
  CHECK_THAT(with([](json& d) { d["cluster"]["pools"][1]["accelerator"] = "B300"; }),
             Catch::StartsWith("/cluster/pools/1/accelerator"));
  CHECK_THAT(with([](json& d) { d["jobs"][1]["parallelism"]["dp"] = 3; }), Catch::StartsWith("/jobs/1/"));
  CHECK_THAT(with([](json& d) { d["jobs"][1]["training"]["precison"] = "bf16"; }),
             Catch::StartsWith("/jobs/1/training"));
  CHECK_THAT(with([](json& d) { d["jobs"][1]["name"] = "a"; }), Catch::StartsWith("/jobs/1/name"));
  CHECK_THAT(with([](json& d) { d["jobs"] = json::array(); }), Catch::StartsWith("/jobs"));
}

TEST_CASE("cluster run: one configuration simulated once, run time follows tokens, report deterministic",
          "[sim][cluster]")
{
  const auto& cat = scenario::Catalog::instance();
  const auto spec = cluster::parse_cluster_spec(cluster_file(), cat);
  const auto o = cli::run_cluster(spec, cat);
  CHECK(o.configurations == 1); // a and b differ only in tokens
  REQUIRE(o.jobs.size() == 2);
  CHECK(o.jobs[0].step_time_s == o.jobs[1].step_time_s);
  CHECK(o.jobs[1].run_s / o.jobs[0].run_s == Approx(2.0).epsilon(0.05));
  CHECK(o.jobs[0].wait_s == 0);
  CHECK(o.jobs[1].start_s == o.jobs[1].submit_s); // 2 + 2 nodes fit the pool of 4
  CHECK(o.accelerators == 64);
  CHECK(o.carbon_tco2e == Approx(o.energy_mwh * 0.5306));
  CHECK(o.utilisation > 0);
  CHECK(o.utilisation < 1);
  const auto again = cli::run_cluster(cluster::parse_cluster_spec(cluster_file(), cat), cat);
  CHECK(cluster::to_json(o).dump() == cluster::to_json(again).dump());
  CHECK(cluster::to_csv(o) == cluster::to_csv(again));
  const auto html = cluster::to_html(o);
  CHECK_THAT(html, Catch::Contains("Utilisation over time"));
  CHECK_THAT(html, Catch::Contains("Power over time"));
}

TEST_CASE("a job that can never find its nodes up fails naming it instead of hanging", "[cluster]")
{
  // 1,000 nodes failing at 2e-5 per node-second for 1,000 s: from steady state on about 20 are down
  // (P(none down) ~ e^-20), so a job of all 1,000 submitted then never starts; the bound on events turns that
  // into an error.
  std::vector<QueuePool> pools{QueuePool{"p", 1000, 8, 0, 2e-5, 1e3}};
  CHECK_THROWS_WITH(cluster::run_queue(pools, {QueueJob{0, 1e5, 1000, 0, 1, 0}}, "fifo", 100, 1, true, 20000),
                    Catch::StartsWith("/jobs/0/nodes: 1000 nodes of pool \"p\" are never all up"));
}
