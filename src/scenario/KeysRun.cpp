// The declared keys of the top level, /simulation, /reference, /power and /failures (KeySchema.hpp): one line
// per key, the parser reads ranges and defaults here.
#include "trainsim/scenario/KeySchema.hpp"

namespace trainsim::scenario {

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
  k.push_back(key_bool(f + "/enabled", true, "false: a run without failures"));
  k.push_back(key_object(f + "/mtbf", "mean time between failures per component", dflt));
  for (const char* c : {"accelerator", "node", "nic", "link", "switch"})
    k.push_back(
        key_quantity(f + "/mtbf/" + c, Dimension::time, 60.0, 1e15, nullptr, std::string("MTBF of one ") + c, dflt));
  k.push_back(key_nonnegative(f + "/detection_time", Dimension::time, 1e6, nullptr, "from failure to detection", dflt));
  const std::string c = f + "/checkpoint";
  k.push_back(key_object(c, "checkpointing", dflt));
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
  k.push_back(key_nonnegative(f + "/restart_time", Dimension::time, 1e7, nullptr, "restart after a failure", dflt));
  k.push_back(key_nonnegative(f + "/requeue_time", Dimension::time, 1e7, nullptr, "re-queue of the job", dflt));
  k.push_back(key_nonnegative(f + "/repair_time", Dimension::time, 1e8, nullptr, "repair of a node", dflt));
  k.push_back(key_number(f + "/hot_spare_fraction", 0.0, 1.0, nullptr, "spare nodes as a share of the job", dflt));
  k.push_back(key_int(f + "/hot_spare_nodes", 0, 1'000'000, 0, "spare nodes (instead of hot_spare_fraction)"));
  k.push_back(key_note(f + "/note", "free text"));
}

} // namespace

std::vector<KeySpec> top_keys()
{
  return {
      key_int("/schema_version", 1, 1, nullptr, "version of this format", "required"),
      key_string("/name", nullptr, "the scenario's name", "required"),
      key_note("/description", "free text"),
  };
}

std::vector<KeySpec> run_keys()
{
  const std::string s = "/simulation";
  const std::string p = "/power";
  std::vector<KeySpec> k{
      key_object(s, "how the step is simulated (docs/performance.md)"),
      key_value(s + "/steps", "steps simulated, 1 to 1000, or \"auto\" (until the step time is steady)", "1"),
      key_int(s + "/max_steps", 2, 1000, 10, "with steps \"auto\": at most this many"),
      key_string(s + "/fidelity", "auto", "auto, full or reduced (one representative replica and rail)"),
      key_int(s + "/seed", 0, 1L << 62, 1, "seed of every random draw"),
      key_bool(s + "/reuse", true, "replay steps whose inputs repeat"),
      key_value(
          s + "/extrapolate",
          "\"auto\", true or false: extrapolate the step from three small micro-batch counts (docs/performance.md)",
          "\"auto\""),
      key_quantity(s + "/max_memory", Dimension::bytes, 0, 1e18, nullptr, "memory limit of the simulation", "none"),
      key_quantity(s + "/max_time", Dimension::time, 0, 1e9, nullptr, "wall-clock limit of the simulation", "none"),
      key_bool(s + "/variability", true, "at-scale mechanisms: jitter, host overhead draws (docs/at-scale.md)"),
      key_bool(s + "/host_overhead", true, "host (launch) overhead per pass and step"),
      key_bool(s + "/collective_efficiency", true,
               "NCCL-like protocol choice and latencies per collective (docs/at-scale.md)"),
      key_bool(s + "/gemm_ceiling", false,
               "16-bit GEMMs at the accelerator's best-shape matmul fraction x tile and wave quantisation "
               "(docs/calibration.md#gemm-ceiling; off: gemm_efficiency)"),
      key_object(s + "/stragglers", "slow accelerators", "none"),
      key_number(s + "/stragglers/fraction", 0, 1, nullptr, "share of accelerators that straggle", "required"),
      key_number(s + "/stragglers/slowdown", 0, 10, nullptr, "their slowdown", "required"),
      key_object("/reference", "a measured step time to compare with", "none"),
      key_number("/reference/step_time_s", 1e-9, 1e9, nullptr, "measured step time in seconds", "required"),
      key_string("/reference/source", nullptr, "where it was measured", "required"),
      key_note("/reference/tflops_per_accelerator", "the published throughput (informative)"),
      key_note("/reference/note", "free text"),
      key_object(p, "power model (docs/energy.md)"),
      key_quantity(p + "/cap", Dimension::power, 0, 1e5, nullptr, "board power cap (null: none)", "none"),
      key_number(p + "/clock", 0.1, 1.0, 1.0, "clock as a fraction of the nominal (DVFS)"),
      key_number(p + "/dvfs_exponent", 1.0, 4.0, 3.0, "dynamic power ~ clock^exponent"),
      key_number(p + "/compute_activity", 0.0, 1.0, nullptr, "activity of compute phases (null: from the kernel)",
                 "from the kernel"),
      key_number(p + "/memory_activity", 0.0, 1.0, 0.5, "activity of memory-bound phases"),
      key_number(p + "/comm_activity", 0.0, 1.0, 0.25, "activity while communicating"),
      key_number(p + "/bubble_activity", 0.0, 1.0, 0.0, "activity in pipeline bubbles"),
      key_nonnegative(p + "/nic_power", Dimension::power, 1e4, "25W", "per NIC"),
      key_nonnegative(p + "/switch_port_power", Dimension::power, 1e4, "25W", "per switch port"),
      key_number(p + "/storage_w_per_GBps", 0.0, 1e5, 40.0, "storage power per GB/s of checkpoint bandwidth"),
      key_note(p + "/note", "free text"),
  };
  failure_keys(k);
  return k;
}

} // namespace trainsim::scenario
