// The declared keys of /cluster (KeySchema.hpp): one line per key, the parser reads ranges and defaults here.
#include <algorithm>

#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/topology/FabricRegistry.hpp"

namespace trainsim::scenario {

using nlohmann::json;
using S = const Scenario&; ///< what a dump getter reads

using core::Dimension;

namespace {

/// An accelerator object, inline under `a` (/cluster/accelerator or a pool's; catalogue keys,
/// docs/reference/accelerators.md).
void accelerator_keys(std::vector<KeySpec>& k, const std::string& a)
{
  const char* preset = "the preset's, or required without a preset";
  k.push_back(key_string(a + "/preset", nullptr, "catalogue id whose values the other keys override"));
  k.push_back(key_string(a + "/name", nullptr, "display name", "the id, or \"custom\""));
  k.push_back(key_string(a + "/vendor", "", "vendor (informative)"));
  k.push_back(key_object(a + "/peak_flops", "dense peak FLOP/s per precision; null: no such mode", preset));
  for (const char* p : {"bf16", "fp16", "fp8", "fp32"})
    k.push_back(key_quantity(a + "/peak_flops/" + p, Dimension::flop_rate, 0, 1e18, nullptr,
                             std::string("dense ") + p + " peak, e.g. \"989TFLOPS\"", "none"));
  k.push_back(key_object(a + "/memory", "device memory", preset));
  k.push_back(key_quantity(a + "/memory/capacity", Dimension::bytes, 0, 1e15, nullptr, "HBM capacity", preset));
  k.push_back(key_quantity(a + "/memory/bandwidth", Dimension::bandwidth, 0, 1e15, nullptr, "HBM bandwidth", preset));
  k.push_back(key_string(a + "/memory/type", "", "memory technology (informative)"));
  k.push_back(key_object(a + "/scale_up", "the node's scale-up interconnect", preset));
  k.push_back(key_choice(a + "/scale_up/type", {"nvswitch", "hccs", "pcie", "mtlink", "noc"}, nullptr,
                         "scale-up technology", preset));
  k.push_back(key_quantity(a + "/scale_up/bandwidth", Dimension::bandwidth, 0, 1e15, nullptr,
                           "per accelerator and direction", preset));
  k.push_back(key_nonnegative(a + "/scale_up/latency", Dimension::time, 1, nullptr, "per message", preset));
  k.push_back(key_object(a + "/node", "the server the accelerators sit in", preset));
  k.push_back(key_int(a + "/node/accelerators_per_node", 1, 1024, nullptr, "accelerators per server", preset));
  k.push_back(key_nonnegative(a + "/node/host_power", Dimension::power, 1e6, nullptr,
                              "CPUs, memory, fans of one server", preset));
  k.push_back(key_quantity(a + "/node/nic_bandwidth", Dimension::bandwidth, 0, 1e15, nullptr,
                           "scale-out NIC per accelerator", preset));
  k.push_back(key_object(a + "/power", "board power", preset));
  k.push_back(key_nonnegative(a + "/power/idle", Dimension::power, 1e5, nullptr, "idle power", preset));
  k.push_back(key_quantity(a + "/power/peak", Dimension::power, 0, 1e5, nullptr, "power at full load (TDP)", preset));
  auto compute = key_object(a + "/compute",
                            "the shape-aware GEMM ceiling (docs/calibration.md#gemm-ceiling) and the part's fused "
                            "attention fraction",
                            "the preset's, or none (calibration gemm_efficiency and attention_efficiency)");
  if (a == "/cluster/accelerator") // shown where the accelerator has it
    compute.shows([](S s) {
      const auto& acc = s.cluster.accelerator;
      json c = json::object();
      if (acc.sm_count > 0 && acc.matmul_max_fraction > 0)
        c = {{"sm_count", acc.sm_count}, {"matmul_max_fraction", acc.matmul_max_fraction}};
      if (acc.attention_efficiency > 0)
        c["attention_efficiency"] = acc.attention_efficiency;
      return c.empty() ? hidden() : c;
    });
  k.push_back(std::move(compute));
  k.push_back(key_int(a + "/compute/sm_count", 1, 100000, nullptr,
                      "streaming multiprocessors the GEMM tiles spread over", "the preset's, or none"));
  k.push_back(key_number(a + "/compute/matmul_max_fraction", 0.01, 1, nullptr,
                         "best-shape 16-bit matmul throughput over the dense peak (measured MAMF); the part's "
                         "16-bit GEMMs run at the calibration's gemm_mamf_fraction of it (docs/calibration.md)",
                         "the preset's, or none (gemm_efficiency)"));
  k.push_back(key_number(a + "/compute/attention_efficiency", 0.01, 1, nullptr,
                         "fused (flash) attention's fraction of the 16-bit dense peak on this part, forward and "
                         "backward on the causal FLOPs (docs/calibration.md)",
                         "the preset's, or the calibration's attention_efficiency"));
  k.push_back(key_value(a + "/sources", "where the figures come from (informative)"));
  k.push_back(key_note(a + "/note", "free text"));
}

/// /cluster/pools: one job over node pools of mixed accelerators (docs/cluster.md "One job over mixed pools").
void pool_keys(std::vector<KeySpec>& k)
{
  const std::string p = "/cluster/pools/*";
  k.push_back(key_value("/cluster/pools",
                        "node pools of different accelerators, in node order, on the one fabric (2 to 16; instead of "
                        "/cluster/accelerator, nodes, host_power and scale_up)",
                        "none: one accelerator type")
                  .shows([](S s) { // mixed accelerators only, so that older reports keep their shape
                    if (s.cluster.pools.empty())
                      return hidden();
                    json out = json::array();
                    for (const auto& p : s.cluster.pools)
                      out.push_back({{"name", p.name},
                                     {"accelerator", p.accelerator.id},
                                     {"nodes", p.nodes},
                                     {"first_node", p.first_node},
                                     {"peak_flops", p.accelerator.peak_flops},
                                     {"memory_bytes", p.accelerator.memory_bytes},
                                     {"host_power_w", p.host_power_w},
                                     {"scale_up",
                                      {{"type", p.scale_up.type},
                                       {"bandwidth_Bps", p.scale_up.bandwidth},
                                       {"latency_s", p.scale_up.latency}}}});
                    return out;
                  }));
  k.push_back(key_object(p, "one pool: consecutive nodes of one accelerator type"));
  k.push_back(key_string(p + "/name", nullptr, "the pool's name in reports and errors", "the accelerator's id"));
  k.push_back(key_value(p + "/accelerator", "a catalogue id or an object of the accelerator keys", "required"));
  k.push_back(key_int(p + "/nodes", 1, 1'000'000, nullptr, "servers in the pool", "required"));
  k.push_back(key_nonnegative(p + "/host_power", Dimension::power, 1e6, nullptr,
                              "power of a server beside its accelerators", "the accelerator's"));
  k.push_back(key_object(p + "/scale_up", "the pool's scale-up interconnect inside a node", "the accelerator's"));
  k.push_back(key_choice(p + "/scale_up/type", {"nvswitch", "hccs", "pcie", "mtlink", "noc"}, nullptr,
                         "scale-up technology", "the accelerator's"));
  k.push_back(key_quantity(p + "/scale_up/bandwidth", Dimension::bandwidth, 0, 1e15, nullptr,
                           "per accelerator and direction", "the accelerator's"));
  k.push_back(
      key_nonnegative(p + "/scale_up/latency", Dimension::time, 1, nullptr, "per message", "the accelerator's"));
  k.push_back(key_bool(p + "/scale_up/nvls", false, "the scale-up switch reduces in the network (NVLink SHARP)"));
  accelerator_keys(k, p + "/accelerator");
}

/// The keys of fabric models beside the shared ones, declared per model in the fabric registry (topology/).
void fabric_model_keys(std::vector<KeySpec>& k)
{
  std::vector<std::string> names;
  for (const auto& s : topology::fabric_models())
    for (const auto& p : s.params)
      if (std::find(names.begin(), names.end(), p.name) == names.end())
        names.push_back(p.name);
  for (const auto& name : names) {
    std::string types, doc, type;
    nlohmann::json fallback;
    for (const auto& s : topology::fabric_models())
      for (const auto& p : s.params)
        if (p.name == name) {
          types += (types.empty() ? "" : ", ") + s.name;
          doc = p.doc;
          type = p.type;
          fallback = p.fallback;
        }
    KeySpec spec = key_value("/cluster/fabric/" + name, type + ", " + types + " fabrics: " + doc,
                             fallback.is_null() ? "required" : "");
    spec.fallback = fallback;
    k.push_back(spec);
  }
}

/// The values of /cluster/fabric/type: the registered fabric models (topology/FabricRegistry.hpp), in their order.
std::vector<std::string> fabric_type_names()
{
  std::vector<std::string> names;
  for (const auto& s : topology::fabric_models())
    names.push_back(s.name);
  return names;
}

} // namespace

std::vector<KeySpec> cluster_keys()
{
  std::vector<KeySpec> k{
      key_object("/cluster", "the machine: accelerators, nodes, scale-up and scale-out fabric"),
      key_value("/cluster/accelerator", "a catalogue id (`trainsim list accelerators`) or an object of the keys below",
                "required")
          .shows([](S s) {
            const auto& a = s.cluster.accelerator;
            return json{{"id", a.id},
                        {"peak_flops", a.peak_flops},
                        {"memory_bytes", a.memory_bytes},
                        {"memory_bandwidth_Bps", a.memory_bandwidth},
                        {"power_w", {{"idle", a.idle_power_w}, {"peak", a.peak_power_w}}}};
          }),
      key_int("/cluster/nodes", 1, 1'000'000, nullptr, "servers in the cluster", "required").shows([](S s) {
        return json(s.cluster.nodes);
      }),
      key_int("/cluster/accelerators_per_node", 1, 1024, nullptr, "accelerators per server", "the accelerator's")
          .shows([](S s) { return json(s.cluster.accelerators_per_node); }),
      key_nonnegative("/cluster/host_power", Dimension::power, 1e6, nullptr,
                      "power of a server beside its accelerators", "the accelerator's")
          .shows([](S s) { return json(s.cluster.host_power_w); }, "/cluster/host_power_w"),
      key_object("/cluster/scale_up", "the scale-up interconnect inside a node", "the accelerator's"),
      key_choice("/cluster/scale_up/type", {"nvswitch", "hccs", "pcie", "mtlink", "noc"}, nullptr,
                 "scale-up technology", "the accelerator's")
          .shows([](S s) { return json(s.cluster.scale_up.type); }),
      key_quantity("/cluster/scale_up/bandwidth", Dimension::bandwidth, 0, 1e15, nullptr,
                   "per accelerator and direction", "the accelerator's")
          .shows([](S s) { return json(s.cluster.scale_up.bandwidth); }, "/cluster/scale_up/bandwidth_Bps"),
      key_nonnegative("/cluster/scale_up/latency", Dimension::time, 1, nullptr, "per message", "the accelerator's")
          .shows([](S s) { return json(s.cluster.scale_up.latency); }, "/cluster/scale_up/latency_s"),
      key_bool("/cluster/scale_up/nvls", false, "the scale-up switch reduces in the network (NVLink SHARP)")
          .shows([](S s) { return s.cluster.scale_up.nvls ? json(true) : hidden(); }),
      key_object("/cluster/fabric", "the scale-out fabric (docs/fabrics.md, `trainsim list fabrics`)", "required"),
      key_string("/cluster/fabric/preset", nullptr, "a preset of platforms/fabrics.json the other keys override")
          .shows([](S s) { return s.cluster.fabric.preset.empty() ? hidden() : json(s.cluster.fabric.preset); }),
      key_choice("/cluster/fabric/type", fabric_type_names(), nullptr, "the fabric model", "required (or the preset's)")
          .shows([](S s) { return json(s.cluster.fabric.type); })
          .shows(
              [](S s) {
                const auto& params = s.cluster.fabric.params; // the model's own keys, as given
                return params.is_object() && !params.empty() ? params : hidden();
              },
              "/cluster/fabric/params"),
      key_quantity("/cluster/fabric/nic_bandwidth", Dimension::bandwidth, 0, 1e15, nullptr,
                   "scale-out NIC per accelerator and direction", "the accelerator's")
          .shows([](S s) { return json(s.cluster.fabric.nic_bandwidth); }, "/cluster/fabric/nic_bandwidth_Bps"),
      key_int("/cluster/fabric/tiers", 1, 3, 2, "switch tiers of a Clos (fat_tree, rail_optimized)").shows([](S s) {
        return json(s.cluster.fabric.tiers);
      }),
      key_value(
          "/cluster/fabric/oversubscription",
          "ratio \"down:up\" (or a number) of the leaf tier, or a list of one per tier with uplinks (leaf, spine)",
          "1:1")
          .shows([](S s) { return json(s.cluster.fabric.oversubscription); })
          .shows(
              [](S s) {
                const auto& o = s.cluster.fabric.tier_oversubscription;
                return o.size() > 1 && o[1] != 1.0 ? json(o) : hidden();
              },
              "/cluster/fabric/tier_oversubscription"),
      key_nonnegative("/cluster/fabric/latency", Dimension::time, 1, "1us", "per hop")
          .shows([](S s) { return json(s.cluster.fabric.latency); }, "/cluster/fabric/latency_s"),
      key_int("/cluster/fabric/switch_radix", 4, 4096, 64, "ports per switch").shows([](S s) {
        return json(s.cluster.fabric.switch_radix);
      }),
      key_bool("/cluster/fabric/in_network_reduction", false, "the fabric reduces in the network (SHARP)")
          .shows([](S s) { return s.cluster.fabric.in_network_reduction ? json(true) : hidden(); }),
  };
  fabric_model_keys(k);
  accelerator_keys(k, "/cluster/accelerator");
  pool_keys(k);
  return k;
}

} // namespace trainsim::scenario
