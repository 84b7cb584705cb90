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
const char* to_string(FabricType f)
{
  switch (f) {
  case FabricType::fat_tree: return "fat_tree";
  case FabricType::rail_optimized: return "rail_optimized";
  case FabricType::dragonfly: return "dragonfly";
  case FabricType::torus: return "torus";
  case FabricType::supernode: return "supernode";
  }
  return "?";
}

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
  // Keys beyond the original schema appear only when used, so that older reports keep their shape.
  const auto& fab = s.cluster.fabric;
  if (!fab.preset.empty())
    j["cluster"]["fabric"]["preset"] = fab.preset;
  if (fab.tier_oversubscription.size() > 1 && fab.tier_oversubscription[1] != 1.0)
    j["cluster"]["fabric"]["tier_oversubscription"] = fab.tier_oversubscription;
  if (fab.params.is_object() && !fab.params.empty())
    j["cluster"]["fabric"]["params"] = fab.params;
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
  j["site"] = {{"pue", s.site.pue},
               {"grid", {{"id", s.site.grid.id}, {"co2_kg_per_kwh", s.site.grid.co2_kg_per_kwh}}}};
  if (s.site.grid.coal_share)
    j["site"]["grid"]["coal_share"] = *s.site.grid.coal_share;
  j["simulation"] = {{"steps", s.simulation.steps}, {"seed", s.simulation.seed}};
  return j;
}

} // namespace trainsim::scenario
