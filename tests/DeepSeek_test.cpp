// DeepSeek-V3 model features (issue 14): multi-head latent attention, node-limited routing, multi-token
// prediction, selective recompute modules and FP8 blockwise scaling, against closed forms.
#include <catch2/catch.hpp>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/Memory.hpp"
#include "trainsim/workload/Program.hpp"

using namespace trainsim;

namespace {

const scenario::Calibration& cal()
{
  return scenario::Catalog::instance().calibration();
}

/// A MoE model of `top_k` of 32 experts on `nodes` nodes of 8 A100 (one switch), tp 1, pp 1, dp = nodes x 8.
scenario::Scenario moe_job(int nodes, int ep, int top_k, int max_nodes,
                           const std::function<void(nlohmann::json&)>& more = {})
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(nodes, 8, "200Gbps", "1us");
    j["model"] = {{"preset", "mixtral-8x7b"},
                  {"seq_length", 1024},
                  {"layers", 4},
                  {"moe", {{"experts", 32}, {"top_k", top_k}, {"max_nodes_per_token", max_nodes}}}};
    j["training"] = {{"global_batch_size", nodes * 8 * 2},
                     {"micro_batch_size", 1},
                     {"tokens", "1T"},
                     {"precision", "bf16"},
                     {"recompute", "none"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", nodes * 8}, {"ep", ep}, {"zero_stage", 1}};
    if (more)
      more(j);
  });
}

/// A small dense model with multi-head latent attention on one node of 8 H800, dp 8.
scenario::Scenario mla_job(const std::function<void(nlohmann::json&)>& more = {})
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(1, 8, "400Gbps", "1us");
    j["cluster"]["accelerator"] = "H800-SXM-80GB";
    j["model"] = {{"name", "mla-small"},
                  {"layers", 2},
                  {"hidden_size", 1024},
                  {"attention_heads", 8},
                  {"ffn_hidden_size", 4096},
                  {"vocab_size", 32000},
                  {"seq_length", 2048},
                  {"activation", "swiglu"},
                  {"attention_type", "mla"},
                  {"mla",
                   {{"q_lora_rank", 256},
                    {"kv_lora_rank", 128},
                    {"qk_nope_head_dim", 64},
                    {"qk_rope_head_dim", 32},
                    {"v_head_dim", 64}}}};
    j["training"] = {{"global_batch_size", 16},
                     {"micro_batch_size", 1},
                     {"tokens", "1T"},
                     {"precision", "fp8"},
                     {"recompute", "none"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 8}};
    if (more)
      more(j);
  });
}

double ep_bytes(const workload::Workload& w, int stage, double workload::Op::*field = &workload::Op::bytes)
{
  double b = 0;
  for (const auto& op : w.stages.at(static_cast<size_t>(stage)).ops)
    if (op.kind == workload::OpKind::ep_comm)
      b += op.*field;
  return b;
}

} // namespace

TEST_CASE("MLA: projection weights and attention-core FLOPs of DeepSeek-V3 against the closed form",
          "[workload][deepseek]")
{
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["model"] = {{"preset", "deepseek-v3"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 512}};
  });
  REQUIRE(s.model.mla);
  const auto shape = workload::ModelShape::of(s.model);
  const double h = 7168, H = 128, sq = 4096;
  // q: 7168 -> 1536 -> 128 x (128 + 64); kv: 7168 -> 512 + 64 -> 128 x (128 + 128); out: 128 x 128 -> 7168.
  const double attn = h * 1536 + 1536 * H * 192 + h * (512 + 64) + 512 * H * 256 + H * 128 * h;
  CHECK(attn == Approx(187.1e6).epsilon(0.001)); // DeepSeek-V2 section 2.1's projections at V3's sizes
  const double dense = attn + 3 * h * 18432 + 2 * h + 1536 + 512;
  CHECK(shape.layer_params == Approx(dense).epsilon(1e-12));
  CHECK(shape.attention_core_forward_flops == Approx(2 * sq * sq * H * (192 + 128)).epsilon(1e-12));
  // 671B total, 37B active (untied embeddings: one more vocab x hidden), MTP's own 14B beside them.
  CHECK(shape.total_params + shape.embedding_params == Approx(671e9).epsilon(0.01));
  CHECK(shape.active_params + shape.embedding_params == Approx(37e9).epsilon(0.05));
  CHECK(shape.mtp_params + 2 * shape.embedding_params == Approx(14e9).epsilon(0.05));
  CHECK(s.model.mtp_depth == 1);
  CHECK(s.model.moe.max_nodes_per_token == 4);
}

TEST_CASE("MLA: recomputing the up-projections keeps only the compressed KV", "[workload][deepseek]")
{
  auto keep = mla_job([](nlohmann::json& j) {
    j["training"]["recompute"] = "selective";
    j["training"]["recompute_modules"] = {"layernorm"};
  });
  auto up = mla_job([](nlohmann::json& j) {
    j["training"]["recompute"] = "selective";
    j["training"]["recompute_modules"] = {"layernorm", "mla_up_proj"};
  });
  const auto shape = workload::ModelShape::of(up.model);
  const auto m_keep = workload::estimate_memory(keep, shape, cal()), m_up = workload::estimate_memory(up, shape, cal());
  // Per layer and micro-batch: the 16-bit per-head Q, K (64 + 32) and V (64) of 8 heads over 2048 tokens.
  const double qkv = 2.0 * 2048 * 8 * (2 * 96 + 64);
  CHECK(m_keep.activations - m_up.activations == Approx(2 * qkv).epsilon(1e-9)); // 2 layers, 1 in flight
  // The recompute re-runs the two up-projection GEMMs: hardware FLOPs grow by their forward FLOPs.
  const double up_flops = 2.0 * 2048 * (256 * 8 * 96 + 128 * 8 * (64 + 64));
  CHECK(shape.hardware_flops_per_step(up) - shape.hardware_flops_per_step(keep) ==
        Approx(2 * up_flops * 16).epsilon(1e-9));
  workload::LayerOps ops(up, shape);
  double gemm = 0;
  for (const auto& k : ops.recompute())
    gemm += k.flops;
  CHECK(gemm == Approx(up_flops).epsilon(1e-12));
}

TEST_CASE("node-limited routing: the all-to-all's NIC and NVLink volumes against the closed form",
          "[workload][deepseek]")
{
  const double T = 1024, h = 4096, bytes = 2 + 2; // bf16 dispatch and combine
  SECTION("top-4 over at most 2 of 4 nodes")
  {
    auto s = moe_job(4, 32, 4, 2);
    const auto shape = workload::ModelShape::of(s.model);
    const auto tr = workload::LayerOps(s, shape).moe_ep_traffic();
    // N = 4 nodes of G = 8 members, D = 2 target nodes: D (N-1)/N copies per token over the NIC,
    // top_k (G-1)/G over NVLink.
    CHECK(tr.node_limited);
    CHECK(tr.nic_bytes == Approx(T * 2 * 3.0 / 4 * h * bytes));
    CHECK(tr.bytes - tr.nic_bytes == Approx(T * 4 * 7.0 / 8 * h * bytes));
    // Without the limit every copy goes straight to its expert: top_k (ep-1)/ep, 24 of the 31 others remote.
    auto u = moe_job(4, 32, 4, 0);
    const auto tu = workload::LayerOps(u, shape).moe_ep_traffic();
    CHECK_FALSE(tu.node_limited);
    CHECK(tu.bytes == Approx(T * 4 * 31.0 / 32 * h * bytes));
    CHECK(tr.nic_bytes < tu.bytes * 24.0 / 31);
  }
  SECTION("the bound is min(M, nodes, top_k)")
  {
    auto s = moe_job(4, 32, 1, 3);
    const auto tr = workload::LayerOps(s, workload::ModelShape::of(s.model)).moe_ep_traffic();
    CHECK(tr.nic_bytes == Approx(T * 1 * 3.0 / 4 * h * bytes));
    auto one_node = moe_job(4, 8, 4, 2); // ep 8 inside a node: nothing crosses the NIC
    const auto t1 = workload::LayerOps(one_node, workload::ModelShape::of(one_node.model)).moe_ep_traffic();
    CHECK(t1.nic_bytes == 0);
    CHECK(t1.bytes == Approx(T * 4 * 7.0 / 8 * h * bytes));
  }
  SECTION("the program carries the NIC share of every pass")
  {
    auto s = moe_job(4, 32, 4, 2);
    const auto w = workload::build_workload(s, cal());
    const auto tr = workload::LayerOps(s, w.shape).moe_ep_traffic();
    const double passes = 2.0 * static_cast<double>(w.microbatches) * 4; // forward and backward, 4 layers
    CHECK(ep_bytes(w, 0, &workload::Op::nic_bytes) == Approx(passes * tr.nic_bytes));
    CHECK(ep_bytes(w, 0) == Approx(passes * tr.bytes));
  }
}

TEST_CASE("node-limited routing: simulated all-to-all against the closed form, full versus reduced",
          "[model][sim][deepseek]")
{
  // Four nodes of 8 A100, ep 32 over all of them, top-4 over at most 2 nodes: the NIC share (1.5 copies
  // per token at 25 GB/s) bounds the time, not NVLink's 3.5 copies at 300 GB/s.
  auto s = moe_job(4, 32, 4, 2);
  const auto w = workload::build_workload(s, cal());
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  const auto a = cli::run_scenario(s, scenario::Catalog::instance(), full);
  const auto b = cli::run_scenario(s, scenario::Catalog::instance(), reduced);
  int a2a = 0;
  for (const auto& op : w.stages.at(0).ops)
    if (op.kind == workload::OpKind::ep_comm)
      a2a += op.steps;
  const double nic = 200e9 / 8 * cal().scale_out_bus_efficiency;
  const double closed = ep_bytes(w, 0, &workload::Op::nic_bytes) / nic + a2a * (cal().collective_step_latency_s + 2e-6);
  INFO("full " << a.sim.stages.at(0).ep_comm << " reduced " << b.sim.stages.at(0).ep_comm << " closed form " << closed);
  CHECK(a.sim.stages.at(0).ep_comm == Approx(closed).epsilon(0.03));
  CHECK(b.sim.stages.at(0).ep_comm == Approx(a.sim.stages.at(0).ep_comm).epsilon(0.01));
  CHECK(b.sim.step_time_s == Approx(a.sim.step_time_s).epsilon(0.01));
  // The unlimited all-to-all sends top_k x 24/32 copies per token over the NIC: slower.
  const auto u = cli::run_scenario(moe_job(4, 32, 4, 0), scenario::Catalog::instance(), reduced);
  CHECK(u.sim.stages.at(0).ep_comm > 1.5 * b.sim.stages.at(0).ep_comm);
}

TEST_CASE("multi-token prediction: one more MoE block and the shared head on the last stage", "[workload][deepseek]")
{
  auto edit = [](int mtp) {
    return [mtp](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(4, 8, "200Gbps", "1us");
      j["cluster"]["accelerator"] = "H800-SXM-80GB";
      j["model"] = {{"preset", "deepseek-v3"}, {"layers", 4}, {"mtp_depth", mtp}, {"moe", {{"first_dense_layers", 1}}}};
      j["training"] = {{"global_batch_size", 32},
                       {"micro_batch_size", 1},
                       {"tokens", "1T"},
                       {"precision", "fp8"},
                       {"recompute", "none"}};
      j["parallelism"] = {{"tp", 1}, {"pp", 2}, {"dp", 16}, {"ep", 16}, {"zero_stage", 1}};
    };
  };
  const auto s0 = test::scenario_with(edit(0)), s1 = test::scenario_with(edit(1));
  const auto w0 = workload::build_workload(s0, cal()), w1 = workload::build_workload(s1, cal());
  // The first stage is unchanged; the last gains one MoE layer's all-to-alls per pass.
  CHECK(w1.stages[0].compute_s == Approx(w0.stages[0].compute_s).epsilon(1e-12));
  const auto tr = workload::LayerOps(s1, w1.shape).moe_ep_traffic();
  CHECK(ep_bytes(w1, 1) - ep_bytes(w0, 1) == Approx(2.0 * static_cast<double>(w1.microbatches) * tr.bytes));
  CHECK(w1.stages[1].compute_s > w0.stages[1].compute_s);
  // Model FLOPs: the block, the 2h -> h projection and the head once more, three times (forward, backward).
  const double h = 7168, sq = 4096;
  const double mtp = w1.shape.moe_layer_forward_flops + 2 * sq * 2 * h * h + w1.shape.logits_forward_flops;
  CHECK(w1.model_flops_per_step - w0.model_flops_per_step == Approx(3 * mtp * 32).epsilon(1e-9));
  // Memory: the last stage holds the MTP block's weights (its experts over ep) and activations.
  CHECK(workload::stage_params_per_rank(s1, w1.shape, 1) - workload::stage_params_per_rank(s0, w0.shape, 1) ==
        Approx(w1.shape.mtp_params - w1.shape.expert_params + w1.shape.expert_params / 16).epsilon(1e-9));
}

TEST_CASE("FP8 blockwise scaling: the casts also write one fp32 scale per 128 elements", "[workload][deepseek]")
{
  auto t = mla_job(), b = mla_job([](nlohmann::json&j) { j["training"]["fp8_recipe"] = "blockwise"; });
  const auto shape = workload::ModelShape::of(t.model);
  double bt = 0, bb = 0, ft = 0, fb = 0;
  for (const auto& k : workload::LayerOps(t, shape).forward())
    (k.cls == workload::KernelClass::memory ? bt : ft) += k.cls == workload::KernelClass::memory ? k.bytes : k.flops;
  for (const auto& k : workload::LayerOps(b, shape).forward())
    (k.cls == workload::KernelClass::memory ? bb : fb) += k.cls == workload::KernelClass::memory ? k.bytes : k.flops;
  CHECK(fb == Approx(ft).epsilon(1e-12)); // the same FP8 GEMMs
  // Forward casts: the layer input (twice: attention and MLP), the latents, the attention output, the SwiGLU output.
  const double cast_elems = 2048.0 * (1024 + (256 + 128) + 8 * 64 + 1024 + 4096);
  CHECK(bb - bt == Approx(cast_elems * 8.0 / 128).epsilon(1e-9));
}

TEST_CASE("DeepSeek-V3 feature errors name the JSON path", "[badinput][deepseek]")
{
  auto fails = [](const std::function<void(nlohmann::json&)>& edit, const std::string& pointer) {
    try {
      mla_job(edit);
      FAIL("accepted");
    } catch (const core::ConfigError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(pointer) != std::string::npos);
    }
  };
  fails([](nlohmann::json& j) { j["model"]["attention_type"] = "gqa"; }, "/model/attention_type");
  fails([](nlohmann::json& j) { j["model"].erase("mla"); }, "/model/mla");
  fails([](nlohmann::json& j) { j["model"]["attention_type"] = "mha"; }, "/model/mla");
  fails([](nlohmann::json& j) { j["model"]["mla"]["kv_rank"] = 512; }, "/model/mla/kv_rank");
  fails([](nlohmann::json& j) { j["model"]["mla"]["kv_lora_rank"] = 0; }, "/model/mla/kv_lora_rank");
  fails([](nlohmann::json& j) { j["model"]["mtp_depth"] = -1; }, "/model/mtp_depth");
  fails([](nlohmann::json& j) { j["training"]["recompute_modules"] = {"layernorm"}; }, "/training/recompute_modules");
  fails(
      [](nlohmann::json& j) {
        j["training"]["recompute"] = "selective";
        j["training"]["recompute_modules"] = {"mlp"};
      },
      "/training/recompute_modules/0");
  fails([](nlohmann::json& j) { j["training"]["fp8_recipe"] = "rowwise"; }, "/training/fp8_recipe");
  fails(
      [](nlohmann::json& j) {
        j["training"]["precision"] = "bf16";
        j["training"]["fp8_recipe"] = "blockwise";
      },
      "/training/fp8_recipe");
  CHECK_THROWS_AS(test::scenario_with([](nlohmann::json& j) {
                    j["training"]["recompute"] = "selective";
                    j["training"]["recompute_modules"] = {"mla_up_proj"};
                  }),
                  core::ConfigError);
  CHECK_NOTHROW(moe_job(4, 1, 4, 2));                        // ep 1: nothing to limit
  CHECK_THROWS_AS(moe_job(4, 32, 4, -1), core::ConfigError); // negative
  CHECK_THROWS_AS(moe_job(4, 32, 4, 2,
                          [](nlohmann::json& j) { // 16-GPU groups on 6-GPU nodes
                            j["cluster"]["accelerators_per_node"] = 6;
                            j["cluster"]["nodes"] = 16;
                            j["parallelism"]["dp"] = 96;
                            j["parallelism"]["ep"] = 16;
                            j["training"]["global_batch_size"] = 192;
                          }),
                  core::ConfigError);
}

TEST_CASE("DualPipe: the overlapped pairs hide the all-to-all; two parameter copies; full versus reduced",
          "[model][sim][deepseek][pipeline]")
{
  // Four nodes of 8 A100, pp 4 (one MoE layer per virtual stage), dp 8, ep 8, 16 micro-batches.
  auto job = [](const char* schedule) {
    return moe_job(4, 8, 4, 0, [&](nlohmann::json& j) {
      j["training"]["global_batch_size"] = 128;
      j["parallelism"]["pp"] = 4;
      j["parallelism"]["dp"] = 8;
      j["parallelism"]["schedule"] = schedule;
    });
  };
  const auto& catalog = scenario::Catalog::instance();
  sim::SimOptions full, reduced;
  full.fidelity = sim::Fidelity::full;
  reduced.fidelity = sim::Fidelity::reduced;
  const auto one = cli::run_scenario(job("1f1b"), catalog, reduced);
  const auto dual = cli::run_scenario(job("dualpipe"), catalog, reduced);
  const auto dual_full = cli::run_scenario(job("dualpipe"), catalog, full);
  const auto j1 = report::to_json(job("1f1b"), one.metrics), jd = report::to_json(job("dualpipe"), dual.metrics);
  INFO("1f1b " << j1["moe"].dump() << " step " << one.sim.step_time_s);
  INFO("dualpipe " << jd["moe"].dump() << " step " << dual.sim.step_time_s);
  // 1F1B's all-to-alls block: nothing hidden. DualPipe's pairs hide most of theirs.
  CHECK(j1["moe"]["all_to_all_hidden_s"].get<double>() == Approx(0).margin(1e-9));
  CHECK(jd["moe"]["all_to_all_hidden_s"].get<double>() > 0.5 * jd["moe"]["all_to_all_total_s"].get<double>());
  CHECK(jd["moe"]["all_to_all_hidden_s"].get<double>() + jd["breakdown"]["ep_comm_exposed_s"].get<double>() ==
        Approx(jd["moe"]["all_to_all_total_s"].get<double>()));
  CHECK(dual.metrics.breakdown.ep_comm < 0.5 * one.metrics.breakdown.ep_comm);
  CHECK(dual.sim.step_time_s < one.sim.step_time_s);
  // The pairs' compute runs on the SMs the all-to-all kernels leave (DeepSeek-V3: 20 of 132 held).
  CHECK(dual.metrics.breakdown.compute > one.metrics.breakdown.compute);
  CHECK(dual.metrics.breakdown.compute < one.metrics.breakdown.compute / (1 - cal().ep_overlap_comm_sm_share) + 1e-9);
  // Two copies of the parameters (DeepSeek-V3 Table 2): every rank holds two virtual stages.
  CHECK(dual.metrics.memory.weights == Approx(2 * one.metrics.memory.weights).epsilon(0.05));
  CHECK(dual_full.sim.fidelity == "full");
  CHECK(dual.sim.step_time_s == Approx(dual_full.sim.step_time_s).epsilon(0.01));
}
