// ZeRO stages 1-3 / FSDP, TP communication overlap, and exposed versus total communication.
#include <catch2/catch.hpp>
#include <cmath>

#include "TestUtil.hpp"
#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/Frameworks.hpp"
#include "trainsim/workload/Memory.hpp"
#include "trainsim/workload/Sharding.hpp"

using namespace trainsim;

namespace {

/// Data parallel only, one accelerator per node so that every DP transfer crosses the NICs.
scenario::Scenario dp_ranks(int dp, const std::string& nic, const std::function<void(nlohmann::json&)>& more = {})
{
  return test::scenario_with([&](nlohmann::json& j) {
    j["cluster"] = test::tiny_cluster(dp, 1, nic, "1us");
    j["model"] = {{"preset", "gpt3-1.7b"}};
    j["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", dp}};
    j["training"]["global_batch_size"] = dp * 8;
    j["training"]["micro_batch_size"] = 8;
    j["training"]["recompute"] = "full";
    if (more)
      more(j);
  });
}

cli::RunOutput run(const scenario::Scenario& s)
{
  return cli::run_scenario(s, scenario::Catalog::instance());
}

double total_of(const cli::RunOutput& o, const char* kind)
{
  const auto& t = o.metrics.breakdown.comm_total;
  auto it = t.find(kind);
  return it == t.end() ? 0.0 : it->second;
}

/// Exposed time of every kind is at most its busy (total) time, per stage and in the breakdown.
void check_exposed_within_total(const cli::RunOutput& o)
{
  const double eps = 1e-12;
  for (const auto& st : o.sim.stages) {
    REQUIRE(st.comm_total.count("tp"));
    CHECK(st.tp_comm <= st.comm_total.at("tp") * (1 + 1e-9) + eps);
    CHECK(st.pp_comm <= st.comm_total.at("pp") * (1 + 1e-9) + eps);
    CHECK(st.dp_comm <= st.comm_total.at("dp") * (1 + 1e-9) + eps);
  }
  const auto& b = o.metrics.breakdown;
  CHECK(b.tp_comm <= total_of(o, "tp") * (1 + 1e-9) + eps);
  CHECK(b.pp_comm <= total_of(o, "pp") * (1 + 1e-9) + eps);
  CHECK(b.dp_comm <= total_of(o, "dp") * (1 + 1e-9) + eps);
}

} // namespace

TEST_CASE("zero_stage 0-3 and fsdp parse; contradictions name their path", "[scenario][zero]")
{
  for (int z : {0, 1, 2, 3})
    CHECK(dp_ranks(8, "100Gbps", [&](nlohmann::json& j) {
            j["parallelism"]["zero_stage"] = z;
          }).parallelism.zero_stage == z);
  auto f = dp_ranks(8, "100Gbps", [](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; });
  CHECK(f.parallelism.zero_stage == 3);
  CHECK(f.parallelism.fsdp);
  CHECK(f.parallelism.zero_prefetch == 1);
  auto bad = [](const std::function<void(nlohmann::json&)>& edit, const std::string& path) {
    try {
      dp_ranks(8, "100Gbps", edit);
      FAIL("accepted");
    } catch (const core::ConfigError& e) {
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
  };
  bad(
      [](nlohmann::json& j) {
        j["parallelism"]["fsdp"] = true;
        j["parallelism"]["zero_stage"] = 1;
      },
      "/parallelism/fsdp");
  bad([](nlohmann::json& j) { j["parallelism"]["zero_prefetch"] = 2; }, "/parallelism/zero_prefetch");
  bad([](nlohmann::json& j) { j["parallelism"]["zero_stage"] = 4; }, "/parallelism/zero_stage");
  bad([](nlohmann::json& j) { j["parallelism"]["tp_comm_overlap"] = true; }, "/parallelism/tp_comm_overlap");
}

TEST_CASE("memory per rank: stage 1 shards optimizer states, 2 also gradients, 3 also weights", "[workload][zero]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  auto at = [&](int z, int prefetch = 1) {
    auto s = test::scenario_with([&](nlohmann::json& j) {
      j["parallelism"]["zero_stage"] = z;
      // fp32 gradient reduction: the gradient buffer is fp32 at every stage (with 16-bit reduction the
      // distributed optimizer's buffer is 16-bit, Memory.cpp), so the stages differ only by sharding.
      j["training"]["grad_reduce_precision"] = "fp32";
      if (z == 3)
        j["parallelism"]["zero_prefetch"] = prefetch;
    });
    return workload::estimate_memory(s, workload::ModelShape::of(s.model), cal);
  };
  const auto z0 = at(0), z1 = at(1), z2 = at(2), z3 = at(3);
  const double dp = test::scenario_with([](nlohmann::json&) {}).parallelism.dp;
  REQUIRE(dp > 1);
  CHECK(z1.optimizer == Approx(z0.optimizer / dp));
  CHECK(z1.gradients == Approx(z0.gradients));
  CHECK(z1.weights == Approx(z0.weights));
  CHECK(z2.gradients < 0.5 * z1.gradients);
  CHECK(z2.weights == Approx(z1.weights));
  CHECK(z3.weights < 0.5 * z2.weights);
  CHECK(z3.optimizer == Approx(z1.optimizer));
  CHECK(z0.total() > z1.total());
  CHECK(z1.total() > z2.total());
  CHECK(z2.total() > z3.total());
  // The gathered working copy grows with the prefetch depth: one more unit held whole per step of depth.
  CHECK(at(3, 2).weights > z3.weights);
  CHECK(at(3, 0).weights < z3.weights);
}

TEST_CASE("ZeRO-3 moves 1.5x the data-parallel bytes of plain DP and ZeRO-1", "[model][sim][zero]")
{
  auto bytes = [](int z) {
    auto o = run(dp_ranks(8, "400Gbps", [&](nlohmann::json& j) { j["parallelism"]["zero_stage"] = z; }));
    REQUIRE(o.workload.microbatches == 1);
    check_exposed_within_total(o);
    return o.sim.comm_bytes.at("dp");
  };
  const double b0 = bytes(0), b1 = bytes(1), b3 = bytes(3);
  CHECK(b0 > 0);
  CHECK(b1 == Approx(b0).epsilon(1e-9));       // reduce-scatter + all-gather = all-reduce
  CHECK(b3 == Approx(1.5 * b0).epsilon(1e-9)); // all-gather fwd + all-gather bwd + reduce-scatter
  // FSDP is the same schedule.
  auto f = run(dp_ranks(8, "400Gbps", [](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; }));
  CHECK(f.sim.comm_bytes.at("dp") == Approx(b3).epsilon(1e-9));
}

TEST_CASE("ZeRO-3 prefetch hides the all-gathers behind compute and exposes them on a slow network",
          "[model][sim][zero]")
{
  auto zero3 = [](const std::string& nic, int prefetch) {
    return run(dp_ranks(8, nic, [&](nlohmann::json& j) {
      j["parallelism"]["zero_stage"] = 3;
      j["parallelism"]["zero_prefetch"] = prefetch;
    }));
  };
  const auto fast = zero3("800Gbps", 1), fast_no_prefetch = zero3("800Gbps", 0), slow = zero3("10Gbps", 1);
  for (const auto* o : {&fast, &fast_no_prefetch, &slow})
    check_exposed_within_total(*o);
  const double fast_total = total_of(fast, "dp"), slow_total = total_of(slow, "dp");
  // Fast network: most of the parameter traffic runs under compute.
  CHECK(fast.metrics.breakdown.dp_comm < 0.25 * fast_total);
  // Without prefetch every all-gather is waited for.
  CHECK(fast_no_prefetch.metrics.breakdown.dp_comm > 2 * fast.metrics.breakdown.dp_comm);
  CHECK(fast_no_prefetch.metrics.step_time_s > fast.metrics.step_time_s);
  // Slow network: the transfers outlast the compute, so most of them show.
  CHECK(slow.metrics.breakdown.dp_comm > 0.75 * slow_total);
  CHECK(slow_total > 10 * fast_total);
}

TEST_CASE("ZeRO-2 reduce-scatters every micro-batch's gradients; ZeRO-1 only the last", "[model][sim][zero]")
{
  auto bytes = [](int z) {
    auto o = run(dp_ranks(8, "400Gbps", [&](nlohmann::json& j) {
      j["parallelism"]["zero_stage"] = z;
      j["training"]["global_batch_size"] = 8 * 8 * 4; // 4 micro-batches per replica
    }));
    REQUIRE(o.workload.microbatches == 4);
    check_exposed_within_total(o);
    return o.sim.comm_bytes.at("dp");
  };
  const double b1 = bytes(1), b2 = bytes(2);
  // ZeRO-1: RS + AG of the parameters once (2 units); ZeRO-2: 4 RS + 1 AG (5 units).
  CHECK(b2 == Approx(2.5 * b1).epsilon(1e-9));
}

TEST_CASE("tp_comm_overlap hides TP communication behind the GEMMs without shrinking it", "[model][sim][zero]")
{
  auto tp8 = [](bool sp, bool overlap) {
    return run(test::scenario_with([&](nlohmann::json& j) {
      j["cluster"] = test::tiny_cluster(1, 8, "400Gbps", "1us");
      j["model"] = {{"preset", "gpt3-1.7b"}};
      j["parallelism"] = {{"tp", 8},
                          {"pp", 1},
                          {"dp", 1},
                          {"sequence_parallel", sp},
                          {"tp_async_allreduce", false},
                          {"tp_comm_overlap", overlap}};
      j["training"]["global_batch_size"] = 4;
      j["training"]["micro_batch_size"] = 4;
    }));
  };
  // Without sequence parallelism and the asynchronous all-reduce (the 2021 code) every TP collective blocks;
  // with it the backward's column-parallel collectives run beside their GEMMs (docs/architecture.md#tensor-
  // parallel-communication), and tp_comm_overlap puts every collective beside its GEMM.
  const auto blocking = tp8(false, false), off = tp8(true, false), on = tp8(true, true);
  for (const auto* o : {&blocking, &off, &on})
    check_exposed_within_total(*o);
  const double total_blocking = total_of(blocking, "tp"), total_off = total_of(off, "tp"),
               total_on = total_of(on, "tp");
  REQUIRE(total_off > 0);
  CHECK(blocking.metrics.breakdown.tp_comm == Approx(total_blocking).epsilon(1e-6)); // blocking: all of it shows
  CHECK(off.metrics.breakdown.tp_comm < total_off);
  CHECK(on.metrics.breakdown.tp_comm < 0.5 * off.metrics.breakdown.tp_comm);
  CHECK(total_on == Approx(total_off).epsilon(1e-3)); // the same transfers
  CHECK(on.metrics.step_time_s < off.metrics.step_time_s);
  // The GEMMs do the same work; sharing the SMs with the communication kernels costs TP time on the critical
  // path even where the transfers hide entirely.
  CHECK(on.metrics.breakdown.compute == Approx(off.metrics.breakdown.compute).epsilon(1e-9));
  CHECK(on.metrics.breakdown.tp_comm > 0);
}

TEST_CASE("exposed communication never exceeds total communication", "[model][sim][zero]")
{
  check_exposed_within_total(run(test::scenario_with([](nlohmann::json&) {})));
  check_exposed_within_total(run(test::scenario_with([](nlohmann::json& j) {
    j["parallelism"].erase("zero_stage");
    j["parallelism"]["fsdp"] = true;
    j["parallelism"]["tp_comm_overlap"] = true;
  })));
}

// ---- ZeRO-3 / FSDP as frameworks run them, framework presets (issue 14, docs/sharding.md) ----

namespace {

/// dp_ranks at full fidelity (every flow issued, so that bytes count every group's traffic).
scenario::Scenario sharded(int dp, const std::function<void(nlohmann::json&)>& more)
{
  return dp_ranks(dp, "400Gbps", [&](nlohmann::json& j) {
    j["simulation"] = {{"steps", 1}, {"seed", 1}, {"fidelity", "full"}};
    more(j);
  });
}

/// Sum of the parameters a ShardPlan gathers and of those it keeps from forward to backward.
std::pair<double, double> total_and_kept(const workload::ShardPlan& plan)
{
  double total = 0, kept = 0;
  for (size_t c = 0; c < plan.pieces.size(); ++c)
    for (size_t i = 0; i < plan.pieces[c].size(); ++i) {
      total += plan.pieces[c][i];
      kept += plan.backward_gather[c][i] ? 0.0 : plan.pieces[c][i];
    }
  return {total, kept};
}

void expect_error(const std::function<void(nlohmann::json&)>& edit, const std::string& fragment)
{
  try {
    sharded(8, edit);
    FAIL("accepted");
  } catch (const core::ConfigError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains(fragment));
  }
}

} // namespace

TEST_CASE("ZeRO-3 / FSDP keys parse with DeepSpeed's and PyTorch's defaults; contradictions name their path",
          "[scenario][zero]")
{
  const auto d = sharded(8, [](nlohmann::json& j) {
    j["parallelism"]["zero_stage"] = 3;
    j["parallelism"]["zero"] = nlohmann::json::object();
  });
  REQUIRE(d.parallelism.zero);
  CHECK(d.parallelism.zero->prefetch_bucket == 5e7); // stage3_prefetch_bucket_size
  CHECK(d.parallelism.zero->reduce_bucket == 5e8);   // reduce_bucket_size
  CHECK(d.parallelism.zero->max_live_parameters == 1e9);
  CHECK(d.parallelism.zero->max_reuse_distance == 1e9);
  CHECK(scenario::to_json(d)["parallelism"]["zero"]["prefetch_bucket_size"] == 5e7);
  const auto f = sharded(8, [](nlohmann::json& j) {
    j["parallelism"]["fsdp"] = true;
    j["parallelism"]["reshard_after_forward"] = false;
    j["parallelism"]["fsdp_shard_group"] = 4;
  });
  CHECK(!f.parallelism.reshard_after_forward);
  CHECK(f.parallelism.shard_ranks() == 4);
  CHECK(scenario::to_json(f)["parallelism"]["fsdp_shard_group"] == 4);
  expect_error([](nlohmann::json& j) { j["parallelism"]["zero"] = nlohmann::json::object(); }, "/parallelism/zero");
  expect_error([](nlohmann::json& j) { j["parallelism"]["reshard_after_forward"] = false; },
               "/parallelism/reshard_after_forward");
  expect_error(
      [](nlohmann::json& j) {
        j["parallelism"]["fsdp"] = true;
        j["parallelism"]["fsdp_shard_group"] = 3;
      },
      "/parallelism/fsdp_shard_group: 3 does not divide");
  expect_error(
      [](nlohmann::json& j) {
        j["parallelism"]["zero_stage"] = 3;
        j["parallelism"]["zero"] = {{"prefetch_bucket_size", "0"}};
      },
      "/parallelism/zero/prefetch_bucket_size");
}

TEST_CASE("bytes moved per step: FULL_SHARD 1.5x DDP, SHARD_GRAD_OP 1x, HSDP and DeepSpeed's reuse by formula",
          "[model][sim][zero]")
{
  const int n = 8;
  auto bytes = [](const scenario::Scenario& s) {
    auto o = run(s);
    REQUIRE(o.workload.microbatches == 1);
    check_exposed_within_total(o);
    return o.sim.comm_bytes.at("dp");
  };
  const double ddp = bytes(sharded(n, [](nlohmann::json&) {}));
  REQUIRE(ddp > 0);
  // ZeRO paper (Rajbhandari et al. 2020, sec. 7.2.2): stage 3 moves 3 Psi (two all-gathers and a
  // reduce-scatter) against DDP's all-reduce 2 Psi: 1.5x.
  const double full = bytes(sharded(n, [](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; }));
  CHECK(full == Approx(1.5 * ddp).epsilon(1e-9));
  // SHARD_GRAD_OP keeps the gathered weights to backward: one all-gather and one reduce-scatter, DDP's volume.
  const double grad_op = bytes(sharded(n, [](nlohmann::json& j) {
    j["parallelism"]["fsdp"] = true;
    j["parallelism"]["reshard_after_forward"] = false;
  }));
  CHECK(grad_op == Approx(ddp).epsilon(1e-9));
  // HSDP, shard groups of S, R = n/S replicas: ring all-gathers and reduce-scatter inside each group move
  // R (S-1) P each; the shard's all-reduce across replicas S * 2 P/S. DDP: 2 (n-1) P.
  for (int shard : {2, 4}) {
    const int r = n / shard;
    const double hsdp = bytes(sharded(n, [&](nlohmann::json& j) {
      j["parallelism"]["fsdp"] = true;
      j["parallelism"]["fsdp_shard_group"] = shard;
    }));
    CHECK(hsdp == Approx(ddp * (3.0 * r * (shard - 1) + 2.0 * (r - 1)) / (2.0 * (n - 1))).epsilon(1e-9));
  }
  // DeepSpeed ZeRO-3: with max_reuse_distance 0 nothing is kept (1.5x); with its default the last pieces
  // of the forward pass stay gathered for backward and are not all-gathered again.
  auto deepspeed = [&](const std::string& reuse) {
    return sharded(n, [&](nlohmann::json& j) {
      j["parallelism"]["zero_stage"] = 3;
      j["parallelism"]["zero"] = {{"max_reuse_distance", reuse}};
    });
  };
  CHECK(bytes(deepspeed("0")) == Approx(1.5 * ddp).epsilon(1e-9));
  const auto s = deepspeed("1B");
  const auto [total, kept] = total_and_kept(workload::shard_plan(s, workload::ModelShape::of(s.model), 0));
  CHECK(kept > 0);
  CHECK(kept <= 0.5e9 + workload::shard_plan(s, workload::ModelShape::of(s.model), 0).largest); // 2 x after < 1e9
  CHECK(bytes(s) == Approx(ddp * (3.0 * total - kept) / (2.0 * total)).epsilon(1e-9));
}

TEST_CASE("memory per rank: what FSDP and DeepSpeed hold gathered, HSDP's shard group", "[workload][zero]")
{
  const auto& cal = scenario::Catalog::instance().calibration();
  const int n = 8;
  auto mem = [&](const std::function<void(nlohmann::json&)>& edit) {
    const auto s = sharded(n, edit);
    return std::make_pair(workload::estimate_memory(s, workload::ModelShape::of(s.model), cal), s);
  };
  auto fsdp = [](bool reshard, int shard) {
    return [=](nlohmann::json& j) {
      j["training"]["grad_reduce_precision"] = "fp32";
      j["parallelism"]["fsdp"] = true;
      j["parallelism"]["reshard_after_forward"] = reshard;
      if (shard > 0)
        j["parallelism"]["fsdp_shard_group"] = shard;
    };
  };
  const auto [full, s] = mem(fsdp(true, 0));
  const auto shape = workload::ModelShape::of(s.model);
  const double params = workload::stage_params_per_rank(s, shape, 0);
  const auto plan = workload::shard_plan(s, shape, 0);
  // FULL_SHARD: the shard (P/n) plus the unit computing and the one prefetched, 16-bit.
  CHECK(full.weights == Approx(2.0 * params / n + 2.0 * 2.0 * plan.largest));
  CHECK(full.optimizer == Approx(12.0 * params / n));
  // SHARD_GRAD_OP: every unit gathered from forward to backward, the whole 16-bit model (as ZeRO-2).
  const auto grad_op = mem(fsdp(false, 0)).first;
  CHECK(grad_op.weights == Approx(2.0 * params));
  CHECK(grad_op.optimizer == Approx(full.optimizer));
  // HSDP: states sharded over the shard group only.
  const auto hsdp = mem(fsdp(true, 4)).first;
  CHECK(hsdp.optimizer == Approx(12.0 * params / 4));
  CHECK(hsdp.weights == Approx(2.0 * params / 4 + 2.0 * 2.0 * plan.largest));
  CHECK(hsdp.gradients > full.gradients);
  // DeepSpeed: the prefetch window plus the pieces kept for reuse, capped by stage3_max_live_parameters.
  auto ds = [&](const std::string& live) {
    return mem([&](nlohmann::json& j) {
      j["training"]["grad_reduce_precision"] = "fp32";
      j["parallelism"]["zero_stage"] = 3;
      j["parallelism"]["zero"] = {{"max_live_parameters", live}};
    });
  };
  const auto [big, sb] = ds("1B");
  const auto [small, ss] = ds("100M");
  const auto pb = workload::shard_plan(sb, shape, 0), ps = workload::shard_plan(ss, shape, 0);
  CHECK(big.weights == Approx(2.0 * params / n + 2.0 * std::min(pb.held, params * (1.0 - 1.0 / n))));
  CHECK(pb.held > ps.held);
  CHECK(ps.held <= std::max(1e8, (1.0 + ps.prefetch) * ps.largest));
  CHECK(small.weights < big.weights);
  // The reduce bucket (5e8 elements) and the piece being produced, in the reduce precision.
  CHECK(big.gradients == Approx(4.0 * params / n + std::min((5e8 + pb.largest) * 4.0, 4.0 * params * (1.0 - 1.0 / n))));
  // Prefetch bucket 5e7 parameters: the layer (gpt3-1.7b: 12 h^2 ~ 50M) splits into buckets no larger.
  for (double x : pb.pieces.front())
    CHECK(x <= std::max(5e7, shape.embedding_params + shape.layer_params));
}

TEST_CASE("SHARD_GRAD_OP and DeepSpeed's reuse save the backward all-gathers' time on a slow network",
          "[model][sim][zero]")
{
  auto step = [](const std::function<void(nlohmann::json&)>& edit) {
    return run(dp_ranks(8, "25Gbps", edit)).metrics.step_time_s;
  };
  const double full = step([](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; });
  const double grad_op = step([](nlohmann::json& j) {
    j["parallelism"]["fsdp"] = true;
    j["parallelism"]["reshard_after_forward"] = false;
  });
  CHECK(grad_op < full);
}

TEST_CASE("framework presets fill the keys a scenario leaves out; explicit keys win; unknown names list the valid ones",
          "[scenario][zero]")
{
  const auto& cat = scenario::Catalog::instance();
  const auto ids = scenario::framework_ids(cat);
  REQUIRE(ids.size() >= 7);
  // Every preset resolves on a tensor-parallel scenario and on a data-parallel-only one.
  for (const auto& id : ids) {
    INFO(id);
    const auto s = test::scenario_with([&](nlohmann::json& j) {
      j["training"]["framework"] = id;
      j["parallelism"].erase("zero_stage");
    });
    CHECK(s.training.framework == id);
    CHECK(scenario::to_json(s)["training"]["framework"] == id);
    CHECK_NOTHROW(dp_ranks(8, "100Gbps", [&](nlohmann::json& j) { j["training"]["framework"] = id; }));
  }
  auto with = [](const std::string& fw, const std::function<void(nlohmann::json&)>& more = {}) {
    return test::scenario_with([&](nlohmann::json& j) {
      j["training"]["framework"] = fw;
      j["parallelism"].erase("zero_stage");
      j["parallelism"].erase("overlap_grad_reduce");
      if (more)
        more(j);
    });
  };
  const auto nemo2 = with("nemo-2");
  CHECK(nemo2.parallelism.zero_stage == 1);
  CHECK(nemo2.parallelism.overlap_grad_reduce);
  CHECK(nemo2.parallelism.overlap_param_gather);
  CHECK(nemo2.training.grad_reduce_bytes == 4);
  const auto perf = with("nemo-2-performance");
  CHECK(perf.training.grad_reduce_bytes == 2);
  CHECK(perf.parallelism.tp_comm_overlap == (perf.parallelism.tp > 1 && perf.parallelism.sequence_parallel));
  const auto legacy = with("megatron-lm-local");
  CHECK(legacy.training.attention == scenario::Attention::standard);
  CHECK(!legacy.parallelism.overlap_grad_reduce);
  CHECK(legacy.parallelism.zero_stage == 0);
  CHECK(legacy.parallelism.tp_async_allreduce); // Megatron-LM since September 2021
  const auto sc21 = with("megatron-lm-2021");   // the SC21 paper's code: blocking backward all-reduces
  CHECK(!sc21.parallelism.tp_async_allreduce);
  CHECK(sc21.training.attention == scenario::Attention::standard);
  // Explicit keys override; fsdp given: the preset's zero_stage is not applied.
  const auto own = with("nemo-2", [](nlohmann::json& j) {
    j["parallelism"]["overlap_param_gather"] = false;
    j["training"]["attention"] = "standard";
  });
  CHECK(!own.parallelism.overlap_param_gather);
  CHECK(own.training.attention == scenario::Attention::standard);
  const auto f = with("nemo-2", [](nlohmann::json& j) { j["parallelism"]["fsdp"] = true; });
  CHECK(f.parallelism.zero_stage == 3);
  // DeepSpeed: its ZeRO-3 engine and overlap_comm with zero_stage 3 only.
  const auto ds3 = dp_ranks(8, "100Gbps", [](nlohmann::json& j) {
    j["training"]["framework"] = "deepspeed";
    j["parallelism"]["zero_stage"] = 3;
  });
  REQUIRE(ds3.parallelism.zero);
  CHECK(ds3.parallelism.zero->prefetch_bucket == 5e7);
  CHECK(ds3.parallelism.overlap_grad_reduce);
  const auto ds1 = dp_ranks(8, "100Gbps", [](nlohmann::json& j) {
    j["training"]["framework"] = "deepspeed";
    j["parallelism"]["zero_stage"] = 1;
  });
  CHECK(!ds1.parallelism.zero);
  CHECK(!ds1.parallelism.overlap_grad_reduce);
  CHECK(ds1.parallelism.grad_bucket_bytes == 1e9);
  const auto layers = dp_ranks(8, "100Gbps", [](nlohmann::json& j) {
    j["training"]["framework"] = "deepspeed";
    j["parallelism"]["zero_stage"] = 3;
    j["parallelism"]["zero_prefetch"] = 2; // whole-layer gathers chosen: no DeepSpeed buckets
  });
  CHECK(!layers.parallelism.zero);
  CHECK(layers.parallelism.zero_prefetch == 2);
  const auto fsdp = dp_ranks(8, "100Gbps", [](nlohmann::json& j) { j["training"]["framework"] = "pytorch-fsdp"; });
  CHECK(fsdp.parallelism.fsdp);
  CHECK(fsdp.parallelism.zero_stage == 3);
  try {
    with("megatron");
    FAIL("accepted");
  } catch (const core::ConfigError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("/training/framework"));
    for (const auto& id : ids)
      CHECK_THAT(what, Catch::Contains(id));
  }
}
