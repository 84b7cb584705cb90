// The 2025-2026 parts of the catalogue (issue 17): each preset loads with its numbers and runs a small
// scenario; the scale-up domain presets (GB200 NVL72, CloudMatrix 384) build their reference clusters.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/topology/Fabric.hpp"

using namespace trainsim;
using nlohmann::json;

namespace {

/// Llama-3-8B on two nodes of `per_node` accelerators of `id` (tp `tp`, dp the rest; full recompute at tp 1), one step.
scenario::Scenario small_run(const std::string& id, int per_node, const std::string& precision = "bf16", int tp = 8)
{
  return test::scenario_with([&](json& j) {
    j["cluster"] = {{"accelerator", id},
                    {"nodes", 2},
                    {"accelerators_per_node", per_node},
                    {"fabric",
                     {{"type", "fat_tree"},
                      {"nic_bandwidth", "400Gbps"},
                      {"tiers", 2},
                      {"latency", "1us"},
                      {"switch_radix", 512}}}};
    j["model"] = {{"preset", "llama3-8b"}};
    const int dp = 2 * per_node / tp;
    j["parallelism"] = {{"tp", tp},       {"pp", 1}, {"dp", dp}, {"vpp", 1}, {"sequence_parallel", tp > 1},
                        {"zero_stage", 1}};
    j["training"]["global_batch_size"] = 4 * dp;
    j["training"]["precision"] = precision;
    if (tp == 1)
      j["training"]["recompute"] = "full"; // the whole model per accelerator: fit a 64 GB part
  });
}

} // namespace

TEST_CASE("catalogue 2025-2026: the new parts load with their sourced numbers", "[catalog]")
{
  const auto& cat = scenario::Catalog::instance();
  struct Row {
    const char* id;
    double bf16_tflops, memory_gb, peak_w;
    int per_node;
  };
  for (const Row& r : {Row{"Ascend-910C", 780, 128, 700, 8}, Row{"H20-141GB", 148, 141, 400, 8},
                       Row{"B200-SXM-192GB", 2250, 192, 1000, 8}, Row{"GB200-NVL72", 2500, 192, 1200, 72}}) {
    INFO(r.id);
    const auto& entry = cat.accelerators().at(r.id);
    CHECK(entry.contains("sources"));
    const auto a = scenario::parse_accelerator(entry, "/catalog/accelerators/" + std::string(r.id), r.id, nullptr);
    CHECK(a.peak_flops.at("bf16") == Approx(r.bf16_tflops * 1e12));
    CHECK(a.memory_bytes == Approx(r.memory_gb * 1e9));
    CHECK(a.peak_power_w == Approx(r.peak_w));
    CHECK(a.accelerators_per_node == r.per_node);
  }
  // The Ascend 910B's disputed peak stays at the documented choice (docs/reference/accelerators.md).
  const auto b = scenario::parse_accelerator(cat.accelerators().at("Ascend-910B"), "/x", "Ascend-910B", nullptr);
  CHECK(b.peak_flops.at("bf16") == Approx(320e12));
}

TEST_CASE("catalogue 2025-2026: each new part runs a small scenario", "[sim][catalog]")
{
  for (const auto& [id, per_node] : std::vector<std::pair<std::string, int>>{
           {"Ascend-910C", 8}, {"H20-141GB", 8}, {"B200-SXM-192GB", 8}, {"H200-SXM-141GB", 8}, {"GB200-NVL72", 72}}) {
    INFO(id);
    const auto s = small_run(id, per_node);
    const auto out = cli::run_scenario(s, scenario::Catalog::instance());
    CHECK(std::isfinite(out.metrics.step_time_s));
    CHECK(out.metrics.step_time_s > 0);
    CHECK(out.metrics.mfu > 0.05);
    CHECK(out.metrics.mfu < 1.0);
  }
}

TEST_CASE("catalogue 2025-2026: the faster part has the shorter step (B200 < H200 < H20 on the same job)",
          "[sim][catalog]")
{
  auto step = [](const std::string& id) {
    return cli::run_scenario(small_run(id, 8), scenario::Catalog::instance()).metrics.step_time_s;
  };
  const double b200 = step("B200-SXM-192GB"), h200 = step("H200-SXM-141GB"), h20 = step("H20-141GB");
  CHECK(b200 < h200);
  CHECK(h200 < h20);
}

TEST_CASE("fabric presets gb200-nvl72 and cloudmatrix-384 build their reference clusters", "[catalog]")
{
  const auto& cat = scenario::Catalog::instance();
  for (const auto& [preset, per_node] :
       std::vector<std::pair<std::string, int>>{{"gb200-nvl72", 72}, {"cloudmatrix-384", 384}}) {
    INFO(preset);
    const json& rc = cat.fabrics().at(preset).at("reference_cluster");
    json cluster = rc;
    cluster["fabric"] = {{"preset", preset}};
    const auto c = scenario::parse_cluster_object(cluster, "/catalog/fabrics/" + preset + "/reference_cluster", cat);
    CHECK(c.accelerators_per_node == per_node);
    const auto f = topology::Fabric::build(c);
    CHECK(f.summary().accelerators == static_cast<long>(rc.at("nodes").get<int>()) * per_node);
  }
}

TEST_CASE("catalogue: Kunlunxin P800 and Hygon BW1000 load with their sourced numbers", "[catalog]")
{
  const auto& cat = scenario::Catalog::instance();
  struct Row {
    const char* id;
    double fp16_tflops, memory_gb, bandwidth_gbps, peak_w;
  };
  for (const Row& r : {Row{"Kunlunxin-P800", 345, 96 * 1.073741824 /* 96 GiB */, 1600, 400},
                       Row{"Hygon-BW1000", 480, 64, 1600, 300}}) {
    INFO(r.id);
    const auto& entry = cat.accelerators().at(r.id);
    for (const char* field : {"peak_flops", "memory", "scale_up", "node", "power"})
      CHECK(entry.at("sources").contains(field));
    const auto a = scenario::parse_accelerator(entry, "/catalog/accelerators/" + std::string(r.id), r.id, nullptr);
    CHECK(a.peak_flops.at("fp16") == Approx(r.fp16_tflops * 1e12));
    CHECK(a.memory_bytes == Approx(r.memory_gb * 1e9));
    CHECK(a.memory_bandwidth == Approx(r.bandwidth_gbps * 1e9));
    CHECK(a.peak_power_w == Approx(r.peak_w));
    CHECK(a.accelerators_per_node == 8);
    // No source gives a BF16 or FP8 rate for these parts: the catalogue leaves them out rather than guess.
    CHECK(a.peak_flops.count("bf16") == 0);
    CHECK(a.peak_flops.count("fp8") == 0);
  }
}

TEST_CASE("catalogue: P800 and BW1000 run a small fp16 scenario and refuse bf16 with the fix", "[sim][catalog]")
{
  for (const std::string id : {"Kunlunxin-P800", "Hygon-BW1000"}) {
    INFO(id);
    const auto out = cli::run_scenario(small_run(id, 8, "fp16"), scenario::Catalog::instance());
    CHECK(std::isfinite(out.metrics.step_time_s));
    CHECK(out.metrics.step_time_s > 0);
    CHECK(out.metrics.mfu > 0.05);
    CHECK(out.metrics.mfu < 1.0);
    // bf16 has no published rate: a one-line error at /training/precision instead of a guessed number.
    try {
      (void)small_run(id, 8, "bf16");
      FAIL("bf16 on " << id << " was accepted");
    } catch (const core::ConfigError& e) {
      CHECK(std::string(e.what()).find("/training/precision") != std::string::npos);
    }
  }
}

TEST_CASE("catalogue: on a compute-bound fp16 job the step follows the published FP16 peaks "
          "(BW1000 480 < P800 345 < H20 148 TFLOPS)",
          "[sim][catalog]")
{
  // tp 1: every accelerator holds the whole model, so scale-up bandwidth (the parts' least sourced figure)
  // carries no tensor-parallel traffic; the fabric (400 Gbps per accelerator) is the same for every part.
  auto step = [](const std::string& id) {
    return cli::run_scenario(small_run(id, 8, "fp16", 1), scenario::Catalog::instance()).metrics.step_time_s;
  };
  const double bw1000 = step("Hygon-BW1000"), p800 = step("Kunlunxin-P800"), h20 = step("H20-96GB");
  CHECK(bw1000 < p800);
  CHECK(p800 < h20);
  // Compute-bound: the step ratios stay within 10% of the peak ratios (memory bandwidth and the shared
  // fabric take the rest).
  CHECK(p800 / bw1000 == Approx(480.0 / 345.0).epsilon(0.10));
  CHECK(h20 / p800 == Approx(345.0 / 148.0).epsilon(0.10));
}
