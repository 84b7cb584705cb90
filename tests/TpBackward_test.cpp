// Tensor-parallel communication of the backward pass as Megatron-LM runs it (docs/architecture.md#tensor-parallel-
// communication): with sequence parallelism 1.5x the forward's volume, the row-parallel linears' output-gradient
// all-gathers blocking, the column-parallel linears' input all-gathers beside their data-gradient GEMMs and their
// reduce-scatters beside the weight-gradient GEMMs; without it the input-gradient all-reduces beside the
// weight-gradient GEMMs (tp_async_allreduce) or blocking (the 2021 code).
#include <catch2/catch.hpp>

#include "RunUtil.hpp"
#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/Program.hpp"

using namespace trainsim;
using workload::OpKind;

namespace {

/// gpt3-1.7b (24 layers, h 2304; its TP transfers outlast their GEMMs) or gpt3-18.4b (h 6144: most GEMMs outlast
/// their transfers) on one node of 8 A100s, tp 8, one micro-batch; no jitter, host overhead or protocol model,
/// so that every TP transfer takes bytes / B + steps (route latency + step latency).
scenario::Scenario tp8(bool sp, bool async, const std::string& scale_up = "", bool overlap = false,
                       const std::string& recompute = "selective", int nodes = 1,
                       const std::string& model = "gpt3-1.7b")
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(nodes, 8, "100Gbps", "1us");
    if (!scale_up.empty())
      j["cluster"]["scale_up"] = {{"bandwidth", scale_up}};
    j["model"] = {{"preset", model}};
    j["parallelism"] = {{"tp", 8},
                        {"pp", 1},
                        {"dp", nodes},
                        {"sequence_parallel", sp},
                        {"tp_async_allreduce", async},
                        {"tp_comm_overlap", overlap}};
    j["training"]["global_batch_size"] = nodes;
    j["training"]["micro_batch_size"] = 1;
    j["training"]["recompute"] = recompute;
    j["simulation"]["collective_efficiency"] = false;
    j["simulation"]["variability"] = false;
    j["simulation"]["host_overhead"] = false;
  });
}

cli::RunOutput run(const scenario::Scenario& s, sim::Fidelity f = sim::Fidelity::automatic)
{
  return test::run_traced(s, f);
}

/// The closed form of one TP ring transfer of `tr` inside a node: each rank sends ring_bytes to its neighbour
/// over its scale-up link at the bus efficiency, and every ring step pays the route and the step latency.
double ring_time(const scenario::Scenario& s, const workload::TpTraffic& tr)
{
  const auto& cal = scenario::Catalog::instance().calibration();
  const auto fabric = topology::Fabric::build(s.cluster);
  std::vector<topology::Hop> hops;
  fabric.route(0, 1, hops);
  double route = 0;
  for (const auto& h : hops)
    route += fabric.links()[static_cast<size_t>(h.link)].latency;
  return tr.ring_bytes / (s.cluster.scale_up.bandwidth * cal.scale_up_bus_efficiency) +
         tr.ring_steps * (route + cal.collective_step_latency_s);
}

/// Exposed and hidden TP seconds of one layer's plan. The GEMMs beside a transfer are slowed by
/// tp_overlap_gemm_slowdown while both run, at full speed after; the pair takes the longer of the transfer and
/// the GEMMs so slowed, and what it takes beyond the GEMMs' own time is the TP communication's (exposed) cost.
struct Closed {
  double exposed = 0, hidden = 0, pass = 0; // pass: blocking transfers + the overlapped pairs' time
  double gemm = 0;                          // the GEMMs' own seconds
};

Closed closed_form(const scenario::Scenario& s, const workload::TpPlan& plan, const workload::Efficiency& eff)
{
  const double slow = 1.0 + scenario::Catalog::instance().calibration().tp_overlap_gemm_slowdown;
  Closed c;
  c.exposed = c.pass = plan.blocking.ring_bytes > 0 ? ring_time(s, plan.blocking) : 0.0;
  for (const auto& o : plan.beside) {
    double g = 0;
    for (const auto& k : o.gemms)
      g += eff.time(k);
    const double t = ring_time(s, o.traffic);
    const double pair = t < g * slow ? g + t * (slow - 1) / slow : t;
    c.gemm += g;
    c.exposed += pair - g;
    c.hidden += std::min(t, g * slow);
    c.pass += pair;
  }
  return c;
}

workload::Efficiency a100_bf16(const scenario::Scenario& s)
{
  const auto& acc = s.cluster.accelerator;
  return workload::Efficiency(acc.peak(scenario::Precision::bf16), acc.memory_bandwidth,
                              scenario::Catalog::instance().calibration());
}

} // namespace

TEST_CASE("tp backward plan: sequence parallelism moves 1.5x the forward, the column-parallel linears' "
          "collectives beside their GEMMs; without it the all-reduces beside the weight gradients or blocking",
          "[workload][tp-backward]")
{
  const double t = 8, msg = 2048.0 * 2304 * 2, gather = (t - 1) / t * msg;
  SECTION("sequence parallel")
  {
    const auto s = tp8(true, true);
    const auto shape = workload::ModelShape::of(s.model);
    const workload::LayerOps ops(s, shape);
    const auto f = ops.layer_tp_forward(), b = ops.layer_tp_backward();
    CHECK(f.beside.empty());
    CHECK(f.blocking.ring_bytes == Approx(4 * gather));
    CHECK(f.blocking.collectives == 4);
    CHECK(b.total().ring_bytes == Approx(1.5 * f.total().ring_bytes));
    CHECK(b.total().collectives == 6);
    CHECK(b.blocking.ring_bytes == Approx(2 * gather)); // the two row-parallel output-gradient all-gathers
    REQUIRE(b.beside.size() == 4);                      // QKV: gather, reduce-scatter; FC1: the same
    for (size_t i = 0; i < 4; ++i) {
      const auto& o = b.beside[i];
      CHECK(o.traffic.ring_bytes == Approx(gather));
      CHECK(o.traffic.ring_steps == 7);
      REQUIRE(o.gemms.size() == 1);
      CHECK(o.weight_gradient == (i % 2 == 1));
      // QKV (h x 3h/tp) then FC1 (h x 4h/tp): the data gradient's output is the input (m x h), the weight
      // gradient's the weight (h x n).
      const double n = i < 2 ? 3 * 2304 / t : 4 * 2304 / t;
      CHECK(o.gemms[0].flops == Approx(2.0 * 2048 * 2304 * n));
      CHECK(o.gemms[0].m == Approx(i % 2 == 0 ? 2048 : 2304));
    }
  }
  SECTION("no sequence parallelism: asynchronous or blocking all-reduces")
  {
    for (bool async : {true, false}) {
      const auto s = tp8(false, async);
      const auto shape = workload::ModelShape::of(s.model); // LayerOps keeps a reference
      const workload::LayerOps ops(s, shape);
      const auto f = ops.layer_tp_forward(), b = ops.layer_tp_backward();
      CHECK(f.blocking.ring_bytes == Approx(4 * gather));
      CHECK(f.blocking.collectives == 2);
      CHECK(b.total().ring_bytes == Approx(f.total().ring_bytes));
      CHECK(b.beside.size() == (async ? 2u : 0u));
      CHECK(b.blocking.ring_bytes == Approx(async ? 0.0 : 4 * gather));
      for (const auto& o : b.beside) {
        CHECK(o.weight_gradient);
        CHECK(o.traffic.ring_bytes == Approx(2 * gather));
        CHECK(o.traffic.ring_steps == 14);
      }
    }
  }
  SECTION("tp_comm_overlap: every collective beside the GEMM it is pipelined or bulk-overlapped with")
  {
    const auto s = tp8(true, true, "", true);
    const auto shape = workload::ModelShape::of(s.model); // LayerOps keeps a reference
    const workload::LayerOps ops(s, shape);
    const auto f = ops.layer_tp_forward(), b = ops.layer_tp_backward();
    CHECK(f.blocking.ring_bytes == 0);
    CHECK(b.blocking.ring_bytes == 0);
    CHECK(f.beside.size() == 4);
    CHECK(b.beside.size() == 6);
    CHECK(b.total().ring_bytes == Approx(1.5 * f.total().ring_bytes));
  }
}

TEST_CASE("tp backward: the simulated exposed TP time and step equal the closed form (SP, async, blocking, "
          "overlap, full recompute; GEMM- and transfer-bound)",
          "[model][sim][tp-backward]")
{
  struct Case {
    bool sp, async;
    std::string scale_up;
    bool overlap;
    std::string recompute, model = "gpt3-1.7b";
  };
  for (const auto& c : std::vector<Case>{{true, true, "", false, "selective"},
                                         {true, true, "20GB/s", false, "selective"},
                                         {false, true, "", false, "selective"},
                                         {false, true, "20GB/s", false, "selective"},
                                         {false, false, "", false, "selective"},
                                         {true, true, "", true, "selective"},
                                         {true, true, "20GB/s", true, "selective"},
                                         {true, true, "", false, "full"},
                                         {false, true, "", false, "full"},
                                         {true, true, "", false, "selective", "gpt3-18.4b"},
                                         {false, true, "", false, "selective", "gpt3-18.4b"},
                                         {true, true, "", true, "selective", "gpt3-18.4b"},
                                         {true, true, "", false, "full", "gpt3-18.4b"}}) {
    const auto s = tp8(c.sp, c.async, c.scale_up, c.overlap, c.recompute, 1, c.model);
    const auto shape = workload::ModelShape::of(s.model); // LayerOps keeps a reference
    const workload::LayerOps ops(s, shape);
    const auto eff = a100_bf16(s);
    const Closed f = closed_form(s, ops.layer_tp_forward(), eff);
    Closed b = closed_form(s, ops.layer_tp_backward(), eff);
    if (c.recompute == "full") { // the recomputed forward's collectives again
      b.exposed += f.exposed;
      b.hidden += f.hidden;
      b.pass += f.pass;
      b.gemm += f.gemm;
    }
    const double L = s.model.layers;
    const auto out = run(s);
    const auto& prog = out.workload.stages.front();
    // Step: the compute without the GEMMs beside transfers, plus the passes' transfers and overlapped pairs.
    const double step = prog.compute_s + L * (f.pass + b.pass - f.gemm - b.gemm);
    INFO(c.model << " sp " << c.sp << " async " << c.async << " scale_up '" << c.scale_up << "' overlap " << c.overlap
                 << " " << c.recompute << ": exposed per layer f " << f.exposed << " b " << b.exposed << " hidden b "
                 << b.hidden << "; simulated tp " << out.metrics.breakdown.tp_comm << " step " << out.sim.step_time_s);
    CHECK(out.metrics.breakdown.tp_comm == Approx(L * (f.exposed + b.exposed)).epsilon(1e-4));
    CHECK(out.sim.step_time_s == Approx(step).epsilon(1e-4));
    if (c.sp && !c.overlap)
      CHECK(b.hidden > 0);
    if (!c.sp && !c.async)
      CHECK(b.hidden == 0);
    // Transfer-bound (gpt3-1.7b: 7 ring steps of latency each): the GEMMs hide only their own slowed time;
    // gpt3-18.4b's SP transfers hide entirely (exposed: the blocking ones and the GEMMs' slowdown).
    const auto plan_b = ops.layer_tp_backward();
    const double blocking_b = plan_b.blocking.ring_bytes > 0 ? ring_time(s, plan_b.blocking) : 0.0;
    double beside_b = 0; // the backward's transfers beside GEMMs, alone
    for (const auto& o : plan_b.beside)
      beside_b += ring_time(s, o.traffic);
    const double slow = 1.0 + scenario::Catalog::instance().calibration().tp_overlap_gemm_slowdown;
    if (c.model == "gpt3-1.7b" && (c.sp || c.async) && c.recompute == "selective")
      CHECK(b.hidden < 0.9 * beside_b);
    if (c.model == "gpt3-18.4b" && c.sp && !c.overlap && c.recompute == "selective") {
      CHECK(b.hidden == Approx(beside_b));
      CHECK(b.exposed == Approx(blocking_b + beside_b * (slow - 1) / slow));
    }
  }
  // Without the asynchronous all-reduce the backward exposes its all-reduces: slower than with it.
  const auto sync = run(tp8(false, false)), async = run(tp8(false, true));
  CHECK(sync.sim.step_time_s > async.sim.step_time_s);
  CHECK(sync.metrics.breakdown.tp_comm > async.metrics.breakdown.tp_comm);
}

TEST_CASE("tp backward keeps full and reduced fidelity equal", "[model][sim][tp-backward][fidelity]")
{
  for (bool sp : {true, false})
    for (bool overlap : {false, true}) {
      if (overlap && !sp)
        continue;
      const auto s = tp8(sp, true, "", overlap, "selective", 2);
      const auto full = run(s, sim::Fidelity::full), reduced = run(s, sim::Fidelity::reduced);
      INFO("sp " << sp << " overlap " << overlap << ": full " << full.sim.step_time_s << " s, reduced "
                 << reduced.sim.step_time_s << " s");
      CHECK(full.sim.fidelity == "full");
      CHECK(reduced.sim.fidelity == "reduced");
      CHECK(reduced.sim.step_time_s == Approx(full.sim.step_time_s).epsilon(0.01));
      CHECK(reduced.metrics.breakdown.tp_comm == Approx(full.metrics.breakdown.tp_comm).epsilon(0.01).margin(1e-9));
    }
}

TEST_CASE("tp backward under zb-h1: B blocks on the collectives that were beside the weight-gradient GEMMs, W "
          "runs those GEMMs alone",
          "[workload][tp-backward][pipeline]")
{
  for (bool sp : {true, false}) {
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(2, 8, "100Gbps", "1us");
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", 8}, {"pp", 2}, {"dp", 1}, {"sequence_parallel", sp}, {"schedule", "zb-h1"}};
      j["training"]["global_batch_size"] = 4;
      j["training"]["micro_batch_size"] = 1;
      j["training"]["recompute"] = "selective";
    });
    const auto w = workload::build_workload(s, scenario::Catalog::instance().calibration());
    const auto shape = workload::ModelShape::of(s.model); // LayerOps keeps a reference
    const workload::LayerOps ops(s, shape);
    const auto b = ops.layer_tp_backward();
    double blocking = b.blocking.ring_bytes, beside = 0; // per layer, in B
    for (const auto& o : b.beside)
      (o.weight_gradient ? blocking : beside) += o.traffic.ring_bytes;
    const double layers = s.stage_layers(0);
    double b_blocking = 0, b_beside = 0, bytes_total = 0;
    int backward_mb = -1;
    for (const auto& op : w.stages.front().ops)
      if (op.kind == OpKind::tp_comm && op.pass == workload::Pass::backward) {
        if (backward_mb < 0)
          backward_mb = op.microbatch;
        if (op.microbatch == backward_mb)
          (op.seconds > 0 ? b_beside : b_blocking) += op.bytes;
        bytes_total += op.bytes;
      }
    INFO("sp " << sp);
    CHECK(b_blocking == Approx(layers * blocking));
    CHECK(b_beside == Approx(layers * beside).margin(1e-9));
    // Every micro-batch's B moves the whole backward volume (W moves none).
    CHECK(bytes_total == Approx(4 * layers * b.total().ring_bytes));
  }
}
