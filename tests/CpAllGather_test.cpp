// Context parallelism by all-gather (/parallelism/cp_comm_type "all_gather", Transformer Engine's
// AttnFuncWithCPAndKVAllGather, Llama 3 section 3.3.2; docs/scenario-format.md): per layer and micro-batch the
// forward all-gathers K and V over the CP group before attention, the backward gathers them again and
// reduce-scatters dK and dV, all of it exposed; the ring ("p2p") hides its exchange behind the attention.
#include <catch2/catch.hpp>

#include <map>

#include "RunUtil.hpp"
#include "TestUtil.hpp"
#include "trainsim/collective/Protocol.hpp"
#include "trainsim/core/Errors.hpp"

using namespace trainsim;
using nlohmann::json;
using workload::OpKind;

namespace {

/// llama3-8b cut to 4 layers at sequence 8,192 on cp ranks of tp accelerators each, one node per CP rank on one
/// switch (the CP ring crosses the NICs); gradients reduced after the backward (nothing beside the CP traffic),
/// the alpha-beta collectives, no jitter or host overhead: the exposed CP time has a closed form.
scenario::Scenario cp_scenario(const std::string& type, int cp = 4, int tp = 1, const std::string& nic = "100Gbps",
                               bool efficiency = false)
{
  return test::scenario_with([&](json& j) {
    j["cluster"] = test::tiny_cluster(cp, tp, nic, "1us");
    j["model"] = {{"preset", "llama3-8b"}, {"layers", 4}, {"seq_length", 8192}};
    j["parallelism"] = {{"tp", tp},
                        {"pp", 1},
                        {"dp", 1},
                        {"cp", cp},
                        {"cp_comm_type", type},
                        {"zero_stage", 1},
                        {"overlap_grad_reduce", false}};
    if (tp > 1)
      j["parallelism"]["sequence_parallel"] = true;
    j["training"]["global_batch_size"] = 2;
    j["training"]["micro_batch_size"] = 1;
    j["training"]["recompute"] = "none";
    j["simulation"]["collective_efficiency"] = efficiency;
    j["simulation"]["variability"] = false;
    j["simulation"]["host_overhead"] = false;
  });
}

/// One ring collective (all-gather of a tensor, or reduce-scatter of its gradient) over the cp members of
/// `bytes_per_rank` each, alpha-beta bound: cp-1 steps, (cp-1) x bytes_per_rank through each member's NIC.
double ring_collective(const scenario::Scenario& s, double bytes_per_rank)
{
  const int cp = s.parallelism.cp;
  return test::ring_alpha_beta(s, cp, (cp - 1.0) * bytes_per_rank);
}

/// This rank's share of one of K or V of a layer: seq/cp tokens x its kv heads (kv_heads / tp) x head_dim, 16-bit.
double local_k_bytes(const scenario::Scenario& s)
{
  const double head_dim = static_cast<double>(s.model.hidden_size) / s.model.attention_heads;
  return s.training.micro_batch_size * static_cast<double>(s.model.seq_length) / s.parallelism.cp *
         std::max(1.0, s.model.kv_heads / static_cast<double>(s.parallelism.tp)) * head_dim * 2.0;
}

} // namespace

TEST_CASE("cp_comm_type: p2p by default, all_gather on request, anything else a bad-input error listing both",
          "[cp][scenario]")
{
  CHECK(cp_scenario("p2p").parallelism.cp_comm_type == "p2p");
  CHECK(cp_scenario("all_gather").parallelism.cp_comm_type == "all_gather");
  CHECK(test::scenario_with([](json&) {}).parallelism.cp_comm_type == "p2p");
  try {
    cp_scenario("a2a");
    FAIL("an unknown cp_comm_type was accepted");
  } catch (const core::ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find("/parallelism/cp_comm_type") != std::string::npos);
    CHECK(what.find("\"a2a\" is not valid; valid: p2p, all_gather") != std::string::npos);
  }
  // With cp 1 there is no context-parallel traffic: the key is accepted and changes nothing (so one phased
  // scenario can name it at the top level and raise cp in its long-context phases only).
  auto one = [](const std::string& type) {
    return test::scenario_with([&](json& j) {
      j["cluster"] = test::tiny_cluster(4, 1, "100Gbps", "1us");
      j["model"] = {{"preset", "llama3-8b"}, {"layers", 4}};
      j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 4}, {"cp_comm_type", type}, {"zero_stage", 1}};
      j["training"]["global_batch_size"] = 8;
      j["training"]["micro_batch_size"] = 1;
    });
  };
  const auto cal = scenario::Catalog::instance().calibration();
  const auto a = workload::build_workload(one("all_gather"), cal), b = workload::build_workload(one("p2p"), cal);
  REQUIRE(a.stages.size() == b.stages.size());
  CHECK(a.stages[0].ops.size() == b.stages[0].ops.size());
  for (const auto& op : a.stages[0].ops)
    CHECK(op.kind != OpKind::cp_comm);
}

TEST_CASE("all_gather: one blocking CP op before each pass's compute, the ring's bytes, twice the steps per "
          "tensor; attention FLOPs and compute unchanged",
          "[cp][workload]")
{
  const auto ag = cp_scenario("all_gather"), ring = cp_scenario("p2p");
  const auto cal = scenario::Catalog::instance().calibration();
  const auto w = workload::build_workload(ag, cal), r = workload::build_workload(ring, cal);
  const int cp = ag.parallelism.cp, layers = ag.model.layers;
  const double kv = 2.0 * local_k_bytes(ag); // K and V of this rank
  // Per (pass, micro-batch): the bytes and ring steps of its CP ops (the backward is cut at its gradient buckets,
  // each piece with its whole ring steps).
  std::map<std::pair<int, int>, std::pair<double, int>> per_pass;
  const auto& ops = w.stages[0].ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != OpKind::cp_comm)
      continue;
    CHECK(ops[i].seconds == 0.0); // nothing beside it: all exposed
    CHECK(ops[i].steps >= 1);
    REQUIRE(i + 1 < ops.size());
    CHECK(ops[i + 1].kind == OpKind::compute); // before the attention it feeds
    CHECK(ops[i + 1].pass == ops[i].pass);
    CHECK(ops[i + 1].microbatch == ops[i].microbatch);
    auto& [bytes, steps] = per_pass[{static_cast<int>(ops[i].pass), ops[i].microbatch}];
    bytes += ops[i].bytes;
    steps += ops[i].steps;
  }
  REQUIRE(per_pass.size() == 4); // forward and backward of 2 micro-batches
  for (const auto& [key, sum] : per_pass) {
    if (key.first == static_cast<int>(workload::Pass::forward)) {
      CHECK(sum.first == Approx(layers * (cp - 1) * kv).epsilon(1e-12));
      CHECK(sum.second == layers * 2 * (cp - 1)); // K and V: two all-gathers
    } else {
      CHECK(sum.first == Approx(layers * 2.0 * (cp - 1) * kv).epsilon(1e-12));
      CHECK(sum.second == layers * 4 * (cp - 1)); // K and V gathered again, dK and dV reduce-scattered
    }
  }
  // Causal load balancing as in the ring: the same FLOPs, the same compute (the attention moves from the ring's
  // cp_comm op into the compute op).
  CHECK(w.model_flops_per_step == r.model_flops_per_step);
  CHECK(w.hardware_flops_per_step == r.hardware_flops_per_step);
  CHECK(w.stages[0].compute_s == Approx(r.stages[0].compute_s).epsilon(1e-12));
  // The gathered full-sequence K/V and their gradients: a per-layer transient in the workspace.
  CHECK(w.memory.workspace - r.memory.workspace == Approx(2.0 * cp * kv).epsilon(1e-12));
  CHECK(w.memory.activations == r.memory.activations);
}

TEST_CASE("all_gather: the exposed CP time per step is layers x micro-batches x (2 all-gathers forward, 2 again "
          "and 2 reduce-scatters backward) of the ring closed form",
          "[cp][model][sim]")
{
  for (const char* nic : {"100Gbps", "25Gbps"})
    for (int cp : {2, 4}) {
      const auto s = cp_scenario("all_gather", cp, 1, nic);
      const auto out = test::run_traced(s);
      const double m = static_cast<double>(s.training.global_batch_size) /
                       (s.training.micro_batch_size * static_cast<double>(s.parallelism.dp));
      REQUIRE(out.workload.microbatches == 2);
      const double expected = s.model.layers * m * 6.0 * ring_collective(s, local_k_bytes(s));
      INFO(nic << ", cp " << cp << ": exposed " << out.metrics.breakdown.cp_comm << " s, closed form " << expected
               << " s");
      CHECK(out.metrics.breakdown.cp_comm == Approx(expected).epsilon(1e-3));
      CHECK(out.sim.comm_bytes.at("cp") ==
            Approx(m * s.model.layers * 3.0 * (cp - 1) * 2.0 * local_k_bytes(s)).epsilon(1e-9));
      // The ring on the same scenario hides its exchange behind the attention: it exposes less.
      const auto ring = test::run_traced(cp_scenario("p2p", cp, 1, nic));
      CHECK(ring.metrics.breakdown.cp_comm < out.metrics.breakdown.cp_comm);
      CHECK(ring.metrics.breakdown.compute == Approx(out.metrics.breakdown.compute).epsilon(1e-6));
      CHECK(ring.sim.step_time_s < out.sim.step_time_s);
      // Both kinds count their transfers as CP busy time, hidden or not: exposed <= total, total > 0.
      for (const auto* o : {&ring, &out}) {
        const double total = o->metrics.breakdown.comm_total.at("cp");
        CHECK(total > 0);
        CHECK(o->metrics.breakdown.cp_comm <= total + 1e-12);
      }
    }
}

TEST_CASE("all_gather keeps full and reduced fidelity within 1%", "[cp][sim][fidelity]")
{
  for (bool efficiency : {false, true}) {
    const auto s = cp_scenario("all_gather", 4, 2, "100Gbps", efficiency);
    const auto full = test::run_traced(s, sim::Fidelity::full), reduced = test::run_traced(s, sim::Fidelity::reduced);
    INFO("collective efficiency " << efficiency << ": full " << full.sim.step_time_s << " s, reduced "
                                  << reduced.sim.step_time_s << " s");
    CHECK(full.sim.fidelity == "full");
    CHECK(reduced.sim.fidelity == "reduced");
    CHECK(reduced.sim.step_time_s == Approx(full.sim.step_time_s).epsilon(0.01));
    CHECK(reduced.metrics.breakdown.cp_comm == Approx(full.metrics.breakdown.cp_comm).epsilon(0.01));
    CHECK(full.metrics.breakdown.cp_comm > 0);
  }
}

TEST_CASE("all_gather with NCCL's protocol model costs at least the alpha-beta bound", "[cp][sim]")
{
  const auto bound = test::run_traced(cp_scenario("all_gather", 4, 1, "100Gbps", false));
  const auto nccl = test::run_traced(cp_scenario("all_gather", 4, 1, "100Gbps", true));
  CHECK(nccl.metrics.breakdown.cp_comm >= bound.metrics.breakdown.cp_comm * (1 - 1e-9));
  CHECK(std::isfinite(nccl.sim.step_time_s));
}
