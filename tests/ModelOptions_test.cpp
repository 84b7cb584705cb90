// model.parallel_block and model.sliding_window against hand-computed FLOPs, traffic and memory.
#include <catch2/catch.hpp>

#include "TestUtil.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/LayerOps.hpp"
#include "trainsim/workload/Memory.hpp"
#include "trainsim/workload/ModelShape.hpp"

using namespace trainsim;

namespace {

scenario::Scenario with_model(const nlohmann::json& extra, bool sp = true, const char* attention = "flash")
{
  return test::scenario_with([&](nlohmann::json& j) {
    for (const auto& [k, v] : extra.items())
      j["model"][k] = v;
    j["parallelism"]["sequence_parallel"] = sp;
    j["training"]["attention"] = attention;
  });
}

double attention_flops(const std::vector<workload::Kernel>& ks)
{
  double f = 0;
  for (const auto& k : ks)
    if (k.cls == workload::KernelClass::attention)
      f += k.flops;
  return f;
}

} // namespace

TEST_CASE("parallel block: one tensor-parallel reduction per layer and pass instead of two", "[model-options]")
{
  for (bool sp : {false, true}) {
    auto base = with_model({}, sp);
    auto par = with_model({{"parallel_block", true}}, sp);
    auto sb = workload::ModelShape::of(base.model), sq = workload::ModelShape::of(par.model);
    workload::LayerOps ob(base, sb), op(par, sq);
    const auto tb = ob.layer_tp_traffic(), tq = op.layer_tp_traffic();
    const double t = base.parallelism.tp,
                 msg = 1.0 * base.training.micro_batch_size * base.model.seq_length * base.model.hidden_size * 2;
    INFO("sequence parallel " << sp);
    // Sequential: two all-reduces (or 2 all-gathers + 2 reduce-scatters); parallel: one (or one of each).
    CHECK(tb.collectives == (sp ? 4 : 2));
    CHECK(tq.collectives == (sp ? 2 : 1));
    CHECK(tq.ring_bytes == Approx(2.0 * (t - 1) / t * msg));
    CHECK(tq.ring_steps == 2 * (static_cast<int>(t) - 1));
  }
  // Same GEMM FLOPs (the branches read one input); one normalisation fewer (SwiGLU: one RMSNorm weight of h).
  auto base = with_model({}), par = with_model({{"parallel_block", true}});
  auto sb = workload::ModelShape::of(base.model), sq = workload::ModelShape::of(par.model);
  CHECK(sq.layer_forward_flops == Approx(sb.layer_forward_flops));
  CHECK(sb.layer_params - sq.layer_params == Approx(base.model.hidden_size));
  // Activations: one norm input (2 sbh) and one shared QKV/fc1 input (2 sbh) fewer per layer, before sharding.
  const auto& cal = scenario::Catalog::instance().calibration();
  auto mb = workload::estimate_memory(base, sb, cal), mp = workload::estimate_memory(par, sq, cal);
  CHECK(mp.activations < mb.activations);
}

TEST_CASE("sliding window: attention FLOPs and memory over the window only", "[model-options]")
{
  auto full = with_model({{"seq_length", 8192}});
  auto win = with_model({{"seq_length", 8192}, {"sliding_window", 2048}});
  const double sqn = 8192, w = 2048, h = full.model.hidden_size, t = full.parallelism.tp,
               b = full.training.micro_batch_size;
  auto sf = workload::ModelShape::of(full.model), sw = workload::ModelShape::of(win.model);
  // MFU convention (every query against every key, 4 s^2 h): s w instead of s^2.
  CHECK(sf.attention_core_forward_flops == Approx(4.0 * sqn * sqn * h));
  CHECK(sw.attention_core_forward_flops == Approx(4.0 * sqn * w * h));
  CHECK(sf.layer_forward_flops - sw.layer_forward_flops == Approx(4.0 * sqn * (sqn - w) * h));
  // Fused causal attention: the band of s w - w^2 / 2 query-key pairs instead of the triangle s^2 / 2.
  workload::LayerOps of(full, sf), ow(win, sw);
  CHECK(attention_flops(of.attention_forward()) == Approx(4.0 * b * 0.5 * sqn * sqn * h / t));
  CHECK(attention_flops(ow.attention_forward()) == Approx(4.0 * b * (sqn * w - 0.5 * w * w) * h / t));
  // A window as long as the sequence changes nothing.
  auto same = with_model({{"seq_length", 8192}, {"sliding_window", 8192}});
  CHECK(workload::ModelShape::of(same.model).layer_forward_flops == Approx(sf.layer_forward_flops));
  // Unfused attention keeps the scores: a band of s x w instead of s x s (2 bytes each, scores and softmax).
  const auto& cal = scenario::Catalog::instance().calibration();
  auto unfused = [](int window) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["model"]["seq_length"] = 8192;
      if (window > 0)
        j["model"]["sliding_window"] = window;
      j["training"]["attention"] = "standard";
      j["training"]["recompute"] = "none"; // the scores are kept only without recompute
    });
  };
  auto sfs = unfused(0), sws = unfused(2048);
  auto mf = workload::estimate_memory(sfs, workload::ModelShape::of(sfs.model), cal);
  auto mw = workload::estimate_memory(sws, workload::ModelShape::of(sws.model), cal);
  CHECK(mw.activations < mf.activations);
}

TEST_CASE("sliding window and parallel block: bad values name the key", "[model-options]")
{
  auto error_of = [](const nlohmann::json& extra, int cp = 1) {
    try {
      test::scenario_with([&](nlohmann::json& j) {
        for (const auto& [k, v] : extra.items())
          j["model"][k] = v;
        if (cp > 1)
          j["parallelism"]["cp"] = cp;
      });
    } catch (const core::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of({{"sliding_window", 0}}).rfind("/model/sliding_window", 0) == 0);
  CHECK(error_of({{"sliding_window", -4096}}).rfind("/model/sliding_window", 0) == 0);
  CHECK(error_of({{"sliding_window", "4k"}}).rfind("/model/sliding_window", 0) == 0);
  CHECK(error_of({{"parallel_block", 1}}).rfind("/model/parallel_block", 0) == 0);
  CHECK(error_of({{"sliding_window", 1024}}).empty());
  CHECK(error_of({{"parallel_block", true}}).empty());
}
