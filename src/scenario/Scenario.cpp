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
const char* to_string(Activation a) { return a == Activation::gelu ? "gelu" : a == Activation::swiglu ? "swiglu" : "squared_relu"; }
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
  // Beside the defaults only, so that reports of scenarios that do not use them stay as they were.
  if (p.collectives != Parallelism{}.collectives)
    j["parallelism"]["collectives"] = p.collectives;
  if (p.fsdp)
    j["parallelism"]["fsdp"] = true;
  if (p.zero_stage == 3)
    j["parallelism"]["zero_prefetch"] = p.zero_prefetch;
  if (p.tp_comm_overlap)
    j["parallelism"]["tp_comm_overlap"] = true;
  if (p.cp != 1)
    j["parallelism"]["cp"] = p.cp;
  if (p.overlap_param_gather)
    j["parallelism"]["overlap_param_gather"] = true;
  if (s.training.fp8_params)
    j["training"]["fp8_params"] = true;
  // Framework presets and ZeRO-3 / FSDP as frameworks run them (issue 14), beside their defaults only.
  if (!s.training.framework.empty())
    j["training"]["framework"] = s.training.framework;
  if (p.zero)
    j["parallelism"]["zero"] = {{"prefetch_bucket_size", p.zero->prefetch_bucket},
                                {"reduce_bucket_size", p.zero->reduce_bucket},
                                {"max_live_parameters", p.zero->max_live_parameters},
                                {"max_reuse_distance", p.zero->max_reuse_distance}};
  if (p.zero) // DeepSpeed prefetches by its bucket, not zero_prefetch units
    j["parallelism"].erase("zero_prefetch");
  if (!p.reshard_after_forward)
    j["parallelism"]["reshard_after_forward"] = false;
  if (p.fsdp_shard_group > 0)
    j["parallelism"]["fsdp_shard_group"] = p.fsdp_shard_group;
  if (s.cluster.scale_up.nvls)
    j["cluster"]["scale_up"]["nvls"] = true;
  if (p.first_stage_layers > 0)
    j["parallelism"]["first_stage_layers"] = p.first_stage_layers;
  if (p.last_stage_layers > 0)
    j["parallelism"]["last_stage_layers"] = p.last_stage_layers;
  // Pipeline schedule and layer split (docs/pipeline.md): beside the defaults only.
  if (p.schedule_given)
    j["parallelism"]["schedule"] = p.schedule;
  if (!p.layer_split.empty()) {
    j["parallelism"]["layer_split"] = p.split == "list" ? nlohmann::json(p.layer_split) : nlohmann::json(p.split);
    j["parallelism"]["layers_per_virtual_stage"] = p.layer_split;
  }
  if (m.moe.enabled()) {
    const auto& e = m.moe;
    j["model"]["moe"] = {{"experts", e.experts},
                         {"top_k", e.top_k},
                         {"shared_experts", e.shared_experts},
                         {"expert_ffn_hidden_size", e.expert_ffn_hidden_size},
                         {"first_dense_layers", e.first_dense_layers},
                         {"load_imbalance", e.load_imbalance},
                         {"dispatch_precision", e.dispatch_bytes == 1 ? "fp8" : "bf16"}};
    if (e.capacity_factor)
      j["model"]["moe"]["capacity_factor"] = *e.capacity_factor;
    if (e.max_nodes_per_token)
      j["model"]["moe"]["max_nodes_per_token"] = *e.max_nodes_per_token;
    j["parallelism"]["ep"] = p.ep;
  }
  // DeepSeek-V3 model features (docs/moe.md), beside the defaults only.
  if (m.mla) {
    j["model"]["attention_type"] = "mla";
    j["model"]["mla"] = {{"q_lora_rank", m.mla->q_lora_rank},
                         {"kv_lora_rank", m.mla->kv_lora_rank},
                         {"qk_nope_head_dim", m.mla->qk_nope_head_dim},
                         {"qk_rope_head_dim", m.mla->qk_rope_head_dim},
                         {"v_head_dim", m.mla->v_head_dim}};
  }
  if (m.mtp_depth > 0)
    j["model"]["mtp_depth"] = m.mtp_depth;
  if (m.parallel_block)
    j["model"]["parallel_block"] = true;
  if (m.sliding_window > 0)
    j["model"]["sliding_window"] = m.sliding_window;
  if (t.recompute == Recompute::selective) {
    const auto& rm = t.recompute_modules;
    if (!rm.core_attn || rm.layernorm || rm.mla_up_proj) {
      std::vector<std::string> mods;
      for (auto [on, name] : {std::pair<bool, const char*>{rm.core_attn, "core_attn"},
                              {rm.layernorm, "layernorm"},
                              {rm.mla_up_proj, "mla_up_proj"}})
        if (on)
          mods.emplace_back(name);
      j["training"]["recompute_modules"] = mods;
    }
  }
  if (t.fp8_blockwise)
    j["training"]["fp8_recipe"] = "blockwise";
  if (s.cluster.fabric.in_network_reduction)
    j["cluster"]["fabric"]["in_network_reduction"] = true;
  j["site"] = {{"pue", s.site.pue},
               {"grid", {{"id", s.site.grid.id}, {"co2_kg_per_kwh", s.site.grid.co2_kg_per_kwh}}}};
  if (s.site.grid.coal_share)
    j["site"]["grid"]["coal_share"] = *s.site.grid.coal_share;
  if (!s.site.grid.basis.empty())
    j["site"]["grid"]["basis"] = s.site.grid.basis;
  if (s.site.carbon.generation_mix_year)
    j["site"]["generation_mix_year"] = *s.site.carbon.generation_mix_year;
  if (!s.site.preset.empty())
    j["site"]["preset"] = s.site.preset;
  if (s.site.electricity_rmb_per_kwh)
    j["site"]["electricity_rmb_per_kwh"] = *s.site.electricity_rmb_per_kwh;
  if (s.site.accelerator_rmb_per_hour)
    j["site"]["accelerator_rmb_per_hour"] = *s.site.accelerator_rmb_per_hour;
  if (s.simulation.steps_auto)
    j["simulation"] = {{"steps", "auto"}, {"max_steps", s.simulation.steps}};
  else
    j["simulation"] = {{"steps", s.simulation.steps}};
  j["simulation"]["seed"] = s.simulation.seed;
  j["simulation"]["fidelity"] = s.simulation.fidelity;
  if (!s.simulation.reuse) // on by default
    j["simulation"]["reuse"] = false;
  j["simulation"]["variability"] = s.simulation.variability; // at-scale mechanisms (docs/at-scale.md)
  j["simulation"]["host_overhead"] = s.simulation.host_overhead;
  if (s.simulation.stragglers.fraction > 0)
    j["simulation"]["stragglers"] = {{"fraction", s.simulation.stragglers.fraction},
                                     {"slowdown", s.simulation.stragglers.slowdown}};
  // Energy, carbon and failure options (docs/energy-carbon.md).
  const auto& c = s.site.carbon;
  j["site"]["green_share"] = c.green_share;
  if (c.residual_kg_per_kwh)
    j["site"]["residual_co2_kg_per_kwh"] = *c.residual_kg_per_kwh;
  if (c.coal_share)
    j["site"]["coal_share"] = *c.coal_share;
  if (c.fossil_kg_per_kwh)
    j["site"]["fossil_co2_kg_per_kwh"] = *c.fossil_kg_per_kwh;
  if (!c.start_date.empty())
    j["site"]["start_date"] = c.start_date;
  if (!c.intensity_profile.empty())
    j["site"]["intensity_profile"] = {{"file", c.intensity_profile}, {"hours", c.profile_kg_per_kwh.size()}};
  if (c.embodied_kg_per_accelerator > 0)
    j["site"]["embodied"] = {{"kg_co2e_per_accelerator", c.embodied_kg_per_accelerator}, {"lifetime_s", c.embodied_lifetime_s}};
  if (s.site.cooling.outdoor) {
    const auto& k = s.site.cooling;
    j["site"]["cooling"] = {{"model", "outdoor"},
                            {"outdoor_temperature_c", k.temperature_c},
                            {"supply_temperature_c", k.supply_temperature_c},
                            {"approach_k", k.approach_k},
                            {"carnot_fraction", k.carnot_fraction},
                            {"fan_pump_overhead", k.fan_pump_overhead},
                            {"distribution_loss", k.distribution_loss}};
  }
  const auto& p2 = s.power;
  j["power"] = {{"clock", p2.clock},
                {"dvfs_exponent", p2.dvfs_exponent},
                {"memory_activity", p2.memory_activity},
                {"comm_activity", p2.comm_activity},
                {"bubble_activity", p2.bubble_activity},
                {"nic_power_w", p2.nic_power_w},
                {"switch_port_power_w", p2.switch_port_power_w},
                {"storage_w_per_GBps", p2.storage_w_per_Bps * 1e9}};
  if (p2.cap_w)
    j["power"]["cap_w"] = *p2.cap_w;
  if (p2.compute_activity)
    j["power"]["compute_activity"] = *p2.compute_activity;
  const auto& f = s.failures;
  if (f.enabled) {
    j["failures"] = {{"mtbf_s",
                      {{"accelerator", f.accelerator_mtbf_s},
                       {"node", f.node_mtbf_s},
                       {"nic", f.nic_mtbf_s},
                       {"link", f.link_mtbf_s},
                       {"switch", f.switch_mtbf_s}}},
                     {"checkpoint",
                      {{"interval", f.interval == "given" ? nlohmann::json(f.interval_s) : nlohmann::json(f.interval)},
                       {"bytes_per_parameter", f.bytes_per_parameter},
                       {"write_bandwidth_Bps", f.write_bandwidth},
                       {"read_bandwidth_Bps", f.read_bandwidth},
                       {"overhead_s", f.checkpoint_overhead_s}}},
                     {"restart_time_s", f.restart_s},
                     {"requeue_time_s", f.requeue_s},
                     {"repair_time_s", f.repair_s},
                     {"hot_spare_nodes", f.hot_spare_nodes}};
  }
  // Issue 15: failures on by default (platforms/failures.json), causes, async checkpoints; training.phases.
  j["failures"]["enabled"] = f.enabled;
  j["failures"]["source"] = f.source;
  if (f.enabled) {
    j["failures"]["hot_spare_fraction"] = f.hot_spare_fraction;
    j["failures"]["checkpoint"]["async"] = f.async_checkpoint;
    j["failures"]["checkpoint"]["snapshot_bandwidth_Bps"] = f.snapshot_bandwidth;
    for (const auto& c : f.causes)
      j["failures"]["causes"].push_back({{"id", c.id},
                                         {"component", c.component},
                                         {"share_of_component", c.share},
                                         {"replaces_node", c.replaces_node},
                                         {"detection_time_s", c.detection_s}});
  }
  for (const auto& ph : s.phases)
    j["training"]["phases"].push_back({{"name", ph.name},
                                       {"tokens", ph.tokens},
                                       {"seq_length", ph.scenario->model.seq_length},
                                       {"global_batch_size", ph.scenario->training.global_batch_size},
                                       {"micro_batch_size", ph.scenario->training.micro_batch_size},
                                       {"parallelism", to_json(*ph.scenario)["parallelism"]}});
  return j;
}

} // namespace trainsim::scenario
