// The declared keys of the top level, /simulation, /reference, /power and /failures (KeySchema.hpp): one line
// per key, the parser reads ranges and defaults here.
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

using nlohmann::json;
using S = const Scenario&; ///< what a dump getter reads

using core::Dimension;

namespace {

KeySpec inclusive(KeySpec k)
{
  k.min_inclusive = true;
  return k;
}

void failure_keys(std::vector<KeySpec>& k)
{
  const std::string f = "/failures";
  const char* dflt = "platforms/failures.json";
  k.push_back(key_object(f, "failures and checkpointing (docs/failures.md)", "on, with platforms/failures.json"));
  k.push_back(key_bool(f + "/enabled", true, "false: a run without failures")
                  .shows([](S s) { return json(s.failures.enabled); })
                  .shows([](S s) { return json(s.failures.source); }, f + "/source")
                  .shows(
                      [](S s) {
                        json causes;
                        if (s.failures.enabled)
                          for (const auto& c : s.failures.causes)
                            causes.push_back({{"id", c.id},
                                              {"component", c.component},
                                              {"share_of_component", c.share},
                                              {"replaces_node", c.replaces_node},
                                              {"detection_time_s", c.detection_s}});
                        return causes.is_null() ? hidden() : causes;
                      },
                      f + "/causes"));
  k.push_back(key_object(f + "/mtbf", "mean time between failures per component", dflt)
                  .shows(
                      [](S s) {
                        const auto& x = s.failures;
                        return x.enabled ? json{{"accelerator", x.accelerator_mtbf_s},
                                                {"node", x.node_mtbf_s},
                                                {"nic", x.nic_mtbf_s},
                                                {"link", x.link_mtbf_s},
                                                {"switch", x.switch_mtbf_s}}
                                         : hidden();
                      },
                      f + "/mtbf_s"));
  for (const char* c : {"accelerator", "node", "nic", "link", "switch"})
    k.push_back(
        key_quantity(f + "/mtbf/" + c, Dimension::time, 60.0, 1e15, nullptr, std::string("MTBF of one ") + c, dflt));
  k.push_back(key_nonnegative(f + "/detection_time", Dimension::time, 1e6, nullptr, "from failure to detection", dflt));
  const std::string c = f + "/checkpoint";
  k.push_back(key_object(c, "checkpointing", dflt).shows([](S s) {
    const auto& x = s.failures;
    if (!x.enabled)
      return hidden();
    return json{{"interval", x.interval == "given" ? json(x.interval_s) : json(x.interval)},
                {"bytes_per_parameter", x.bytes_per_parameter},
                {"write_bandwidth_Bps", x.write_bandwidth},
                {"read_bandwidth_Bps", x.read_bandwidth},
                {"overhead_s", x.checkpoint_overhead_s},
                {"async", x.async_checkpoint},
                {"snapshot_bandwidth_Bps", x.snapshot_bandwidth}};
  }));
  k.push_back(key_value(c + "/interval", "\"daly\", \"young\" or a time of at least 1s", dflt));
  k.push_back(key_number(c + "/bytes_per_parameter", 0.1, 1000, nullptr, "checkpoint bytes per parameter", dflt));
  k.push_back(inclusive(key_quantity(c + "/write_bandwidth", Dimension::bandwidth, 1e6, 1e16, nullptr,
                                     "storage write bandwidth, whole job", dflt)));
  k.push_back(inclusive(key_quantity(c + "/read_bandwidth", Dimension::bandwidth, 1e6, 1e16, nullptr,
                                     "storage read bandwidth, whole job", dflt)));
  k.push_back(key_nonnegative(c + "/overhead", Dimension::time, 1e6, nullptr, "fixed cost per checkpoint", dflt));
  k.push_back(key_bool(c + "/async", nullptr, "checkpoints written in the background", dflt));
  k.push_back(inclusive(key_quantity(c + "/snapshot_bandwidth", Dimension::bandwidth, 1e6, 1e16, nullptr,
                                     "device-to-host snapshot bandwidth (async)", dflt)));
  k.push_back(key_nonnegative(f + "/restart_time", Dimension::time, 1e7, nullptr, "restart after a failure", dflt)
                  .shows([](S s) { return s.failures.enabled ? json(s.failures.restart_s) : hidden(); },
                         f + "/restart_time_s"));
  k.push_back(key_nonnegative(f + "/requeue_time", Dimension::time, 1e7, nullptr, "re-queue of the job", dflt)
                  .shows([](S s) { return s.failures.enabled ? json(s.failures.requeue_s) : hidden(); },
                         f + "/requeue_time_s"));
  k.push_back(
      key_nonnegative(f + "/repair_time", Dimension::time, 1e8, nullptr, "repair of a node", dflt)
          .shows([](S s) { return s.failures.enabled ? json(s.failures.repair_s) : hidden(); }, f + "/repair_time_s"));
  k.push_back(key_number(f + "/hot_spare_fraction", 0.0, 1.0, nullptr, "spare nodes as a share of the job", dflt)
                  .shows([](S s) { return s.failures.enabled ? json(s.failures.hot_spare_fraction) : hidden(); }));
  k.push_back(
      key_int(f + "/hot_spare_nodes", 0, 1'000'000, 0, "spare nodes (instead of hot_spare_fraction)").shows([](S s) {
        return s.failures.enabled ? json(s.failures.hot_spare_nodes) : hidden();
      }));
  k.push_back(key_note(f + "/note", "free text"));
}

} // namespace

std::vector<KeySpec> top_keys()
{
  return {
      key_int("/schema_version", 1, 1, nullptr, "version of this format", "required").shows([](S s) {
        return json(s.schema_version);
      }),
      key_string("/name", nullptr, "the scenario's name", "required").shows([](S s) { return json(s.name); }),
      key_note("/description", "free text"),
  };
}

std::vector<KeySpec> run_keys()
{
  const std::string s = "/simulation";
  const std::string p = "/power";
  std::vector<KeySpec> k{
      key_object(s, "how the step is simulated (docs/performance.md)"),
      key_value(s + "/steps", "steps simulated, 1 to 1000, or \"auto\" (until the step time is steady)", "1")
          .shows([](S x) { return x.simulation.steps_auto ? json("auto") : json(x.simulation.steps); }),
      key_int(s + "/max_steps", 2, 1000, 10, "with steps \"auto\": at most this many").shows([](S x) {
        return x.simulation.steps_auto ? json(x.simulation.steps) : hidden();
      }),
      key_string(s + "/fidelity", "auto", "auto, full or reduced (one representative replica and rail)").shows([](S x) {
        return json(x.simulation.fidelity);
      }),
      key_int(s + "/seed", 0, 1L << 62, 1, "seed of every random draw").shows([](S x) {
        return json(x.simulation.seed);
      }),
      key_bool(s + "/reuse", true, "replay steps whose inputs repeat").shows([](S x) {
        return x.simulation.reuse ? hidden() : json(false); // on by default
      }),
      key_value(
          s + "/extrapolate",
          "\"auto\", true or false: extrapolate the step from three small micro-batch counts (docs/performance.md)",
          "\"auto\"")
          .shows([](S x) {
            return x.simulation.extrapolate != "auto" ? json(x.simulation.extrapolate == "always") : hidden();
          }),
      key_quantity(s + "/max_memory", Dimension::bytes, 0, 1e18, nullptr, "memory limit of the simulation", "none"),
      key_quantity(s + "/max_time", Dimension::time, 0, 1e9, nullptr, "wall-clock limit of the simulation", "none"),
      key_bool(s + "/variability", true, "at-scale mechanisms: jitter, host overhead draws (docs/at-scale.md)")
          .shows([](S x) { return json(x.simulation.variability); }),
      key_bool(s + "/host_overhead", true, "host (launch) overhead per pass and step").shows([](S x) {
        return json(x.simulation.host_overhead);
      }),
      key_bool(s + "/collective_efficiency", true,
               "NCCL-like protocol choice and latencies per collective (docs/at-scale.md)")
          .shows([](S x) { return json(x.simulation.collective_efficiency); }),
      key_bool(s + "/comm_compute_contention", false,
               "data-parallel collectives slow the compute they run beside by tp_overlap_gemm_slowdown (NCCL's "
               "kernels take SMs; docs/at-scale.md#communication-beside-compute)")
          .shows([](S x) { return json(x.simulation.comm_compute_contention); }),
      key_bool(s + "/gemm_ceiling", false,
               "16-bit GEMMs at the accelerator's best-shape matmul fraction x tile and wave quantisation "
               "(docs/calibration.md#gemm-ceiling; off: gemm_mamf_fraction x that fraction, else gemm_efficiency)")
          .shows([](S x) { return json(x.simulation.gemm_ceiling); }),
      key_object(s + "/stragglers", "slow accelerators", "none").shows([](S x) {
        const auto& g = x.simulation.stragglers;
        return g.fraction > 0 ? json{{"fraction", g.fraction}, {"slowdown", g.slowdown}} : hidden();
      }),
      key_number(s + "/stragglers/fraction", 0, 1, nullptr, "share of accelerators that straggle", "required"),
      key_number(s + "/stragglers/slowdown", 0, 10, nullptr, "their slowdown", "required"),
      key_object("/reference", "a measured step time to compare with", "none"),
      key_number("/reference/step_time_s", 1e-9, 1e9, nullptr, "measured step time in seconds", "required"),
      key_string("/reference/source", nullptr, "where it was measured", "required"),
      key_note("/reference/tflops_per_accelerator", "the published throughput (informative)"),
      key_note("/reference/note", "free text"),
      key_object(p, "power model (docs/energy.md)"),
      key_quantity(p + "/cap", Dimension::power, 0, 1e5, nullptr, "board power cap (null: none)", "none")
          .shows([](S x) { return x.power.cap_w ? json(*x.power.cap_w) : hidden(); }, p + "/cap_w"),
      key_number(p + "/clock", 0.1, 1.0, 1.0, "clock as a fraction of the nominal (DVFS)").shows([](S x) {
        return json(x.power.clock);
      }),
      key_number(p + "/dvfs_exponent", 1.0, 4.0, 3.0, "dynamic power ~ clock^exponent").shows([](S x) {
        return json(x.power.dvfs_exponent);
      }),
      key_number(p + "/compute_activity", 0.0, 1.0, nullptr, "activity of compute phases (null: from the kernel)",
                 "from the kernel")
          .shows([](S x) { return x.power.compute_activity ? json(*x.power.compute_activity) : hidden(); }),
      key_number(p + "/memory_activity", 0.0, 1.0, 0.5, "activity of memory-bound phases").shows([](S x) {
        return json(x.power.memory_activity);
      }),
      key_number(p + "/comm_activity", 0.0, 1.0, 0.25, "activity while communicating").shows([](S x) {
        return json(x.power.comm_activity);
      }),
      key_number(p + "/bubble_activity", 0.0, 1.0, 0.0, "activity in pipeline bubbles").shows([](S x) {
        return json(x.power.bubble_activity);
      }),
      key_nonnegative(p + "/nic_power", Dimension::power, 1e4, "25W", "per NIC")
          .shows([](S x) { return json(x.power.nic_power_w); }, p + "/nic_power_w"),
      key_nonnegative(p + "/switch_port_power", Dimension::power, 1e4, "25W", "per switch port")
          .shows([](S x) { return json(x.power.switch_port_power_w); }, p + "/switch_port_power_w"),
      key_number(p + "/storage_w_per_GBps", 0.0, 1e5, 40.0, "storage power per GB/s of checkpoint bandwidth")
          .shows([](S x) { return json(x.power.storage_w_per_Bps * 1e9); }),
      key_note(p + "/note", "free text"),
  };
  failure_keys(k);
  return k;
}

} // namespace trainsim::scenario
