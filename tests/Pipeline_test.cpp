#include <catch2/catch.hpp>

#include <array>
#include <map>
#include <set>
#include <tuple>

#include "../src/scenario/LayerSplit.hpp"
#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"
#include "trainsim/workload/Program.hpp"
#include "trainsim/workload/ProgramCheck.hpp"

using namespace trainsim;
using workload::StepKind;

namespace {

/// A pipeline whose stages are equal: a model with a tiny vocabulary (embedding and logits negligible),
/// one node of 8 A100 on NVLink (pipeline transfers negligible), ZeRO-1, tp 1.
scenario::Scenario clean(int pp, int dp, int m, const std::function<void(nlohmann::json&)>& edit = {})
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(1, 8, "200Gbps", "1us");
    j["model"] = {{"name", "equal-stages"}, {"layers", 16},       {"hidden_size", 4096},
                  {"attention_heads", 32},  {"kv_heads", 32},     {"ffn_hidden_size", 16384},
                  {"vocab_size", 512},      {"seq_length", 2048}, {"activation", "gelu"},
                  {"dropout", 0.0}};
    j["training"]["global_batch_size"] = dp * m;
    j["training"]["recompute"] = "none";
    j["parallelism"] = {{"tp", 1}, {"pp", pp}, {"dp", dp}, {"zero_stage", 1}};
    if (edit)
      edit(j);
  });
}

/// Every (micro-batch, chunk) of every stage passes F, then B, then W (or F then a whole backward).
void check_complete(const std::vector<std::vector<workload::PipelineStep>>& orders, int vpp, int m, bool split)
{
  for (const auto& order : orders) {
    std::map<std::tuple<int, int, int>, int> seen; // (kind, mb, chunk) -> position
    for (size_t i = 0; i < order.size(); ++i) {
      const auto& st = order[i];
      CHECK(seen.emplace(std::make_tuple(static_cast<int>(st.kind), st.microbatch, st.chunk), static_cast<int>(i))
                .second);
    }
    CHECK(seen.size() == static_cast<size_t>((split ? 3 : 2) * m * vpp));
    for (int mb = 0; mb < m; ++mb)
      for (int c = 0; c < vpp; ++c) {
        const int f = seen.at({static_cast<int>(StepKind::forward), mb, c});
        const StepKind bk = split ? StepKind::backward_input : StepKind::backward;
        const int b = seen.at({static_cast<int>(bk), mb, c});
        CHECK(f < b);
        if (split)
          CHECK(b < seen.at({static_cast<int>(StepKind::backward_weight), mb, c}));
      }
  }
}

/// DualPipe's orders replayed with their dependencies on passes of fixed length per chunk (f, b, w; an
/// overlapped F&B pair takes f + b + w, its compute): the makespan minus a rank's busy time m (f + b + w),
/// over the makespan. `peak`: the most chunk activations a rank holds (forwards whose B has not run).
double dualpipe_unit_bubble(int pp, int m, double f, double b, double w, int* peak = nullptr)
{
  const auto orders = workload::schedule_orders("dualpipe", pp, 1, m);
  auto kind_of = [](const workload::PipelineStep& st) {
    return st.kind == StepKind::forward ? 0 : st.kind == StepKind::backward_weight ? 2 : 1;
  };
  std::map<std::tuple<int, int, int, int>, double> done; // (kind, mb, chunk, model stage) -> end
  std::vector<double> free(static_cast<size_t>(pp), 0.0);
  std::vector<size_t> next(static_cast<size_t>(pp), 0);
  auto ready_at = [&](int s, const workload::PipelineStep& st, double& ready) {
    const int k = st.chunk == 0 ? s : pp - 1 - s; // the model stage this chunk holds
    auto need = [&](int kind, int kk) {
      auto it = done.find({kind, st.microbatch, st.chunk, kk});
      if (it == done.end())
        return false;
      ready = std::max(ready, it->second);
      return true;
    };
    const int kind = kind_of(st);
    if (kind == 0)
      return k == 0 || need(0, k - 1);
    if (kind == 1)
      return need(0, k) && (k == pp - 1 || need(1, k + 1));
    return need(1, k);
  };
  auto finish = [&](int s, const workload::PipelineStep& st, double end) {
    done[{kind_of(st), st.microbatch, st.chunk, st.chunk == 0 ? s : pp - 1 - s}] = end;
  };
  for (bool progress = true; progress;) {
    progress = false;
    for (int s = 0; s < pp; ++s) {
      const auto& order = orders[static_cast<size_t>(s)];
      size_t& i = next[static_cast<size_t>(s)];
      if (i == order.size())
        continue;
      const auto& st = order[i];
      double ready = free[static_cast<size_t>(s)];
      const bool pair = st.overlapped;
      if (!ready_at(s, st, ready) || (pair && !ready_at(s, order[i + 1], ready)))
        continue;
      const double dur = pair                                  ? f + b + w
                         : st.kind == StepKind::forward        ? f
                         : st.kind == StepKind::backward_input ? b
                         : st.kind == StepKind::backward       ? b + w
                                                               : w;
      finish(s, st, ready + dur);
      if (pair)
        finish(s, order[++i], ready + dur);
      ++i;
      free[static_cast<size_t>(s)] = ready + dur;
      progress = true;
    }
  }
  double end = 0;
  for (int s = 0; s < pp; ++s) {
    REQUIRE(next[static_cast<size_t>(s)] == orders[static_cast<size_t>(s)].size()); // no deadlock
    end = std::max(end, free[static_cast<size_t>(s)]);
  }
  if (peak) {
    *peak = 0;
    for (const auto& order : orders) {
      int held = 0;
      for (const auto& st : order) {
        held += st.kind == StepKind::forward ? 1 : st.kind == StepKind::backward_weight ? 0 : -1;
        *peak = std::max(*peak, held);
      }
    }
  }
  return (end - m * (f + b + w)) / end;
}

/// ZB-V's orders replayed with their dependencies on passes of fixed length per chunk (f, b, w), the chunks in
/// a V (chunk 0 of rank s is virtual stage s, chunk 1 is 2 pp - 1 - s): the makespan minus a rank's busy time
/// 2 m (f + b + w), over the makespan. `peak`: the most chunk activations a rank holds (forwards whose B has
/// not run).
double zb_v_unit_bubble(int pp, int m, double f, double b, double w, int* peak = nullptr)
{
  const auto orders = workload::schedule_orders("zb-v", pp, 2, m);
  std::map<std::tuple<int, int, int>, double> done; // (kind, mb, virtual stage) -> end
  std::vector<double> free(static_cast<size_t>(pp), 0.0);
  std::vector<size_t> next(static_cast<size_t>(pp), 0);
  const int V = 2 * pp;
  for (bool progress = true; progress;) {
    progress = false;
    for (int s = 0; s < pp; ++s) {
      const auto& order = orders[static_cast<size_t>(s)];
      size_t& i = next[static_cast<size_t>(s)];
      if (i == order.size())
        continue;
      const auto& st = order[i];
      const int v = st.chunk == 0 ? s : V - 1 - s;
      double ready = free[static_cast<size_t>(s)];
      auto need = [&](StepKind k, int vv) {
        auto it = done.find({static_cast<int>(k), st.microbatch, vv});
        if (it == done.end())
          return false;
        ready = std::max(ready, it->second);
        return true;
      };
      bool ok = true;
      if (st.kind == StepKind::forward && v > 0)
        ok = need(StepKind::forward, v - 1);
      if (st.kind == StepKind::backward_input)
        ok = need(StepKind::forward, v) && (v == V - 1 || need(StepKind::backward_input, v + 1));
      if (st.kind == StepKind::backward_weight)
        ok = need(StepKind::backward_input, v);
      if (!ok)
        continue;
      const double dur = st.kind == StepKind::forward ? f : st.kind == StepKind::backward_input ? b : w;
      done[{static_cast<int>(st.kind), st.microbatch, v}] = ready + dur;
      free[static_cast<size_t>(s)] = ready + dur;
      ++i;
      progress = true;
    }
  }
  double end = 0;
  for (int s = 0; s < pp; ++s) {
    REQUIRE(next[static_cast<size_t>(s)] == orders[static_cast<size_t>(s)].size()); // no deadlock
    end = std::max(end, free[static_cast<size_t>(s)]);
  }
  if (peak) {
    *peak = 0;
    for (const auto& order : orders) {
      int held = 0;
      for (const auto& st : order) {
        held += st.kind == StepKind::forward ? 1 : st.kind == StepKind::backward_input ? -1 : 0;
        *peak = std::max(*peak, held);
      }
    }
  }
  return (end - 2.0 * m * (f + b + w)) / end;
}

double measured_bubble(const cli::RunOutput& out)
{
  const auto& b = out.metrics.breakdown;
  return b.bubble / (b.bubble + b.compute);
}

} // namespace

TEST_CASE("schedule registry: every schedule runs each pass once, in dependency order", "[pipeline]")
{
  for (int pp : {1, 2, 4, 8})
    for (int m : {1, 3, 8, 16}) {
      check_complete(workload::schedule_orders("1f1b", pp, 1, m), 1, m, false);
      check_complete(workload::schedule_orders("zb-h1", pp, 1, m), 1, m, true);
      if (m % pp == 0 && pp > 1)
        check_complete(workload::schedule_orders("interleaved", pp, 2, m), 2, m, false);
      if (pp > 1 && m >= 2 * pp - 1)
        check_complete(workload::schedule_orders("zb-v", pp, 2, m), 2, m, true);
    }
  CHECK_THROWS_AS(workload::schedule_orders("gpipe", 4, 1, 8), trainsim::core::InvalidArgument);
  CHECK_THROWS_AS(workload::schedule_orders("zb-h1", 4, 2, 8), trainsim::core::InvalidArgument);
  CHECK_THROWS_AS(workload::schedule_orders("zb-v", 4, 1, 8), trainsim::core::InvalidArgument); // vpp 2 only
  CHECK_THROWS_AS(workload::schedule_orders("zb-v", 4, 2, 6), trainsim::core::InvalidArgument); // m < 2 pp - 1
  CHECK_THROWS_AS(workload::schedule_orders("zb-v", 1, 2, 6), trainsim::core::InvalidArgument); // pp 1
}

TEST_CASE("ZB-V: bubble of its order on unit passes against its closed form; memory as 1F1B", "[pipeline]")
{
  // Qi et al. 2024 (ZB-V): with F = B = W per chunk, every rank runs without a gap from its first pass on; the
  // only idle time of a synchronous step is the last rank's start, (p - 1) chunk forwards. The closed form
  // takes the rank's passes (two chunks), so a chunk's f = b = w = 1 is the rank's 2.
  for (int pp : {2, 4, 8, 16})
    for (int m : {2 * pp - 1, 2 * pp, 4 * pp, 8 * pp}) {
      INFO("pp " << pp << ", m " << m);
      int peak = 0;
      const double unit = zb_v_unit_bubble(pp, m, 1, 1, 1, &peak);
      const double want = workload::bubble_closed_form("zb-v", pp, 2, m, 2, 2, 2);
      CHECK(want == Approx((pp - 1.0) / (pp - 1.0 + 6.0 * m)));
      CHECK(unit == Approx(want).margin(1e-9));
      // A third of ZB-H1's (p-1) F of a whole stage, a sixth of 1F1B's, on the same ranks' passes.
      CHECK(unit < workload::bubble_closed_form("zb-h1", pp, 1, m, 2, 2, 2));
      CHECK(peak <= 2 * pp); // 1F1B's first stage: pp micro-batches of the rank's two chunks
      CHECK(workload::in_flight_microbatches("zb-v", pp, 2, pp - 1, m) == pp);
      // Unequal passes with the input-gradient backward at least the forward (a transformer's): exact.
      for (const auto& fbw : {std::array<double, 3>{1, 1.2, 0.8}, {1, 1.5, 0.5}, {0.8, 2, 1}, {1, 1, 1.4}}) {
        INFO("f " << fbw[0] << ", b " << fbw[1] << ", w " << fbw[2]);
        CHECK(zb_v_unit_bubble(pp, m, fbw[0], fbw[1], fbw[2]) ==
              Approx(workload::bubble_closed_form("zb-v", pp, 2, m, 2 * fbw[0], 2 * fbw[1], 2 * fbw[2])).margin(1e-9));
      }
    }
}

TEST_CASE("ZB-H1: bubble of its order on unit passes against the closed form", "[pipeline]")
{
  // The orders replayed with their dependencies on passes of fixed length: the makespan minus a stage's
  // busy time m (f+b+w) is the bubble.
  auto makespan_bubble = [](const std::string& name, int pp, int vpp, int m, double f, double b, double w) {
    const auto orders = workload::schedule_orders(name, pp, vpp, m);
    // Replay the orders with the dependencies to get the makespan.
    std::map<std::tuple<int, int, int>, double> done; // (kind, mb, v) -> end
    std::vector<double> free(static_cast<size_t>(pp), 0.0);
    std::vector<size_t> next(static_cast<size_t>(pp), 0);
    const int V = pp * vpp;
    auto v_of = [&](int s, int c) { return c * pp + s; };
    bool progress = true;
    while (progress) {
      progress = false;
      for (int s = 0; s < pp; ++s) {
        if (next[static_cast<size_t>(s)] == orders[static_cast<size_t>(s)].size())
          continue;
        const auto& st = orders[static_cast<size_t>(s)][next[static_cast<size_t>(s)]];
        const int v = v_of(s, st.chunk);
        double ready = free[static_cast<size_t>(s)];
        auto need = [&](int kind, int vv) {
          auto it = done.find({kind, st.microbatch, vv});
          if (it == done.end())
            return false;
          ready = std::max(ready, it->second);
          return true;
        };
        bool ok = true;
        if (st.kind == StepKind::forward && v > 0)
          ok = need(0, v - 1);
        if (st.kind == StepKind::backward_input || st.kind == StepKind::backward)
          ok = need(0, v) && (v == V - 1 || need(static_cast<int>(st.kind), v + 1));
        if (st.kind == StepKind::backward_weight)
          ok = need(2, v);
        if (!ok)
          continue;
        const double dur = (st.kind == StepKind::forward          ? f
                            : st.kind == StepKind::backward_input ? b
                            : st.kind == StepKind::backward       ? b + w
                                                                  : w) /
                           vpp;
        done[{static_cast<int>(st.kind), st.microbatch, v}] = ready + dur;
        free[static_cast<size_t>(s)] = ready + dur;
        ++next[static_cast<size_t>(s)];
        progress = true;
      }
    }
    double end = 0;
    for (double x : free)
      end = std::max(end, x);
    return (end - m * (f + b + w)) / end;
  };
  for (int pp : {2, 4, 8})
    for (int m : {pp, 2 * pp, 4 * pp}) {
      INFO("pp " << pp << ", m " << m);
      const double h1 = makespan_bubble("zb-h1", pp, 1, m, 1, 1, 1);
      CHECK(h1 == Approx(workload::bubble_closed_form("zb-h1", pp, 1, m, 1, 1, 1)).margin(1e-9));
      CHECK(h1 < workload::bubble_closed_form("1f1b", pp, 1, m, 1, 1, 1) * 0.5); // a third of 1F1B's
      CHECK(makespan_bubble("1f1b", pp, 1, m, 1, 1, 1) ==
            Approx(workload::bubble_closed_form("1f1b", pp, 1, m, 1, 1, 1)));
      // Unequal passes: (p-1)(F+B-W) still.
      CHECK(makespan_bubble("zb-h1", pp, 1, m, 1, 1.2, 0.8) ==
            Approx(workload::bubble_closed_form("zb-h1", pp, 1, m, 1, 1.2, 0.8)).margin(0.01));
    }
}

TEST_CASE("DualPipe: its order runs every pass once, both directions, in dependency order", "[pipeline]")
{
  for (int pp : {2, 4, 8, 16})
    for (int m : {2 * pp, 2 * pp + 2, 4 * pp, 120}) {
      INFO("pp " << pp << ", m " << m);
      const auto orders = workload::schedule_orders("dualpipe", pp, 1, m);
      REQUIRE(orders.size() == static_cast<size_t>(pp));
      for (const auto& order : orders) {
        std::map<std::tuple<int, int, int>, int> seen; // (kind, mb, chunk) -> position
        for (size_t i = 0; i < order.size(); ++i) {
          const auto& st = order[i];
          CHECK(seen.emplace(std::make_tuple(static_cast<int>(st.kind), st.microbatch, st.chunk), static_cast<int>(i))
                    .second);
          CHECK((st.microbatch >= 0 && st.microbatch < m / 2)); // m/2 micro-batches per direction
          if (st.overlapped) { // a pair: a forward and the whole backward of the other chunk
            REQUIRE(i + 1 < order.size());
            CHECK(st.kind == StepKind::forward);
            CHECK(order[i + 1].kind == StepKind::backward);
            CHECK(order[i + 1].chunk != st.chunk);
          }
        }
        for (int c = 0; c < 2; ++c)
          for (int mb = 0; mb < m / 2; ++mb) {
            const int fw = seen.at({static_cast<int>(StepKind::forward), mb, c});
            const auto whole = seen.find({static_cast<int>(StepKind::backward), mb, c});
            if (whole != seen.end()) {
              CHECK(fw < whole->second);
              CHECK(seen.count({static_cast<int>(StepKind::backward_weight), mb, c}) == 0);
            } else {
              const int bi = seen.at({static_cast<int>(StepKind::backward_input), mb, c});
              CHECK(fw < bi);
              CHECK(bi < seen.at({static_cast<int>(StepKind::backward_weight), mb, c}));
            }
          }
      }
    }
  CHECK_THROWS_AS(workload::schedule_orders("dualpipe", 3, 1, 12), trainsim::core::InvalidArgument); // pp odd
  CHECK_THROWS_AS(workload::schedule_orders("dualpipe", 4, 1, 6), trainsim::core::InvalidArgument);  // m < 2 pp
  CHECK_THROWS_AS(workload::schedule_orders("dualpipe", 4, 1, 9), trainsim::core::InvalidArgument);  // m odd
  CHECK_THROWS_AS(workload::schedule_orders("dualpipe", 4, 2, 8), trainsim::core::InvalidArgument);  // vpp
}

TEST_CASE("DualPipe: bubble of its order on unit passes against DeepSeek-V3 Table 2", "[pipeline]")
{
  // Table 2 (arXiv:2412.19437): bubble (PP/2 - 1)(F&B + B - 3W), B the whole backward; activations PP + 1
  // chunks; against 1F1B's (PP - 1)(F + B) and ZB1P's (PP - 1)(F + B - 2W).
  for (int pp : {4, 8, 16})
    for (int m : {2 * pp, 4 * pp, 8 * pp}) {
      INFO("pp " << pp << ", m " << m);
      int peak = 0;
      const double unit = dualpipe_unit_bubble(pp, m, 1, 1, 1, &peak);
      const double want = workload::bubble_closed_form("dualpipe", pp, 1, m, 1, 1, 1);
      CHECK(want == Approx((pp / 2.0 - 1) * 2 / ((pp / 2.0 - 1) * 2 + 3.0 * m)));
      CHECK(unit == Approx(want).margin(1e-9));
      CHECK(unit < workload::bubble_closed_form("zb-h1", pp, 1, m, 1, 1, 1));
      CHECK(peak <= pp + 1);
      CHECK(workload::in_flight_microbatches("dualpipe", pp, 1, 0, m) == Approx((pp + 1) / 2.0));
    }
}

TEST_CASE("closed forms: interleaved (p-1)/(v m + p - 1), zero-bubble and 1F1B", "[pipeline]")
{
  for (int p : {2, 4, 8})
    for (int v : {1, 2, 4})
      for (int m : {8, 32}) {
        const double want = (p - 1.0) / (v * m + p - 1.0);
        CHECK(workload::bubble_closed_form(v > 1 ? "interleaved" : "1f1b", p, v, m, 1, 1, 1) == Approx(want));
      }
  // Qi et al. 2024 Table 2 with F = B = W: ZB-H1 (p-1)(F+B-W) is a third of 1F1B's (p-1)(F+B+W).
  CHECK(workload::bubble_closed_form("zb-h1", 8, 1, 24, 1, 1, 1) == Approx(7.0 / (7.0 + 72.0)));
}

TEST_CASE("simulated bubble of every schedule against its closed form within one point", "[pipeline][sim]")
{
  const auto& cat = scenario::Catalog::instance();
  struct Case {
    std::string schedule;
    int pp, vpp, m;
  };
  for (const auto& c : std::vector<Case>{{"1f1b", 4, 1, 8},
                                         {"interleaved", 4, 2, 8},
                                         {"interleaved", 4, 4, 16},
                                         {"zb-h1", 4, 1, 8},
                                         {"zb-h1", 8, 1, 16},
                                         {"zb-v", 4, 2, 8},
                                         {"zb-v", 8, 2, 16},
                                         {"dualpipe", 4, 1, 8},
                                         {"dualpipe", 8, 1, 16}}) {
    INFO(c.schedule << " pp " << c.pp << " vpp " << c.vpp << " m " << c.m);
    auto s = clean(c.pp, 8 / c.pp, c.m, [&](nlohmann::json& j) {
      j["parallelism"]["schedule"] = c.schedule;
      j["parallelism"]["vpp"] = c.vpp;
    });
    const auto out = cli::run_scenario(s, cat);
    CHECK(out.metrics.pipeline.schedule == c.schedule);
    CHECK(measured_bubble(out) == Approx(out.metrics.pipeline.bubble_closed_form).margin(0.01));
    const auto j = report::to_json(s, out.metrics);
    CHECK(j["pipeline"]["schedule"] == c.schedule);
    CHECK(j["pipeline"]["layers_per_virtual_stage"].size() == static_cast<size_t>(c.pp * c.vpp));
  }
}

TEST_CASE("zero-bubble schedules beat 1F1B on the same job", "[pipeline][sim]")
{
  const auto& cat = scenario::Catalog::instance();
  std::map<std::string, double> t;
  for (const char* name : {"1f1b", "zb-h1", "interleaved", "zb-v"})
    t[name] = cli::run_scenario(clean(4, 2, 8,
                                      [&](nlohmann::json& j) {
                                        j["parallelism"]["schedule"] = name;
                                        j["parallelism"]["vpp"] =
                                            std::string(name) == "interleaved" || std::string(name) == "zb-v" ? 2 : 1;
                                      }),
                                cat)
                  .sim.step_time_s;
  CHECK(t["zb-h1"] < t["1f1b"]);
  CHECK(t["zb-v"] < t["zb-h1"]);
  CHECK(t["zb-v"] < t["interleaved"]);
}

TEST_CASE("full versus reduced fidelity within 1% for every schedule", "[pipeline][sim][scale]")
{
  const auto& cat = scenario::Catalog::instance();
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  for (const char* name : {"1f1b", "interleaved", "zb-h1", "zb-v", "dualpipe"}) {
    INFO(name);
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(4, 8, "200Gbps", "1us");
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["training"]["global_batch_size"] = 64;
      j["parallelism"] = {{"tp", 2},         {"pp", 4},         {"dp", 4}, {"sequence_parallel", true},
                          {"zero_stage", 1}, {"schedule", name}};
      if (std::string(name) == "interleaved" || std::string(name) == "zb-v")
        j["parallelism"]["vpp"] = 2;
    });
    auto a = cli::run_scenario(s, cat, full);
    auto b = cli::run_scenario(s, cat, reduced);
    CHECK(a.sim.fidelity == "full");
    CHECK(b.sim.fidelity == "reduced");
    CHECK(b.sim.step_time_s == Approx(a.sim.step_time_s).epsilon(0.01));
  }
}

TEST_CASE("uneven first and last stages with interleaving (Megatron-core semantics)", "[pipeline]")
{
  // Llama 3 405B: 126 layers on pp 16; first and last stage 6 layers, the 14 others 8 each, vpp 2.
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["cluster"]["nodes"] = 256;
    j["model"] = {{"preset", "llama3-405b"}, {"layers", 126}};
    j["training"]["global_batch_size"] = 512;
    j["parallelism"] = {{"tp", 8},
                        {"pp", 16},
                        {"dp", 16},
                        {"vpp", 2},
                        {"sequence_parallel", true},
                        {"zero_stage", 1},
                        {"first_stage_layers", 6},
                        {"last_stage_layers", 8}};
  });
  CHECK(s.parallelism.schedule == "interleaved");
  CHECK(s.stage_layers(0) == 6);
  CHECK(s.stage_layers(15) == 8);
  CHECK(s.stage_layers(7) == 8);
  CHECK(s.chunk_layers(0, 0) == std::pair<int, int>{0, 3});
  CHECK(s.chunk_layers(1, 0) == std::pair<int, int>{3, 4});
  // Chunk 1 of stage 0 is virtual stage 16: after the first round of 3 + 14 * 4 + 4 = 63 layers.
  CHECK(s.chunk_layers(0, 1) == std::pair<int, int>{63, 3});
  int total = 0;
  for (int st = 0; st < 16; ++st)
    total += s.stage_layers(st);
  CHECK(total == 126);
  const auto d = scenario::to_json(s);
  CHECK(d["parallelism"]["layers_per_virtual_stage"].size() == 32);
  // Counts that the stage's chunks cannot share name the uneven-split keys.
  try {
    test::scenario_with([](nlohmann::json& j) {
      j["parallelism"]["first_stage_layers"] = 12; // default: llama3-70b, 80 layers, pp 4, vpp 5
      j["parallelism"]["last_stage_layers"] = 18;  // the middle two stages 25 each
      j["parallelism"]["vpp"] = 5;
    });
    FAIL("no error");
  } catch (const core::ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("first_stage_layers") && Catch::Contains("multiple of vpp"));
  }
}

TEST_CASE("balanced split: DeepSpeed's partitioner counts the embedding and the output layer", "[pipeline]")
{
  CHECK(scenario::partition_balanced({1, 1, 1, 1}, 2) == std::vector<int>{2, 2});
  CHECK(scenario::partition_balanced({3, 1, 1, 1, 1, 3}, 3) == std::vector<int>{2, 3, 1}); // heaviest part 4
  CHECK(scenario::partition_balanced({1, 1, 1, 1, 1, 1, 1}, 7) == std::vector<int>(7, 1));
  CHECK(scenario::partition_balanced({1, 1}, 3).empty());
  // Pangu Ultra: 94 layers on pp 8, vpp 6 (48 virtual stages); the embedding and the output layer each
  // weigh about a layer, so the first and the last virtual stage hold one layer and the 46 others two.
  std::vector<double> w(94, 1.0);
  w.front() += 1.0;
  w.back() += 1.0;
  const auto parts = scenario::partition_balanced(w, 48);
  REQUIRE(parts.size() == 48);
  CHECK(parts.front() == 1);
  CHECK(parts.back() == 1);
  for (size_t i = 1; i + 1 < parts.size(); ++i)
    CHECK(parts[i] == 2);
}

TEST_CASE("balanced and listed splits parse, and impossible ones are refused naming the keys", "[pipeline]")
{
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["parallelism"]["vpp"] = 3; // 80 layers over 12 virtual stages: no even split
    j["parallelism"]["layer_split"] = "balanced";
  });
  int total = 0;
  for (int v : s.parallelism.layer_split)
    total += v;
  CHECK(total == 80);
  CHECK(s.parallelism.layer_split.size() == 12);
  // Embedding on virtual stage 0 and the tied output layer on the last: they get fewer layers.
  CHECK(s.parallelism.layer_split.front() < s.parallelism.layer_split[5]);
  auto listed = test::scenario_with([](nlohmann::json& j) {
    j["parallelism"]["vpp"] = 1;
    j["parallelism"]["layer_split"] = {19, 21, 21, 19};
  });
  CHECK(listed.stage_layers(1) == 21);
  CHECK(listed.chunk_layers(3, 0) == std::pair<int, int>{61, 19});
  auto refused = [](const std::function<void(nlohmann::json&)>& edit, const std::string& where,
                    const std::string& what) {
    try {
      test::scenario_with(edit);
      FAIL("no error");
    } catch (const core::ConfigError& e) {
      CHECK(e.pointer() == where);
      CHECK_THAT(e.what(), Catch::Contains(what));
    }
  };
  refused([](nlohmann::json& j) { j["parallelism"]["vpp"] = 3; }, "/parallelism/pp",
          "first_stage_layers / last_stage_layers");
  refused(
      [](nlohmann::json& j) {
        j["parallelism"]["layer_split"] = {20, 20, 20};
      },
      "/parallelism/layer_split", "lists 3 virtual stages, but pp*vpp is 20");
  refused([](nlohmann::json& j) { j["parallelism"]["schedule"] = "gpipe"; }, "/parallelism/schedule",
          "1f1b, interleaved, zb-h1");
  refused([](nlohmann::json& j) { j["parallelism"]["schedule"] = "zb-h1"; }, "/parallelism/schedule",
          "runs one model chunk per stage");
  refused([](nlohmann::json& j) { j["parallelism"]["schedule"] = "zb-v"; }, "/parallelism/schedule", "set vpp to 2");
  refused(
      [](nlohmann::json& j) {
        j["parallelism"]["schedule"] = "zb-v";
        j["parallelism"]["vpp"] = 2;
        j["training"]["global_batch_size"] =
            6 * j["parallelism"]["dp"].get<int>() * j["training"]["micro_batch_size"].get<int>();
      },
      "/parallelism/schedule", "at least 2*pp - 1");
}

TEST_CASE("Pangu Ultra and Llama 3 405B splits run with their bubble in the report", "[pipeline][sim]")
{
  // Issue 14: the bubble matches the closed form of the split that ran within one point. The balanced split
  // leaves the stages unequal (the embedding is counted as work but computes little, the output layer
  // computes much), so the slowest stage paces the steady state (PipelineSchedule.hpp, docs/pipeline.md).
  // Shortened runs of the two shapes (the split and the schedule are the point): 94 layers on pp 8, vpp 6,
  // and 126 layers on pp 16, vpp 2.
  const auto& cat = scenario::Catalog::instance();
  struct Case {
    int layers, pp, vpp, dp, nodes;
  };
  for (const auto& c : {Case{94, 8, 6, 1, 1}, Case{126, 16, 2, 1, 2}}) {
    INFO(c.layers << " layers, pp " << c.pp << ", vpp " << c.vpp);
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(c.nodes, 8, "200Gbps", "1us");
      j["model"] = {{"name", "split-shape"}, {"layers", c.layers}, {"hidden_size", 2048},
                    {"attention_heads", 16}, {"kv_heads", 8},      {"ffn_hidden_size", 4096},
                    {"vocab_size", 32000},   {"seq_length", 2048}, {"activation", "swiglu"}};
      j["training"]["global_batch_size"] = c.dp * 2 * c.pp;
      j["parallelism"] = {{"tp", 1},      {"pp", c.pp},      {"dp", c.dp},
                          {"vpp", c.vpp}, {"zero_stage", 1}, {"layer_split", "balanced"}};
    });
    const auto out = cli::run_scenario(s, cat);
    const auto j = report::to_json(s, out.metrics);
    CHECK(j["pipeline"]["schedule"] == "interleaved");
    CHECK(j["pipeline"]["layers_per_virtual_stage"].size() == static_cast<size_t>(c.pp * c.vpp));
    CHECK(j["pipeline"]["layers_per_stage"].size() == static_cast<size_t>(c.pp));
    const double closed = j["pipeline"]["bubble_fraction_closed_form"].get<double>();
    const double equal = workload::bubble_closed_form("interleaved", c.pp, c.vpp, 2 * c.pp, 1, 1, 1);
    CHECK(j["pipeline"]["stage_imbalance"].get<double>() > 1.0);
    CHECK(closed > equal); // the uneven stages add to the equal-stage (p-1)/(v m + p - 1)
    // The report's bubble (of the step) and the bubble over bubble + compute (tp 1: nothing else) agree.
    CHECK(j["pipeline"]["bubble_fraction"].get<double>() == Approx(closed).margin(0.01));
    CHECK(measured_bubble(out) == Approx(closed).margin(0.01));
  }
}

TEST_CASE("Llama 3's split: the first chunk holds only the embedding, the last only the output layer",
          "[pipeline][sim]")
{
  // arXiv:2407.21783 section 3.3.2: one layer fewer on the first and the last stage, so that the first model
  // chunk of the first stage has only the embedding and the last chunk of the last stage only the output layer.
  const auto& cat = scenario::Catalog::instance();
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(4, 8, "200Gbps", "1us");
    j["model"] = {{"name", "llama-split-shape"}, {"layers", 6},        {"hidden_size", 2048},
                  {"attention_heads", 16},       {"kv_heads", 8},      {"ffn_hidden_size", 4096},
                  {"vocab_size", 128256},        {"seq_length", 2048}, {"activation", "swiglu"}};
    j["training"]["global_batch_size"] = 64;
    j["parallelism"] = {{"tp", 1},  {"pp", 4},         {"dp", 8},
                        {"vpp", 2}, {"zero_stage", 1}, {"layer_split", {0, 1, 1, 1, 1, 1, 1, 0}}};
  });
  CHECK(s.chunk_layers(0, 0) == std::pair<int, int>{0, 0});
  CHECK(s.chunk_layers(0, 1) == std::pair<int, int>{3, 1});
  CHECK(s.chunk_layers(3, 1) == std::pair<int, int>{6, 0});
  CHECK(s.stage_layers(0) == 1);
  CHECK(s.stage_layers(1) == 2);
  const auto out = cli::run_scenario(s, cat);
  const auto j = report::to_json(s, out.metrics);
  // Stage 0 computes one layer and the embedding, stage 1 two layers.
  CHECK(j["stages"][0]["compute_s"].get<double>() < j["stages"][1]["compute_s"].get<double>());
  CHECK(j["step_time_s"].get<double>() > 0);
  // Reduced fidelity (one replica, one rail) stays within 1% of full with the empty end chunks.
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  const double tf = cli::run_scenario(s, cat, full).metrics.step_time_s;
  const double tr = cli::run_scenario(s, cat, reduced).metrics.step_time_s;
  CHECK(std::fabs(tr / tf - 1) < 0.01);
  // Only the first and the last virtual stage may be empty.
  try {
    test::scenario_with([](nlohmann::json& j) { j["parallelism"]["layer_split"] = {40, 0, 20, 20}; });
    FAIL("no error");
  } catch (const core::ConfigError& e) {
    CHECK(e.pointer() == "/parallelism/layer_split/1");
    CHECK_THAT(e.what(), Catch::Contains("only the first and the last may have none"));
  }
}

TEST_CASE("a pipeline send carries one rank's seq/cp tokens of the boundary activations", "[pipeline]")
{
  // Context parallelism: each rank holds seq/cp tokens of a micro-batch, so its stage-to-stage message is
  // micro_batch x seq/cp x hidden x 2 bytes (/ tp), not the whole sequence's.
  const auto& cal = scenario::Catalog::instance().calibration();
  const auto w1 = workload::build_workload(clean(4, 2, 4), cal);
  const auto w2 = workload::build_workload(clean(4, 1, 4, [](nlohmann::json& j) { j["parallelism"]["cp"] = 2; }), cal);
  auto send_bytes = [](const workload::Workload& w) {
    for (const auto& op : w.stages[0].ops)
      if (op.kind == workload::OpKind::send)
        return op.bytes;
    return 0.0;
  };
  CHECK(send_bytes(w1) == Approx(1.0 * 2048 * 4096 * 2));
  CHECK(send_bytes(w2) == Approx(send_bytes(w1) / 2));
}

TEST_CASE("activation memory follows the schedule's in-flight micro-batches", "[pipeline]")
{
  CHECK(workload::in_flight_microbatches("1f1b", 8, 1, 7, 64) == 1);
  CHECK(workload::in_flight_microbatches("zb-h1", 8, 1, 7, 64) == 8);
  CHECK(workload::in_flight_microbatches("interleaved", 8, 2, 0, 64) == Approx(8 + 3.5));
  const auto& cal = scenario::Catalog::instance().calibration();
  auto a = workload::build_workload(clean(4, 2, 8), cal);
  auto b =
      workload::build_workload(clean(4, 2, 8, [](nlohmann::json& j) { j["parallelism"]["schedule"] = "zb-h1"; }), cal);
  // 1F1B's busiest stage is stage 0 with pp = 4 micro-batches in flight; zb-h1 holds 4 on every stage, so the
  // last one (with the logits, tiny here) becomes the busiest: a little more, never less.
  CHECK(a.memory.stage == 0);
  CHECK(b.memory.stage == 3);
  CHECK(b.memory.activations > a.memory.activations);
  CHECK(b.memory.activations < a.memory.activations * 1.01);
}

namespace {

/// The interleaved pipeline of `clean` with one stage per node (pp 4, dp 1, vpp 2, m 8) on a NIC of `nic`, so
/// that each transfer (one micro-batch's boundary activations, 16 MiB) takes a known time.
scenario::Scenario p2p_job(const std::string& nic, bool overlap)
{
  return clean(4, 1, 8, [&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(4, 1, nic, "1us");
    j["parallelism"]["vpp"] = 2;
    j["parallelism"]["overlap_p2p_comm"] = overlap;
  });
}

} // namespace

TEST_CASE("overlap_p2p_comm: the steady-state pipeline transfers hide behind the passes", "[pipeline][sim]")
{
  const auto& cat = scenario::Catalog::instance();
  const auto fast = cli::run_scenario(p2p_job("100Tbps", false), cat);
  const auto blocking = cli::run_scenario(p2p_job("100Gbps", false), cat);
  const auto overlapped = cli::run_scenario(p2p_job("100Gbps", true), cat);
  // One transfer: 1 x 2048 x 4096 x 2 bytes at 100 Gb/s (the 1 us route latency is negligible).
  const auto& cal = cat.calibration();
  const double t = 2048.0 * 4096 * 2 / 12.5e9;
  // Receives per stage: every (micro-batch, chunk) forward and backward but the first virtual stage's forward
  // input (stage 0, chunk 0) and the last virtual stage's backward input (stage 3, chunk 1).
  const std::array<int, 4> recvs{3 * 8, 4 * 8, 4 * 8, 3 * 8};
  for (size_t s = 0; s < 4; ++s) {
    INFO("stage " << s);
    const double total = recvs[s] * t;
    // The transfers themselves are the same, posted early or not: the stage's pipeline links are busy at least
    // for its receives, at most for its receives and its sends (as many), which overlap when blocking.
    for (const auto* o : {&blocking, &overlapped}) {
      CHECK(o->sim.stages[s].comm_total.at("pp") >= total * 0.95);
      CHECK(o->sim.stages[s].comm_total.at("pp") <= 2 * total * 1.05);
    }
    // Posted when the pass needs it, every transfer shows (its sender is done or sends meanwhile).
    CHECK(blocking.sim.stages[s].pp_comm == Approx(total + recvs[s] * cal.p2p_latency_s).epsilon(0.05));
    // Posted one pass ahead, only the fill and the drain show: at most one transfer per virtual stage hop
    // each way (2 (pp vpp - 1)), far below all of them.
    CHECK(overlapped.sim.stages[s].pp_comm <= 2 * (4 * 2 - 1) * (t + cal.p2p_latency_s) * 1.05);
  }
  // Closed form: with every steady-state transfer hidden, the step is the step on a free network plus one
  // transfer per hop of the fill (the first micro-batch's forward over pp vpp - 1 hops) and of the drain (the
  // last one's backward back); blocking receives cost far more (every transfer on the critical path shows).
  CHECK(overlapped.sim.step_time_s - fast.sim.step_time_s == Approx(2 * (4 * 2 - 1) * t).epsilon(0.1));
  CHECK(blocking.sim.step_time_s - fast.sim.step_time_s > 1.5 * (overlapped.sim.step_time_s - fast.sim.step_time_s));
}

TEST_CASE("overlap_p2p_comm: full versus reduced fidelity within 1%, and only with the interleaved schedule",
          "[pipeline][sim][scale]")
{
  const auto& cat = scenario::Catalog::instance();
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  auto s = test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(4, 8, "200Gbps", "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["training"]["global_batch_size"] = 64;
    j["parallelism"] = {{"tp", 2},
                        {"pp", 4},
                        {"dp", 4},
                        {"sequence_parallel", true},
                        {"vpp", 2},
                        {"zero_stage", 1},
                        {"overlap_p2p_comm", true}};
  });
  auto a = cli::run_scenario(s, cat, full);
  auto b = cli::run_scenario(s, cat, reduced);
  CHECK(a.sim.fidelity == "full");
  CHECK(b.sim.fidelity == "reduced");
  CHECK(b.sim.step_time_s == Approx(a.sim.step_time_s).epsilon(0.01));
  CHECK_THROWS_WITH(clean(4, 2, 8, [](nlohmann::json& j) { j["parallelism"]["overlap_p2p_comm"] = true; }),
                    Catch::Contains("/parallelism/overlap_p2p_comm") && Catch::Contains("interleaved"));
}

TEST_CASE("blocking pipeline p2p (DeepSpeed): four serialised transfers per micro-batch, its closed form",
          "[pipeline][sim][p2p]")
{
  // DeepSpeed's pipeline engine (TrainSchedule, dist.send/recv): a send waits for its receiver and each slot
  // exchanges with one neighbour before computing, so an interior stage serialises two transfers per pass:
  // step = (m + p - 1)(f + b) + (4 m + 2 p - 8) T for p >= 3 and m >= 2, 2 m T for p = 2 (checked against an
  // independent rendezvous replay of TrainSchedule's slots). T comes out of the difference of two NIC rates.
  const auto& cat = scenario::Catalog::instance();
  auto run = [&](int pp, int m, const char* p2p, const char* nic) {
    auto s = clean(pp, 1, m, [&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(pp, 1, nic, "1us");
      j["parallelism"]["pipeline_p2p"] = p2p;
      j["simulation"]["variability"] = false;
    });
    return cli::run_scenario(s, cat).sim.step_time_s;
  };
  const double bytes = 2048.0 * 4096 * 2; // one micro-batch's boundary activations, tp 1
  const double t_slow = bytes / (25e9 / 8), t_fast = bytes / (400e9 / 8);
  for (auto [pp, m] : std::vector<std::pair<int, int>>{{4, 8}, {4, 16}, {2, 8}, {8, 16}}) {
    INFO("pp " << pp << " m " << m);
    const double transfers = pp == 2 ? 2.0 * m : 4.0 * m + 2.0 * pp - 8.0;
    const double extra = run(pp, m, "blocking", "25Gbps") - run(pp, m, "blocking", "400Gbps");
    CHECK(extra == Approx(transfers * (t_slow - t_fast)).epsilon(0.02));
    CHECK(run(pp, m, "async", "25Gbps") < run(pp, m, "blocking", "25Gbps"));
  }
}

TEST_CASE("blocking pipeline p2p and cast_add: full versus reduced fidelity within 1%; other schedules refused",
          "[pipeline][sim][scale][p2p]")
{
  const auto& cat = scenario::Catalog::instance();
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  auto s = test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(8, 4, "50Gbps", "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["training"]["global_batch_size"] = 64;
    j["parallelism"] = {{"tp", 2}, {"pp", 4}, {"dp", 4}, {"zero_stage", 1}, {"pipeline_p2p", "blocking"}};
    j["training"]["grad_accumulation"] = "cast_add";
  });
  auto a = cli::run_scenario(s, cat, full);
  auto b = cli::run_scenario(s, cat, reduced);
  CHECK(a.sim.fidelity == "full");
  CHECK(b.sim.fidelity == "reduced");
  CHECK(b.sim.step_time_s == Approx(a.sim.step_time_s).epsilon(0.01));
  for (const char* sched : {"interleaved", "zb-h1", "dualpipe"})
    CHECK_THROWS_WITH(test::scenario_with([&](nlohmann::json& j) {
                        j["parallelism"]["pipeline_p2p"] = "blocking";
                        j["parallelism"]["schedule"] = sched;
                        if (std::string(sched) == "interleaved")
                          j["parallelism"]["vpp"] = 5;
                      }),
                      Catch::Contains("/parallelism/pipeline_p2p"));
}

TEST_CASE("cast_add gradient accumulation (DeepSpeed's BF16 optimizer): 18 bytes per parameter per backward",
          "[pipeline][sim][p2p]")
{
  // update_hp_grads after every micro-batch's backward: a memory-bound pass over the stage's parameters,
  // 18 bytes each at the calibrated HBM fraction plus one kernel's overhead, so on equal stages the 1F1B step
  // grows by (m + p - 1) such passes (the backward's share of the critical path).
  const auto& cat = scenario::Catalog::instance();
  const int pp = 4, m = 8;
  auto run = [&](const char* acc) {
    auto s = clean(pp, 2, m, [&](nlohmann::json& j) {
      j["training"]["grad_accumulation"] = acc;
      j["simulation"]["variability"] = false;
    });
    return std::make_pair(s, cli::run_scenario(s, cat).sim.step_time_s);
  };
  const auto [s, fused] = run("fused");
  const double cast_add = run("cast_add").second;
  const auto& acc = s.stage_accelerator(1);
  const auto& cal = scenario::Catalog::instance().calibration();
  const double params = workload::stage_params_per_rank(s, workload::ModelShape::of(s.model), 1);
  const double pass = 18.0 * params / (acc.memory_bandwidth * cal.memory_efficiency) + cal.kernel_overhead_s;
  CHECK(cast_add - fused == Approx((m + pp - 1) * pass).epsilon(0.02));
  CHECK_THROWS_WITH(test::scenario_with([](nlohmann::json& j) { j["training"]["grad_accumulation"] = "fp32"; }),
                    Catch::Contains("/training/grad_accumulation"));
}

TEST_CASE("blocking sends in Megatron's order deadlock; TrainSchedule's order does not (program check)",
          "[pipeline][p2p]")
{
  using workload::OpKind;
  const auto& cal = scenario::Catalog::instance().calibration();
  auto s = clean(4, 2, 8);
  auto w = workload::build_workload(s, cal);
  REQUIRE_NOTHROW(workload::check_programs(s, w));
  for (auto& st : w.stages) // each send right after its pass, as Megatron issues them, but blocking
    for (auto& op : st.ops)
      op.blocking = op.kind == OpKind::send || op.kind == OpKind::recv;
  CHECK_THROWS_WITH(workload::check_programs(s, w), Catch::Contains("deadlock"));
  for (int m : {1, 2, 3, 8}) {
    auto b = clean(4, 2, m, [](nlohmann::json& j) { j["parallelism"]["pipeline_p2p"] = "blocking"; });
    CHECK_NOTHROW(workload::check_programs(b, workload::build_workload(b, cal)));
  }
}

TEST_CASE("framework megatron-deepspeed: blocking pipeline sends and the BF16 optimizer's accumulation",
          "[pipeline][p2p]")
{
  auto with = [](const std::function<void(nlohmann::json&)>& more) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["training"]["framework"] = "megatron-deepspeed";
      j["parallelism"].erase("zero_stage");
      j["parallelism"].erase("overlap_grad_reduce");
      j["parallelism"]["vpp"] = 1;
      more(j);
    });
  };
  const auto bf16 = with([](nlohmann::json&) {});
  CHECK(bf16.parallelism.pipeline_p2p == "blocking");
  CHECK(bf16.training.grad_accumulation == "cast_add");
  CHECK(bf16.parallelism.zero_stage == 1);
  CHECK(!bf16.parallelism.overlap_grad_reduce);
  const auto fp16 = with([](nlohmann::json& j) { j["training"]["precision"] = "fp16"; });
  CHECK(fp16.training.grad_accumulation == "fused"); // DeepSpeed's BF16 optimizer runs only in bf16
  const auto own = with([](nlohmann::json& j) { j["parallelism"]["pipeline_p2p"] = "async"; });
  CHECK(own.parallelism.pipeline_p2p == "async");
  const auto interleaved = with([](nlohmann::json& j) { j["parallelism"]["vpp"] = 5; });
  CHECK(interleaved.parallelism.pipeline_p2p == "async"); // a schedule DeepSpeed's engine does not run
}
