#include "trainsim/scenario/Scenario.hpp"

#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::scenario {

const char* to_string(Precision p)
{
  switch (p) {
  case Precision::bf16: return "bf16";
  case Precision::fp16: return "fp16";
  case Precision::fp8: return "fp8";
  }
  return "?";
}
const char* to_string(Activation a) { return a == Activation::gelu ? "gelu" : "swiglu"; }
const char* to_string(Recompute r)
{
  return r == Recompute::none ? "none" : r == Recompute::selective ? "selective" : "full";
}
const char* to_string(Attention a) { return a == Attention::flash ? "flash" : "standard"; }
const char* to_string(FabricType f) { return f == FabricType::fat_tree ? "fat_tree" : "rail_optimized"; }

double Accelerator::peak(Precision p) const
{
  auto it = peak_flops.find(to_string(p));
  return it == peak_flops.end() ? 0.0 : it->second;
}

nlohmann::json to_json(const Scenario& s)
{
  using nlohmann::json;
  const auto& a = s.cluster.accelerator;
  json j;
  j["schema_version"] = s.schema_version;
  j["name"] = s.name;
  j["cluster"] = {
      {"accelerator",
       {{"id", a.id},
        {"peak_flops", a.peak_flops},
        {"memory_bytes", a.memory_bytes},
        {"memory_bandwidth_Bps", a.memory_bandwidth},
        {"power_w", {{"idle", a.idle_power_w}, {"peak", a.peak_power_w}}}}},
      {"nodes", s.cluster.nodes},
      {"accelerators_per_node", s.cluster.accelerators_per_node},
      {"host_power_w", s.cluster.host_power_w},
      {"scale_up",
       {{"type", s.cluster.scale_up.type},
        {"bandwidth_Bps", s.cluster.scale_up.bandwidth},
        {"latency_s", s.cluster.scale_up.latency}}},
      {"fabric",
       {{"type", to_string(s.cluster.fabric.type)},
        {"nic_bandwidth_Bps", s.cluster.fabric.nic_bandwidth},
        {"tiers", s.cluster.fabric.tiers},
        {"oversubscription", s.cluster.fabric.oversubscription},
        {"latency_s", s.cluster.fabric.latency},
        {"switch_radix", s.cluster.fabric.switch_radix}}}};
  const auto& m = s.model;
  j["model"] = {{"name", m.name},
                {"layers", m.layers},
                {"hidden_size", m.hidden_size},
                {"attention_heads", m.attention_heads},
                {"kv_heads", m.kv_heads},
                {"ffn_hidden_size", m.ffn_hidden_size},
                {"vocab_size", m.vocab_size},
                {"seq_length", m.seq_length},
                {"activation", to_string(m.activation)},
                {"dropout", m.dropout}};
  const auto& t = s.training;
  j["training"] = {{"global_batch_size", t.global_batch_size},
                   {"micro_batch_size", t.micro_batch_size},
                   {"tokens", t.tokens},
                   {"precision", to_string(t.precision)},
                   {"recompute", to_string(t.recompute)},
                   {"attention", to_string(t.attention)},
                   {"grad_reduce_bytes", t.grad_reduce_bytes}};
  const auto& p = s.parallelism;
  j["parallelism"] = {{"tp", p.tp},
                      {"pp", p.pp},
                      {"dp", p.dp},
                      {"vpp", p.vpp},
                      {"sequence_parallel", p.sequence_parallel},
                      {"zero_stage", p.zero_stage},
                      {"overlap_grad_reduce", p.overlap_grad_reduce},
                      {"grad_bucket_bytes", p.grad_bucket_bytes}};
  // Beside the defaults only, so that reports of scenarios that do not use them stay as they were.
  if (p.collectives != Parallelism{}.collectives)
    j["parallelism"]["collectives"] = p.collectives;
  if (s.cluster.scale_up.nvls)
    j["cluster"]["scale_up"]["nvls"] = true;
  if (s.cluster.fabric.in_network_reduction)
    j["cluster"]["fabric"]["in_network_reduction"] = true;
  j["site"] = {{"pue", s.site.pue},
               {"grid", {{"id", s.site.grid.id}, {"co2_kg_per_kwh", s.site.grid.co2_kg_per_kwh}}}};
  if (s.site.grid.coal_share)
    j["site"]["grid"]["coal_share"] = *s.site.grid.coal_share;
  if (s.simulation.steps_auto)
    j["simulation"] = {{"steps", "auto"}, {"max_steps", s.simulation.steps}};
  else
    j["simulation"] = {{"steps", s.simulation.steps}};
  j["simulation"]["seed"] = s.simulation.seed;
  j["simulation"]["fidelity"] = s.simulation.fidelity;
  return j;
}

} // namespace trainsim::scenario
