// Mixture of experts and expert parallelism (issue 4): parameter counts, memory, all-to-all traffic
// against closed forms, and the simulated all-to-all on small platforms.
#include <catch2/catch.hpp>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/Memory.hpp"
#include "trainsim/workload/Program.hpp"

using namespace trainsim;

namespace {

/// Mixtral-8x7B with 16 experts on `nodes` nodes of 8 A100 (one switch), tp 1, pp 1, dp = ep x expert-dp.
scenario::Scenario mixtral(int nodes, int ep, const std::function<void(nlohmann::json&)>& more = {})
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(nodes, 8, "200Gbps", "1us");
    j["model"] = {{"preset", "mixtral-8x7b"}, {"seq_length", 1024}, {"layers", 4}, {"moe", {{"experts", 16}}}};
    j["training"] = {{"global_batch_size", nodes * 8 * 2},
                     {"micro_batch_size", 1},
                     {"tokens", "1T"},
                     {"precision", "bf16"},
                     {"recompute", "full"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", nodes * 8}, {"ep", ep}, {"zero_stage", 1}};
    if (more)
      more(j);
  });
}

} // namespace

TEST_CASE("MoE presets match their published total and active parameter counts", "[workload][moe]")
{
  struct Case {
    const char* preset;
    double total, active;
  };
  // DeepSeek-V3 (671B / 37B, arXiv:2412.19437), Mixtral 8x7B (46.7B / 12.9B) and 8x22B (141B / 39B).
  // Untied embeddings in all three: add one more vocab x hidden.
  for (const Case c :
       {Case{"deepseek-v3", 671e9, 37e9}, Case{"mixtral-8x7b", 46.7e9, 12.9e9}, Case{"mixtral-8x22b", 141e9, 39e9}}) {
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["model"] = {{"preset", c.preset}};
      j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 512}};
    });
    auto shape = workload::ModelShape::of(s.model);
    INFO(c.preset);
    CHECK(shape.total_params + shape.embedding_params == Approx(c.total).epsilon(0.03));
    CHECK(shape.active_params + shape.embedding_params == Approx(c.active).epsilon(0.05));
  }
}

TEST_CASE("MoE model FLOPs count the active experts only", "[workload][moe]")
{
  auto s = mixtral(1, 8);
  auto shape = workload::ModelShape::of(s.model);
  const double h = 4096, f = 14336, sq = 1024, kv = 8 * 128.0;
  const double attn_w = h * (h + 2 * kv) + h * h;
  const double per_layer = 2 * sq * (attn_w + h * 16 /*router*/ + 2 /*top-2*/ * 3 * h * f) + 4 * sq * sq * h;
  CHECK(shape.moe_layer_forward_flops == Approx(per_layer).epsilon(1e-12));
  CHECK(shape.layers_forward_flops() == Approx(4 * per_layer).epsilon(1e-12));
}

TEST_CASE("expert parallelism shards the routed experts; expert states shard over dp/ep", "[workload][moe]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  auto s1 = mixtral(2, 1), s8 = mixtral(2, 8), s16 = mixtral(2, 16);
  auto shape = workload::ModelShape::of(s1.model);
  const double experts_all = 4 * shape.expert_params;
  CHECK(workload::stage_expert_params_per_rank(s1, shape, 0) == Approx(experts_all));
  CHECK(workload::stage_expert_params_per_rank(s8, shape, 0) == Approx(experts_all / 8));
  const auto m1 = workload::estimate_memory(s1, shape, cal), m8 = workload::estimate_memory(s8, shape, cal);
  CHECK(m1.weights - m8.weights == Approx(2.0 * experts_all * 7 / 8));
  // ZeRO-1: dense optimizer states over dp = 16; expert states over dp / ep = 2 ranks with ep 8.
  const double dense = workload::stage_params_per_rank(s8, shape, 0) - experts_all / 8;
  CHECK(m8.optimizer == Approx(12 * dense / 16 + 12 * (experts_all / 8) / 2));
  CHECK(m1.optimizer == Approx(12 * (dense + experts_all) / 16));
  // ep 16 = dp: no expert-data-parallel copies left.
  const auto m16 = workload::estimate_memory(s16, shape, cal);
  CHECK(m16.optimizer == Approx(12 * dense / 16 + 12 * (experts_all / 16)));
}

TEST_CASE("all-to-all volume: top-k copies of every token, (ep-1)/ep leave the rank, dispatch and combine",
          "[workload][moe]")
{
  auto s = mixtral(1, 8, [](nlohmann::json& j) {
    j["model"]["moe"]["load_imbalance"] = 1.5;
    j["model"]["moe"]["capacity_factor"] = 1.25;
  });
  auto shape = workload::ModelShape::of(s.model);
  workload::LayerOps ops(s, shape);
  const auto tr = ops.moe_ep_traffic();
  const double tokens = 1024, h = 4096;
  CHECK(tr.all_to_alls == 2);
  // Capacity 1.25 caps the busiest rank's 1.5x load; bf16 dispatch and combine.
  CHECK(tr.bytes == Approx(tokens * 2 * 1.25 * h * (2 + 2) * 7.0 / 8));
  // The program: one ep_comm op per pass with every layer's all-to-alls; full recompute repeats forward's.
  const auto w = workload::build_workload(s, scenario::Catalog::instance().calibration());
  double fwd = 0, bwd = 0;
  int fwd_a2a = 0, bwd_a2a = 0;
  for (const auto& op : w.stages.at(0).ops)
    if (op.kind == workload::OpKind::ep_comm) {
      (op.pass == workload::Pass::forward ? fwd : bwd) += op.bytes;
      (op.pass == workload::Pass::forward ? fwd_a2a : bwd_a2a) += op.steps;
    }
  const double mbs = static_cast<double>(w.microbatches);
  CHECK(fwd == Approx(mbs * 4 * tr.bytes));
  CHECK(bwd == Approx(2 * fwd)); // recompute's forward all-to-alls, then backward's
  CHECK(fwd_a2a == static_cast<int>(mbs) * 4 * 2);
}

TEST_CASE("MoE configuration errors name the JSON path", "[badinput][moe]")
{
  auto fails = [](const std::function<void(nlohmann::json&)>& edit, const std::string& pointer) {
    try {
      mixtral(2, 8, edit);
      FAIL("accepted");
    } catch (const core::ConfigError& e) {
      CHECK(std::string(e.what()).find(pointer) != std::string::npos);
    }
  };
  fails([](nlohmann::json& j) { j["parallelism"]["ep"] = 3; }, "/parallelism/ep"); // not dividing dp
  fails(
      [](nlohmann::json& j) {
        j["parallelism"]["ep"] = 16;
        j["model"]["moe"]["experts"] = 12;
      },
      "/parallelism/ep");
  fails([](nlohmann::json& j) { j["model"]["moe"]["top_k"] = 17; }, "/model/moe/top_k");
  fails([](nlohmann::json& j) { j["model"]["moe"]["first_dense_layers"] = 4; }, "/model/moe/first_dense_layers");
  fails([](nlohmann::json& j) { j["model"]["moe"]["load_imbalance"] = 0.5; }, "/model/moe/load_imbalance");
  fails([](nlohmann::json& j) { j["model"]["moe"]["expert_count"] = 8; }, "/model/moe");
  fails(
      [](nlohmann::json& j) {
        j["model"] = {{"preset", "llama3-8b"}};
        j["parallelism"]["ep"] = 8;
      },
      "/parallelism/ep");
}

TEST_CASE("uneven pipeline split: first and last stage layer counts", "[workload]")
{
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["model"] = {{"preset", "deepseek-v3"}};
    j["cluster"]["nodes"] = 256;
    j["training"]["global_batch_size"] = 1024;
    j["training"]["recompute"] = "full";
    j["parallelism"] = {{"tp", 1},
                        {"pp", 16},
                        {"dp", 128},
                        {"ep", 64},
                        {"zero_stage", 1},
                        {"first_stage_layers", 3},
                        {"last_stage_layers", 2}};
  });
  int total = 0;
  for (int st = 0; st < 16; ++st)
    total += s.stage_layers(st);
  CHECK(total == 61);
  CHECK(s.chunk_layers(0, 0) == std::pair<int, int>{0, 3});
  CHECK(s.chunk_layers(1, 0) == std::pair<int, int>{3, 4});
  CHECK(s.chunk_layers(15, 0) == std::pair<int, int>{59, 2});
  // The first three layers are DeepSeek-V3's dense ones: stage 0 holds no routed experts.
  CHECK(workload::stage_moe_layers(s, 0) == 0);
  CHECK(workload::stage_moe_layers(s, 1) == 4);
  CHECK_THROWS_AS(test::scenario_with([](nlohmann::json& j) {
                    j["parallelism"]["first_stage_layers"] = 7; // 80 - 7 = 73 over 3 stages
                  }),
                  core::ConfigError);
}

TEST_CASE("simulated all-to-all: alpha-beta closed form on a one-switch platform", "[model][sim][moe]")
{
  // Two nodes of 8, ep 16 across both: each rank sends 15 equal shares, 7 over NVLink, 8 over its NIC.
  // The NIC share bounds the time: 8/15 of the bytes at the NIC's bus bandwidth.
  auto s = mixtral(2, 16, [](nlohmann::json& j) { j["parallelism"]["dp"] = 16; });
  const auto& cal = scenario::Catalog::instance().calibration();
  auto out = cli::run_scenario(s, scenario::Catalog::instance());
  const auto& st = out.sim.stages.at(0);
  CHECK(st.ep_comm > 0);
  CHECK(st.total() == Approx(out.sim.step_time_s).epsilon(1e-9));
  const auto w = workload::build_workload(s, cal);
  double bytes = 0;
  int a2a = 0;
  for (const auto& op : w.stages.at(0).ops)
    if (op.kind == workload::OpKind::ep_comm) {
      bytes += op.bytes;
      a2a += op.steps;
    }
  const double nic = 200e9 / 8 * cal.scale_out_bus_efficiency;
  // Per ep_comm op: the NIC flows (8 of 15 shares) at the NIC rate; each all-to-all adds software and
  // route latency (two 1 us hops).
  const double closed = bytes * 8.0 / 15 / nic + a2a * (cal.collective_step_latency_s + 2e-6);
  INFO("simulated " << st.ep_comm << " closed form " << closed);
  CHECK(st.ep_comm == Approx(closed).epsilon(0.03));
  CHECK(out.metrics.breakdown.ep_comm == Approx(st.ep_comm));
}

TEST_CASE("all-to-all time grows with expert load imbalance and a slower fabric", "[model][sim][moe]")
{
  auto run = [](const scenario::Scenario& s) { return cli::run_scenario(s, scenario::Catalog::instance()).metrics; };
  const auto base = run(mixtral(2, 16, [](nlohmann::json& j) { j["parallelism"]["dp"] = 16; }));
  const auto skew = run(mixtral(2, 16, [](nlohmann::json& j) {
    j["parallelism"]["dp"] = 16;
    j["model"]["moe"]["load_imbalance"] = 2.0;
  }));
  const auto slow = run(mixtral(2, 16, [](nlohmann::json& j) {
    j["parallelism"]["dp"] = 16;
    j["cluster"]["fabric"]["nic_bandwidth"] = "100Gbps";
  }));
  CHECK(skew.breakdown.ep_comm > 1.8 * base.breakdown.ep_comm);
  CHECK(skew.breakdown.compute > base.breakdown.compute);
  CHECK(slow.breakdown.ep_comm > 1.8 * base.breakdown.ep_comm);
  CHECK(slow.step_time_s > base.step_time_s);
}
