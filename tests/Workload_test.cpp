#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "TestUtil.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"
#include "trainsim/workload/Program.hpp"

using namespace trainsim;

TEST_CASE("model FLOPs follow the Megatron-LM closed form", "[workload]")
{
  // Narayanan et al. eq. (3): 96 B s l h^2 (1 + s/6h + V/16lh) hardware FLOPs with full recompute.
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["model"] = {{"preset", "gpt3-175b"}};
    j["parallelism"]["vpp"] = 1;
    j["training"]["recompute"] = "full";
  });
  auto shape = workload::ModelShape::of(s.model);
  const double B = s.training.global_batch_size, sq = 2048, l = 96, h = 12288, V = 51200;
  const double closed = 96 * B * sq * l * h * h * (1 + sq / (6 * h) + V / (16 * l * h));
  CHECK(shape.hardware_flops_per_step(s) == Approx(closed).epsilon(1e-9));
  CHECK(shape.model_flops_per_step(s) == Approx(closed * 3.0 / 4.0).epsilon(0.01));
  CHECK(shape.total_params == Approx(175e9).epsilon(0.01));
}

TEST_CASE("Llama-3 parameter counts match the published sizes", "[workload]")
{
  for (auto [preset, params] :
       std::map<std::string, double>{{"llama3-8b", 8.03e9}, {"llama3-70b", 70.6e9}, {"llama3-405b", 405.8e9}}) {
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["model"] = {{"preset", preset}};
      j["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", 64}};
    });
    // Untied input and output embeddings in Llama: add one more vocab x hidden.
    auto shape = workload::ModelShape::of(s.model);
    CHECK(shape.total_params + shape.embedding_params == Approx(params).epsilon(0.01));
  }
}

TEST_CASE("1F1B schedules run every micro-batch forward then backward, in order", "[workload]")
{
  for (int pp : {1, 2, 4, 8})
    for (int vpp : {1, 2, 3})
      for (int m : {8, 16}) {
        if (vpp > 1 && m % pp != 0)
          continue;
        for (int stage = 0; stage < pp; ++stage) {
          auto sched = workload::one_f_one_b(pp, vpp, stage, m);
          REQUIRE(sched.size() == static_cast<size_t>(2 * m * vpp));
          std::set<std::pair<int, int>> fwd;
          for (const auto& st : sched) {
            if (st.forward)
              fwd.insert({st.microbatch, st.chunk});
            else
              CHECK(fwd.count({st.microbatch, st.chunk}) == 1); // backward after its forward
          }
          CHECK(fwd.size() == static_cast<size_t>(m * vpp));
          // Plain 1F1B warm-up: pp - stage - 1 forwards before the first backward.
          if (vpp == 1) {
            int warm = 0;
            while (sched[warm].forward)
              ++warm;
            CHECK(warm == std::min(pp - stage, m));
          }
        }
      }
}

TEST_CASE("tensor-parallel traffic and the efficiency roofline", "[workload]")
{
  auto s = test::scenario_with([](nlohmann::json&) {});
  auto shape = workload::ModelShape::of(s.model);
  workload::LayerOps ops(s, shape);
  auto tr = ops.layer_tp_traffic();
  const double t = 8, msg = 1.0 * s.model.seq_length * s.model.hidden_size * 2;
  CHECK(tr.ring_bytes == Approx(4 * (t - 1) / t * msg)); // two all-reduce volumes per layer
  CHECK(tr.collectives == 4);                            // sequence parallel: 2 all-gathers + 2 reduce-scatters
  const auto& cal = scenario::Catalog::instance().calibration();
  workload::Efficiency eff(1e15, 2e12, cal);
  // Compute-bound GEMM: FLOPs over achievable peak; memory-bound kernel: bytes over achievable bandwidth.
  CHECK(eff.time({workload::KernelClass::gemm, 1e12, 1e6}) ==
        Approx(1e12 / (1e15 * cal.gemm_efficiency) + cal.kernel_overhead_s));
  CHECK(eff.time({workload::KernelClass::memory, 0, 1e9}) ==
        Approx(1e9 / (2e12 * cal.memory_efficiency) + cal.kernel_overhead_s));
}

TEST_CASE("memory: recompute and pipeline depth shrink what one accelerator holds", "[workload]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  auto mem = [&](const char* recompute) {
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["training"]["recompute"] = recompute;
      j["training"]["attention"] = "standard"; // flash attention keeps no s^2 activations to drop
    });
    return workload::estimate_memory(s, workload::ModelShape::of(s.model), cal);
  };
  CHECK(mem("full").activations < mem("selective").activations);
  CHECK(mem("selective").activations < mem("none").activations);
  auto s = test::scenario_with([](nlohmann::json&) {});
  auto m = workload::estimate_memory(s, workload::ModelShape::of(s.model), cal);
  // Distributed optimizer: 12 bytes of fp32 state per parameter, sharded over dp.
  CHECK(m.optimizer == Approx(m.weights / 2 * 12 / s.parallelism.dp));
}

TEST_CASE("a model that does not fit is rejected with its breakdown", "[workload]")
{
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["model"] = {{"preset", "llama3-405b"}};
    j["parallelism"] = {{"tp", 8}, {"pp", 1}, {"dp", 64}};
  });
  CHECK_THROWS_WITH(workload::build_workload(s, scenario::Catalog::instance().calibration()),
                    Catch::Contains("out of memory") && Catch::Contains("weights") &&
                        Catch::Contains("raise tp or pp"));
}
