#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/report/ChromeTrace.hpp"
#include "trainsim/report/Html.hpp"
#include "trainsim/report/Report.hpp"

using namespace trainsim;
using nlohmann::ordered_json;

namespace {

/// The default scenario with plain 1F1B (vpp 1) on pp 4.
scenario::Scenario one_f_one_b_pp4()
{
  return test::scenario_with([](nlohmann::json& j) {
    j["parallelism"]["pp"] = 4;
    j["parallelism"]["vpp"] = 1;
  });
}

struct Traced {
  scenario::Scenario s;
  cli::RunOutput out;
  ordered_json trace;
};

const Traced& traced()
{
  static const Traced t = [] {
    Traced r{one_f_one_b_pp4(), {}, {}};
    sim::SimOptions o;
    o.trace_step = 0;
    r.out = cli::run_scenario(r.s, scenario::Catalog::instance(), o);
    r.trace = report::to_chrome_trace(r.s, r.out.sim.trace);
    return r;
  }();
  return t;
}

/// The compute ops of a stage's rank track, in time order, as 'F'/'B' per micro-batch (a backward split
/// into gradient buckets is one op).
std::string pass_sequence(const ordered_json& trace, int stage)
{
  std::vector<const ordered_json*> xs;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["pid"] == stage + 1 && e["tid"] == 0 && e["cat"] == "compute")
      xs.push_back(&e);
  std::stable_sort(xs.begin(), xs.end(), [](const ordered_json* a, const ordered_json* b) {
    return (*a)["ts"].get<double>() < (*b)["ts"].get<double>();
  });
  std::string seq;
  int last_mb = -1;
  char last = 0;
  for (auto* e : xs) {
    const char p = (*e)["args"]["pass"] == "forward" ? 'F' : 'B';
    const int mb = (*e)["args"]["microbatch"].get<int>();
    if (p == last && mb == last_mb)
      continue;
    seq += p;
    last = p;
    last_mb = mb;
  }
  return seq;
}

} // namespace

TEST_CASE("a traced pp=4 1F1B step shows warm-up, steady and cool-down phases", "[sim][trace]")
{
  const auto& t = traced();
  const int pp = 4, m = static_cast<int>(t.s.micro_batches_per_replica());
  REQUIRE(m >= pp);
  for (int stage = 0; stage < pp; ++stage) {
    const std::string seq = pass_sequence(t.trace, stage);
    INFO("stage " << stage << ": " << seq);
    REQUIRE(seq.size() == static_cast<size_t>(2 * m));
    // Megatron-LM's 1F1B: a warm-up of pp - 1 - stage forwards, a steady phase of one forward then one
    // backward, and a cool-down of pp - 1 - stage backwards.
    const int warmup = pp - 1 - stage;
    std::string expected(static_cast<size_t>(warmup), 'F');
    for (int i = 0; i < m - warmup; ++i)
      expected += "FB";
    expected += std::string(static_cast<size_t>(warmup), 'B');
    CHECK(seq == expected);
  }
  // Bubbles are explicit: the last stage waits for the first activation, stage 0 waits in the cool-down.
  std::map<int, double> bubble;
  std::map<int, std::vector<std::pair<double, std::string>>> firsts;
  for (const auto& e : t.trace["traceEvents"])
    if (e["ph"] == "X" && e["tid"] == 0) {
      if (e["cat"] == "bubble")
        bubble[e["pid"].get<int>() - 1] += e["dur"].get<double>();
      firsts[e["pid"].get<int>() - 1].emplace_back(e["ts"].get<double>(), e["cat"].get<std::string>());
    }
  for (auto& [stage, v] : firsts)
    std::sort(v.begin(), v.end());
  CHECK(firsts[3].front().second == "bubble");
  // Stage 0 launches its first forward (after the host's launch overhead, docs/at-scale.md) and computes.
  CHECK(firsts[0].front().second == "host");
  CHECK(firsts[0].at(1).second == "compute");
  for (int stage = 0; stage < pp; ++stage)
    CHECK(bubble[stage] > 0);
  // The trace's bubbles are the report's: stage 3's first wait is the fill time of three forward passes.
  CHECK(bubble[0] / 1e6 == Approx(t.out.sim.stages[0].bubble).epsilon(1e-6));
}

TEST_CASE("the trace is valid trace-event JSON with named tracks that tile the step", "[sim][trace]")
{
  const auto& t = traced();
  const auto& j = t.trace;
  REQUIRE(j.contains("traceEvents"));
  REQUIRE(j["traceEvents"].is_array());
  CHECK(j["displayTimeUnit"] == "ms");
  const double step_us = t.out.sim.step_times_s.at(0) * 1e6;
  std::set<std::pair<int, int>> named_threads, used_threads;
  std::set<int> named_processes, counter_pids;
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> spans;
  std::set<std::string> kinds, tiers;
  for (const auto& e : j["traceEvents"]) {
    REQUIRE(e.contains("ph"));
    REQUIRE(e.contains("pid"));
    REQUIRE(e["pid"].is_number_integer());
    REQUIRE(e["name"].is_string());
    const std::string ph = e["ph"];
    if (ph == "M") {
      if (e["name"] == "thread_name")
        named_threads.insert({e["pid"].get<int>(), e["tid"].get<int>()});
      if (e["name"] == "process_name")
        named_processes.insert(e["pid"].get<int>());
      CHECK(e["args"].is_object());
    } else if (ph == "X") {
      const double ts = e["ts"], dur = e["dur"];
      CHECK(ts >= 0);
      CHECK(dur >= 0);
      CHECK(ts + dur <= step_us + 1e-3);
      used_threads.insert({e["pid"].get<int>(), e["tid"].get<int>()});
      spans[{e["pid"].get<int>(), e["tid"].get<int>()}].emplace_back(ts, ts + dur);
      kinds.insert(e["cat"].get<std::string>());
    } else if (ph == "C") {
      counter_pids.insert(e["pid"].get<int>());
      tiers.insert(e["name"].get<std::string>());
      const double u = e["args"]["utilisation_percent"];
      CHECK(u >= 0);
      CHECK(u <= 100.0 + 1e-6);
    } else {
      FAIL("unexpected phase " << ph);
    }
  }
  for (const auto& th : used_threads) {
    CHECK(named_threads.count(th) == 1);
    CHECK(named_processes.count(th.first) == 1);
  }
  for (int pid : counter_pids)
    CHECK(named_processes.count(pid) == 1);
  CHECK(tiers == std::set<std::string>{"scale_up", "nic", "leaf_uplink"});
  for (const char* k : {"compute", "tp_comm", "pp_comm", "bubble", "dp_comm", "optimizer", "dp_stream"})
    CHECK(kinds.count(k) == 1);
  // A rank's track never overlaps itself and, gaps included, covers the whole step: every instant of a
  // stage's step is compute, communication, bubble or optimizer.
  for (auto& [track, v] : spans) {
    std::sort(v.begin(), v.end());
    double covered = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0)
        CHECK(v[i].first >= v[i - 1].second - 1e-3);
      covered += v[i].second - v[i].first;
    }
    if (track.second == 0)
      CHECK(covered == Approx(step_us).epsilon(1e-9));
  }
}

TEST_CASE("recording a trace does not change the simulated results", "[sim][trace]")
{
  const auto& t = traced();
  const auto plain = cli::run_scenario(t.s, scenario::Catalog::instance());
  CHECK(plain.sim.trace.step == -1);
  CHECK(report::to_json_text(t.s, plain.metrics) == report::to_json_text(t.s, t.out.metrics));
}

TEST_CASE("the HTML report has every section, inline SVG and nothing external", "[sim][html]")
{
  const auto& t = traced();
  const std::string page = report::to_html(report::to_json(t.s, t.out.metrics), &t.out.sim.trace);
  for (const char* id : {"id=\"summary\"", "id=\"scenario\"", "id=\"breakdown\"", "id=\"timeline\"", "id=\"energy\"",
                         "id=\"memory\"", "id=\"fields\"", "<svg", "energy breakdown", "Carbon by component"})
    CHECK(page.find(id) != std::string::npos);
  for (const char* banned : {"<script", "src=\"http", "href=\"http", "@import", "url("})
    CHECK(page.find(banned) == std::string::npos);
}
