// The distributed optimizer's parameter all-gathers with an interleaved pipeline and overlap_param_gather
// (docs/at-scale.md#the-parameter-all-gather-before-the-forward): a chunk's first forward waits for its own
// parameters, the first chunk's all-gather is exposed at the start of the step.
#include <catch2/catch.hpp>

#include "RunUtil.hpp"
#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/collective/Protocol.hpp"
#include "trainsim/workload/Memory.hpp"

using namespace trainsim;
using workload::OpKind;

namespace {

/// gpt3-1.7b (24 layers) on pp 2, vpp 2 (6 layers per chunk), dp 4, one accelerator per node on one switch;
/// the alpha-beta collectives and no jitter or host overhead, so that the all-gather has a closed form.
scenario::Scenario interleaved(const std::string& nic, bool overlap = true, int vpp = 2)
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(8, 1, nic, "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1},
                        {"pp", 2},
                        {"dp", 4},
                        {"vpp", vpp},
                        {"zero_stage", 1},
                        {"overlap_grad_reduce", true},
                        {"overlap_param_gather", overlap}};
    j["training"]["global_batch_size"] = 4 * 8;
    j["training"]["micro_batch_size"] = 1;
    j["simulation"]["collective_efficiency"] = false;
    j["simulation"]["variability"] = false;
    j["simulation"]["host_overhead"] = false;
  });
}

cli::RunOutput run(const scenario::Scenario& s, sim::Fidelity f = sim::Fidelity::automatic)
{
  return test::run_traced(s, f);
}

/// The ring all-gather of `bytes` per rank over the dp members of a stage, alpha-beta bound (closed form).
double ring_all_gather(const scenario::Scenario& s, double bytes)
{
  const int dp = s.parallelism.dp;
  return test::ring_alpha_beta(s, dp, (dp - 1.0) / dp * bytes);
}

} // namespace

TEST_CASE("interleaved overlap_param_gather: chunks 0 and 1 gathered at the start, each waited for before its "
          "first forward, chunk c+1 dispatched at chunk c's",
          "[workload][param-gather]")
{
  const auto s = interleaved("100Gbps");
  const auto out = run(s);
  const auto shape = workload::ModelShape::of(s.model);
  for (int stage = 0; stage < 2; ++stage) {
    const auto& ops = out.workload.stages[static_cast<size_t>(stage)].ops;
    REQUIRE(ops.size() > 4);
    // The first two ops: the gathers of chunks 0 and 1, not waited for there, each a chunk's 16-bit weights.
    for (int c = 0; c < 2; ++c) {
      const auto& g = ops[static_cast<size_t>(c)];
      CHECK(g.kind == OpKind::param_gather);
      CHECK(g.chunk == c);
      CHECK(g.steps == 1);
      CHECK(g.bytes == Approx(2.0 * workload::stage_params_per_rank(s, shape, stage, c)).epsilon(1e-12));
    }
    // Every chunk's first forward compute is preceded by a wait for it; chunk 0's leaves chunk 1's job pending.
    int waits = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind != OpKind::grad_wait || ops[i].pass != workload::Pass::forward)
        continue;
      ++waits;
      CHECK(ops[i].steps == (ops[i].chunk == 0 ? 1 : 0));
      size_t k = i + 1;
      while (k < ops.size() && ops[k].kind != OpKind::compute && ops[k].kind != OpKind::tp_comm)
        ++k;
      REQUIRE(k < ops.size());
      CHECK(ops[k].pass == workload::Pass::forward);
      CHECK(ops[k].chunk == ops[i].chunk);
    }
    CHECK(waits == 2);
    // No gather after the optimizer any more: the step's last op is the optimizer's.
    CHECK(ops.back().kind == OpKind::optimizer);
  }
  // Without the overlap the gather of the whole stage is waited for after the optimizer, as before.
  const auto plain = run(interleaved("100Gbps", false));
  const auto& last = plain.workload.stages[0].ops.back();
  CHECK(last.kind == OpKind::param_gather);
  CHECK(last.steps == 0);
}

TEST_CASE("the first chunk's all-gather is exposed at the start of the step: its ring closed form",
          "[model][sim][param-gather]")
{
  for (const char* nic : {"100Gbps", "25Gbps"}) {
    const auto s = interleaved(nic);
    const auto out = run(s);
    const auto shape = workload::ModelShape::of(s.model);
    const double expected = ring_all_gather(s, 2.0 * workload::stage_params_per_rank(s, shape, 0, 0));
    const auto& tr = out.sim.trace;
    const sim::TraceEvent* wait = nullptr;
    const sim::TraceEvent* gather = nullptr;
    for (const auto& e : tr.events) {
      if (e.stage != 0)
        continue;
      if (!wait && e.lane == 0 && e.kind == "dp_comm")
        wait = &e;
      if (!gather && e.lane == 1 && e.name.find("all_gather") != std::string::npos)
        gather = &e;
    }
    REQUIRE(wait);
    REQUIRE(gather);
    INFO(nic << ": wait " << wait->end_s - wait->start_s << " s, closed form " << expected << " s");
    CHECK(wait->start_s == Approx(tr.start_s).margin(1e-9));
    CHECK(wait->chunk == 0);
    CHECK(gather->end_s - gather->start_s == Approx(expected).epsilon(1e-6));
    CHECK(wait->end_s - wait->start_s == Approx(expected).epsilon(1e-6));
    // The first stage's first forward starts once its parameters are there.
    for (const auto& e : tr.events)
      if (e.stage == 0 && e.lane == 0 && e.kind == "compute") {
        CHECK(e.start_s >= wait->end_s - 1e-9);
        break;
      }
  }
}

TEST_CASE("the parameter all-gathers keep full and reduced fidelity equal", "[model][sim][param-gather][fidelity]")
{
  for (const char* nic : {"100Gbps", "25Gbps"}) {
    const auto s = interleaved(nic);
    const auto full = run(s, sim::Fidelity::full), reduced = run(s, sim::Fidelity::reduced);
    INFO(nic << ": full " << full.sim.step_time_s << " s, reduced " << reduced.sim.step_time_s << " s");
    CHECK(full.sim.fidelity == "full");
    CHECK(reduced.sim.fidelity == "reduced");
    CHECK(reduced.sim.step_time_s == Approx(full.sim.step_time_s).epsilon(1e-6));
    CHECK(reduced.metrics.breakdown.dp_comm == Approx(full.metrics.breakdown.dp_comm).epsilon(1e-6).margin(1e-9));
  }
}

TEST_CASE("waiting for the parameters costs time: the exposed all-gather slows the step on a slow network",
          "[model][sim][param-gather]")
{
  // 25 Gb/s: a chunk's all-gather outlasts the forward passes between two chunks' first forwards.
  const auto slow = run(interleaved("25Gbps")), fast = run(interleaved("400Gbps"));
  CHECK(slow.metrics.breakdown.dp_comm > fast.metrics.breakdown.dp_comm);
  CHECK(slow.sim.step_time_s > fast.sim.step_time_s);
}
