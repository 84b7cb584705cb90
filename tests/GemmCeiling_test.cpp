// The shape-aware GEMM ceiling (docs/calibration.md#gemm-ceiling): tile and wave quantisation against the
// closed form, the kernel times it gives, its switch and its fallback.
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>

#include "TestUtil.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/Program.hpp"

using namespace trainsim;

namespace {

/// The closed form, written out for one tile: m n / (tile_m tile_n SMs ceil(tiles / SMs)).
double one_tile(double m, double n, double tm, double tn, double sms)
{
  const double tiles = std::ceil(m / tm) * std::ceil(n / tn);
  return m * n / (tm * tn * sms * std::ceil(tiles / sms));
}

} // namespace

TEST_CASE("GEMM tile and wave quantisation follow the closed form", "[model][gemm]")
{
  // MegaScale 175B on A100 (108 SMs), M = 2048 tokens, tp 8: QKV 4608 and FC1 6144 columns. 768 tiles of
  // 128x256 (FC1) make 7.11 waves, rounded up to 8: 0.889 for every standard tile.
  CHECK(workload::gemm_shape_factor(2048, 6144, 12288, 108) == Approx(768.0 / 864.0));
  CHECK(workload::gemm_shape_factor(2048, 4608, 12288, 108) == Approx(one_tile(2048, 4608, 128, 256, 108)));
  // The better of the two large tiles.
  for (auto [m, n, sms] : {std::tuple{2048.0, 3328.0, 132.0}, {8192.0, 2304.0, 132.0}, {1000.0, 8000.0, 108.0}}) {
    const double best = std::max(one_tile(m, n, 128, 256, sms), one_tile(m, n, 256, 128, sms));
    CHECK(workload::gemm_shape_factor(m, n, 4096, static_cast<int>(sms)) == Approx(best));
  }
  // Llama 3 405B on H100 (132 SMs), M = 8192, QKV 2304 columns: 576 tiles of 128x256 in 5 waves: 0.873.
  CHECK(workload::gemm_shape_factor(8192, 2304, 16384, 132) == Approx(576.0 / 660.0));
  // Tile quantisation: 1000 rows pad to 1024.
  CHECK(workload::gemm_shape_factor(1000, 128 * 108, 4096, 108) == Approx(1000.0 / 1024.0));
  // A single partial wave is split along k: 32 tiles of 128x256 on 108 SMs, 3 slices of 2389 deep.
  CHECK(workload::gemm_shape_factor(4096, 256, 7168, 108) == Approx(96.0 / 108.0));
  // ... but not into slices shallower than 256: k 512 allows 2.
  CHECK(workload::gemm_shape_factor(4096, 256, 512, 108) == Approx(64.0 / 108.0));
  // The MoE router of DeepSeek-V3 (256 experts) on H800, 4096 tokens: 32 tiles, split in 4.
  CHECK(workload::gemm_shape_factor(4096, 256, 7168, 132) == Approx(128.0 / 132.0));
  // An exact number of full waves loses nothing.
  CHECK(workload::gemm_shape_factor(128 * 108, 256 * 4, 4096, 108) == Approx(1.0));
}

TEST_CASE("GEMM kernels run at the best-shape fraction times the shape factor", "[model][gemm]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  const workload::GemmCeiling a100{108, 0.859};
  workload::Efficiency eff(312e12, 2039e9, cal, 1.0, 0.0, a100);
  const workload::Kernel fc1{workload::KernelClass::gemm, 2.0 * 2048 * 12288 * 6144, 0, 2048, 12288, 6144};
  const double f = 0.859 * 768.0 / 864.0;
  CHECK(eff.fraction(fc1) == Approx(f));
  CHECK(eff.time(fc1) == Approx(fc1.flops / (312e12 * f) + cal.kernel_overhead_s));
  CHECK(eff.shape_cost(fc1) == Approx(fc1.flops / (312e12 * f) - fc1.flops / (312e12 * 0.859)));
  // tp_comm_overlap's chunks: 8 GEMMs of 256 rows each, every one at the shape factor of 256 rows (48 tiles
  // of 128x256, split in two along k: 96 of 108 SMs).
  workload::Kernel chunked = fc1;
  chunked.row_chunks = 8;
  CHECK(eff.fraction(chunked) == Approx(0.859 * 96.0 / 108.0));
  // Shape unknown, or an accelerator without the fields: gemm_efficiency (the fallback); FP8 GEMMs keep theirs.
  CHECK(eff.fraction({workload::KernelClass::gemm, 1e12, 1e6}) == Approx(cal.gemm_efficiency));
  workload::Efficiency none(312e12, 2039e9, cal);
  CHECK(none.fraction(fc1) == Approx(cal.gemm_efficiency));
  CHECK(none.shape_cost(fc1) == 0.0);
  workload::Kernel fp8 = fc1;
  fp8.cls = workload::KernelClass::fp8_gemm;
  CHECK(eff.fraction(fp8) == Approx(cal.fp8_gemm_efficiency));
  // The backward's GEMMs: the weight gradient is k x n, reduced over m, never chunked.
  const auto w = workload::weight_gradient(chunked);
  CHECK(w.m == 12288);
  CHECK(w.k == 2048);
  CHECK(w.n == 6144);
  CHECK(w.row_chunks == 1);
}

TEST_CASE("the GEMM ceiling is switched by /simulation/gemm_ceiling, off by default", "[model][gemm]")
{
  auto on = test::scenario_with([](nlohmann::json& j) {
    j["cluster"]["accelerator"] = "A100-SXM-80GB";
    j["simulation"]["gemm_ceiling"] = true;
  });
  auto off = test::scenario_with([](nlohmann::json& j) { j["cluster"]["accelerator"] = "A100-SXM-80GB"; });
  CHECK(on.cluster.accelerator.sm_count == 108);
  CHECK(on.cluster.accelerator.matmul_max_fraction == Approx(0.859));
  const auto& cal = scenario::Catalog::instance().calibration();
  const auto w_on = workload::build_workload(on, cal), w_off = workload::build_workload(off, cal);
  CHECK(w_on.gemm.ceiling);
  CHECK_FALSE(w_off.gemm.ceiling);
  CHECK(w_off.gemm.efficiency == Approx(cal.gemm_mamf_fraction * 0.859)); // off: the part's MAMF share
  CHECK(w_off.gemm.shape_cost_s == 0.0);
  CHECK(w_on.gemm.efficiency < 0.859);
  CHECK(w_on.gemm.shape_cost_s > 0.0);
  // An inline accelerator can set or override the fields.
  auto inline_acc = test::scenario_with([](nlohmann::json& j) {
    j["cluster"]["accelerator"] = {{"preset", "A100-SXM-80GB"}, {"compute", {{"sm_count", 96}}}};
  });
  CHECK(inline_acc.cluster.accelerator.sm_count == 96);
  CHECK(inline_acc.cluster.accelerator.matmul_max_fraction == Approx(0.859));
  // Half a ceiling is refused: a device without a preset that gives only one of the two fields.
  CHECK_THROWS_WITH(test::scenario_with([](nlohmann::json& j) {
                      j["cluster"]["accelerator"] = {{"preset", "V100-SXM-32GB"}, {"compute", {{"sm_count", 80}}}};
                    }),
                    Catch::Contains("/cluster/accelerator/compute") && Catch::Contains("both"));
}

TEST_CASE("causal MFU counts half the attention square", "[model][gemm]")
{
  auto s = test::scenario_with([](nlohmann::json& j) {
    j["model"] = {{"preset", "gpt3-175b"}};
    j["parallelism"]["vpp"] = 1;
  });
  auto shape = workload::ModelShape::of(s.model);
  const double B = s.training.global_batch_size, sq = s.model.seq_length, l = 96, h = 12288;
  // 12 L h s per token on the full square; 6 L h s causal (per token, x3 for forward and backward).
  CHECK(shape.model_flops_per_step(s) - shape.model_flops_per_step_causal(s) == Approx(B * sq * 6 * l * h * sq));
}

TEST_CASE("fused attention runs at the accelerator's own fraction of the peak, else the calibration's",
          "[model][attention]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  // The catalogue's Hopper parts carry FlashAttention-2's measured fraction; A100 has none.
  for (const char* hopper : {"H100-SXM-80GB", "H800-SXM-80GB", "H200-SXM-141GB"}) {
    auto s = test::scenario_with([&](nlohmann::json& j) { j["cluster"]["accelerator"] = hopper; });
    CHECK(s.cluster.accelerator.attention_efficiency == Approx(0.35));
  }
  // Long sequences, flash attention: the forward time is the GEMMs' and other kernels' plus attention FLOPs /
  // (peak x e), so the time's differences between three fractions stand in the ratio of their 1/e differences.
  // `part` as named, or as a preset with its compute.attention_efficiency set to `e`.
  auto on = [&](const char* part, std::optional<double> e) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["model"]["seq_length"] = 8192;
      j["training"]["attention"] = "flash";
      j["cluster"]["accelerator"] =
          e ? nlohmann::json{{"preset", part}, {"compute", {{"attention_efficiency", *e}}}} : nlohmann::json(part);
    });
  };
  auto with = [&](std::optional<double> e) { return on("H100-SXM-80GB", e); };
  auto fwd = [&](const scenario::Scenario& s) { return workload::build_workload(s, cal).pipeline.forward_s; };
  const double t35 = fwd(with(std::nullopt)), t20 = fwd(with(0.20)), t70 = fwd(with(0.70)), t35b = fwd(with(0.35));
  CHECK(t35 == t35b);
  CHECK(t20 > t35);
  CHECK(t35 > t70);
  CHECK((t20 - t35) / (t35 - t70) == Approx((1 / 0.20 - 1 / 0.35) / (1 / 0.35 - 1 / 0.70)).epsilon(1e-6));
  // A part without the field: the calibration's attention_efficiency, as if it were given.
  auto a100 = [&](std::optional<double> e) { return on("A100-SXM-80GB", e); };
  CHECK(a100(std::nullopt).cluster.accelerator.attention_efficiency == 0.0);
  CHECK(fwd(a100(std::nullopt)) == fwd(a100(cal.attention_efficiency)));
  CHECK(fwd(a100(std::nullopt)) != fwd(a100(0.35)));
  // Out of range: the path and the range.
  CHECK_THROWS_WITH(with(1.5), Catch::Contains("/cluster/accelerator/compute/attention_efficiency"));
}

TEST_CASE("16-bit GEMMs run at gemm_mamf_fraction of the part's best-shape rate, else at gemm_efficiency",
          "[model][gemm]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  // The share is the A100's: its Megatron-LM runs' gemm_efficiency over its measured best-shape rate.
  CHECK(cal.gemm_mamf_fraction * 0.859 == Approx(cal.gemm_efficiency).epsilon(1e-4));
  auto on = [&](const char* part, std::optional<double> mamf) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["cluster"]["accelerator"] =
          mamf ? nlohmann::json{{"preset", part}, {"compute", {{"matmul_max_fraction", *mamf}}}} : nlohmann::json(part);
    });
  };
  auto efficiency = [&](const scenario::Scenario& s) { return workload::build_workload(s, cal).gemm.efficiency; };
  CHECK(efficiency(on("H100-SXM-80GB", std::nullopt)) == Approx(cal.gemm_mamf_fraction * 0.801));
  CHECK(efficiency(on("H100-SXM-80GB", 0.9)) == Approx(cal.gemm_mamf_fraction * 0.9));
  // The GEMM-bound part of a pass scales as 1/e: three best-shape rates, their times' differences in the ratio
  // of their 1/e differences (the other kernels' time cancels).
  auto fwd = [&](double mamf) { return workload::build_workload(on("H100-SXM-80GB", mamf), cal).pipeline.forward_s; };
  const double f = cal.gemm_mamf_fraction, t5 = fwd(0.5), t7 = fwd(0.7), t9 = fwd(0.9);
  CHECK(t5 > t7);
  CHECK(t7 > t9);
  CHECK((t5 - t7) / (t7 - t9) ==
        Approx((1 / (f * 0.5) - 1 / (f * 0.7)) / (1 / (f * 0.7) - 1 / (f * 0.9))).epsilon(1e-6));
  // A part without a measured rate: gemm_efficiency.
  const auto ascend = on("Ascend-910B", std::nullopt);
  CHECK(ascend.cluster.accelerator.matmul_max_fraction == 0.0);
  CHECK(efficiency(ascend) == Approx(cal.gemm_efficiency));
  // A calibration without the share: every part at gemm_efficiency.
  auto plain = cal;
  plain.gemm_mamf_fraction = 0;
  CHECK(workload::build_workload(on("H100-SXM-80GB", std::nullopt), plain).gemm.efficiency ==
        Approx(cal.gemm_efficiency));
}
