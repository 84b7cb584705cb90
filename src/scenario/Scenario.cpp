#include "trainsim/scenario/Scenario.hpp"

#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::scenario {

const char* to_string(Precision p)
{
  switch (p) {
  case Precision::bf16:
    return "bf16";
  case Precision::fp16:
    return "fp16";
  case Precision::fp8:
    return "fp8";
  }
  return "?";
}
const char* to_string(Activation a)
{
  return a == Activation::gelu ? "gelu" : a == Activation::swiglu ? "swiglu" : "squared_relu";
}
const char* to_string(Recompute r)
{
  return r == Recompute::none ? "none" : r == Recompute::selective ? "selective" : "full";
}
const char* to_string(Attention a)
{
  return a == Attention::flash ? "flash" : "standard";
}
double Accelerator::peak(Precision p) const
{
  auto it = peak_flops.find(to_string(p));
  return it == peak_flops.end() ? 0.0 : it->second;
}

namespace {

using nlohmann::json;

json cluster_json(const Cluster& c)
{
  const auto& a = c.accelerator;
  const auto& fab = c.fabric;
  json j = {{"accelerator",
             {{"id", a.id},
              {"peak_flops", a.peak_flops},
              {"memory_bytes", a.memory_bytes},
              {"memory_bandwidth_Bps", a.memory_bandwidth},
              {"power_w", {{"idle", a.idle_power_w}, {"peak", a.peak_power_w}}}}},
            {"nodes", c.nodes},
            {"accelerators_per_node", c.accelerators_per_node},
            {"host_power_w", c.host_power_w},
            {"scale_up",
             {{"type", c.scale_up.type}, {"bandwidth_Bps", c.scale_up.bandwidth}, {"latency_s", c.scale_up.latency}}},
            {"fabric",
             {{"type", fab.type},
              {"nic_bandwidth_Bps", fab.nic_bandwidth},
              {"tiers", fab.tiers},
              {"oversubscription", fab.oversubscription},
              {"latency_s", fab.latency},
              {"switch_radix", fab.switch_radix}}}};
  // Keys beyond the original schema appear only when used, so that older reports keep their shape.
  if (!fab.preset.empty())
    j["fabric"]["preset"] = fab.preset;
  if (fab.tier_oversubscription.size() > 1 && fab.tier_oversubscription[1] != 1.0)
    j["fabric"]["tier_oversubscription"] = fab.tier_oversubscription;
  if (fab.params.is_object() && !fab.params.empty())
    j["fabric"]["params"] = fab.params;
  if (c.scale_up.nvls)
    j["scale_up"]["nvls"] = true;
  if (fab.in_network_reduction)
    j["fabric"]["in_network_reduction"] = true;
  return j;
}

json model_json(const Model& m)
{
  json j = {{"name", m.name},
            {"layers", m.layers},
            {"hidden_size", m.hidden_size},
            {"attention_heads", m.attention_heads},
            {"kv_heads", m.kv_heads},
            {"ffn_hidden_size", m.ffn_hidden_size},
            {"vocab_size", m.vocab_size},
            {"seq_length", m.seq_length},
            {"activation", to_string(m.activation)},
            {"dropout", m.dropout}};
  if (m.moe.enabled()) {
    const auto& e = m.moe;
    j["moe"] = {{"experts", e.experts},
                {"top_k", e.top_k},
                {"shared_experts", e.shared_experts},
                {"expert_ffn_hidden_size", e.expert_ffn_hidden_size},
                {"first_dense_layers", e.first_dense_layers},
                {"load_imbalance", e.load_imbalance},
                {"dispatch_precision", e.dispatch_bytes == 1 ? "fp8" : "bf16"}};
    if (e.capacity_factor)
      j["moe"]["capacity_factor"] = *e.capacity_factor;
    if (e.max_nodes_per_token)
      j["moe"]["max_nodes_per_token"] = *e.max_nodes_per_token;
  }
  // DeepSeek-V3 model features (docs/moe.md), beside the defaults only.
  if (m.mla) {
    j["attention_type"] = "mla";
    j["mla"] = {{"q_lora_rank", m.mla->q_lora_rank},
                {"kv_lora_rank", m.mla->kv_lora_rank},
                {"qk_nope_head_dim", m.mla->qk_nope_head_dim},
                {"qk_rope_head_dim", m.mla->qk_rope_head_dim},
                {"v_head_dim", m.mla->v_head_dim}};
  }
  if (m.mtp_depth > 0)
    j["mtp_depth"] = m.mtp_depth;
  if (m.parallel_block)
    j["parallel_block"] = true;
  if (m.sliding_window > 0)
    j["sliding_window"] = m.sliding_window;
  return j;
}

json training_json(const Training& t)
{
  json j = {{"global_batch_size", t.global_batch_size},
            {"micro_batch_size", t.micro_batch_size},
            {"tokens", t.tokens},
            {"precision", to_string(t.precision)},
            {"recompute", to_string(t.recompute)},
            {"attention", to_string(t.attention)},
            {"grad_reduce_bytes", t.grad_reduce_bytes}};
  if (t.fp8_params)
    j["fp8_params"] = true;
  // Framework presets (issue 14), beside their defaults only.
  if (!t.framework.empty())
    j["framework"] = t.framework;
  if (t.recompute == Recompute::selective) {
    const auto& rm = t.recompute_modules;
    if (!rm.core_attn || rm.layernorm || rm.mla_up_proj || rm.moe_act) {
      std::vector<std::string> mods;
      for (auto [on, name] : {std::pair<bool, const char*>{rm.core_attn, "core_attn"},
                              {rm.layernorm, "layernorm"},
                              {rm.mla_up_proj, "mla_up_proj"},
                              {rm.moe_act, "moe_act"}})
        if (on)
          mods.emplace_back(name);
      j["recompute_modules"] = mods;
    }
  }
  if (t.fp8_blockwise)
    j["fp8_recipe"] = "blockwise";
  return j;
}

json parallelism_json(const Parallelism& p, bool moe)
{
  json j = {{"tp", p.tp},
            {"pp", p.pp},
            {"dp", p.dp},
            {"vpp", p.vpp},
            {"sequence_parallel", p.sequence_parallel},
            {"zero_stage", p.zero_stage},
            {"overlap_grad_reduce", p.overlap_grad_reduce},
            {"grad_bucket_bytes", p.grad_bucket_bytes}};
  // Beside the defaults only, so that reports of scenarios that do not use them stay as they were.
  if (p.collectives != Parallelism{}.collectives)
    j["collectives"] = p.collectives;
  if (p.fsdp)
    j["fsdp"] = true;
  if (p.zero_stage == 3 && !p.zero) // DeepSpeed prefetches by its bucket, not zero_prefetch units
    j["zero_prefetch"] = p.zero_prefetch;
  if (p.tp_comm_overlap)
    j["tp_comm_overlap"] = true;
  if (p.cp != 1)
    j["cp"] = p.cp;
  if (p.overlap_param_gather)
    j["overlap_param_gather"] = true;
  // ZeRO-3 / FSDP as frameworks run them (issue 14), beside their defaults only.
  if (p.zero)
    j["zero"] = {{"prefetch_bucket_size", p.zero->prefetch_bucket},
                 {"reduce_bucket_size", p.zero->reduce_bucket},
                 {"max_live_parameters", p.zero->max_live_parameters},
                 {"max_reuse_distance", p.zero->max_reuse_distance}};
  if (!p.reshard_after_forward)
    j["reshard_after_forward"] = false;
  if (p.fsdp_shard_group > 0)
    j["fsdp_shard_group"] = p.fsdp_shard_group;
  if (p.first_stage_layers > 0)
    j["first_stage_layers"] = p.first_stage_layers;
  if (p.last_stage_layers > 0)
    j["last_stage_layers"] = p.last_stage_layers;
  // Pipeline schedule and layer split (docs/pipeline.md): beside the defaults only.
  if (p.schedule_given)
    j["schedule"] = p.schedule;
  if (!p.layer_split.empty()) {
    j["layer_split"] = p.split == "list" ? json(p.layer_split) : json(p.split);
    j["layers_per_virtual_stage"] = p.layer_split;
  }
  if (moe)
    j["ep"] = p.ep;
  return j;
}

json site_json(const Site& site)
{
  json j = {{"pue", site.pue}, {"grid", {{"id", site.grid.id}, {"co2_kg_per_kwh", site.grid.co2_kg_per_kwh}}}};
  if (site.grid.coal_share)
    j["grid"]["coal_share"] = *site.grid.coal_share;
  if (!site.grid.basis.empty())
    j["grid"]["basis"] = site.grid.basis;
  if (site.carbon.generation_mix_year)
    j["generation_mix_year"] = *site.carbon.generation_mix_year;
  if (!site.preset.empty())
    j["preset"] = site.preset;
  if (site.electricity_rmb_per_kwh)
    j["electricity_rmb_per_kwh"] = *site.electricity_rmb_per_kwh;
  if (site.accelerator_rmb_per_hour)
    j["accelerator_rmb_per_hour"] = *site.accelerator_rmb_per_hour;
  // Energy and carbon options (docs/energy-carbon.md).
  const auto& c = site.carbon;
  j["green_share"] = c.green_share;
  if (c.residual_kg_per_kwh)
    j["residual_co2_kg_per_kwh"] = *c.residual_kg_per_kwh;
  if (c.coal_share)
    j["coal_share"] = *c.coal_share;
  if (c.fossil_kg_per_kwh)
    j["fossil_co2_kg_per_kwh"] = *c.fossil_kg_per_kwh;
  if (!c.start_date.empty())
    j["start_date"] = c.start_date;
  if (!c.intensity_profile.empty())
    j["intensity_profile"] = {{"file", c.intensity_profile}, {"hours", c.profile_kg_per_kwh.size()}};
  if (c.embodied_kg_per_accelerator > 0)
    j["embodied"] = {{"kg_co2e_per_accelerator", c.embodied_kg_per_accelerator}, {"lifetime_s", c.embodied_lifetime_s}};
  if (site.cooling.outdoor) {
    const auto& k = site.cooling;
    j["cooling"] = {{"model", "outdoor"},
                    {"outdoor_temperature_c", k.temperature_c},
                    {"supply_temperature_c", k.supply_temperature_c},
                    {"approach_k", k.approach_k},
                    {"carnot_fraction", k.carnot_fraction},
                    {"fan_pump_overhead", k.fan_pump_overhead},
                    {"distribution_loss", k.distribution_loss}};
  }
  return j;
}

json simulation_json(const Simulation& sim)
{
  json j = sim.steps_auto ? json{{"steps", "auto"}, {"max_steps", sim.steps}} : json{{"steps", sim.steps}};
  j["seed"] = sim.seed;
  j["fidelity"] = sim.fidelity;
  if (!sim.reuse) // on by default
    j["reuse"] = false;
  if (sim.extrapolate != "auto") // the default
    j["extrapolate"] = sim.extrapolate == "always";
  j["variability"] = sim.variability; // at-scale mechanisms (docs/at-scale.md)
  j["host_overhead"] = sim.host_overhead;
  j["collective_efficiency"] = sim.collective_efficiency;
  if (sim.stragglers.fraction > 0)
    j["stragglers"] = {{"fraction", sim.stragglers.fraction}, {"slowdown", sim.stragglers.slowdown}};
  return j;
}

json power_json(const PowerOptions& p)
{
  json j = {{"clock", p.clock},
            {"dvfs_exponent", p.dvfs_exponent},
            {"memory_activity", p.memory_activity},
            {"comm_activity", p.comm_activity},
            {"bubble_activity", p.bubble_activity},
            {"nic_power_w", p.nic_power_w},
            {"switch_port_power_w", p.switch_port_power_w},
            {"storage_w_per_GBps", p.storage_w_per_Bps * 1e9}};
  if (p.cap_w)
    j["cap_w"] = *p.cap_w;
  if (p.compute_activity)
    j["compute_activity"] = *p.compute_activity;
  return j;
}

json failures_json(const Failures& f)
{
  json j;
  if (f.enabled) {
    j = {{"mtbf_s",
          {{"accelerator", f.accelerator_mtbf_s},
           {"node", f.node_mtbf_s},
           {"nic", f.nic_mtbf_s},
           {"link", f.link_mtbf_s},
           {"switch", f.switch_mtbf_s}}},
         {"checkpoint",
          {{"interval", f.interval == "given" ? json(f.interval_s) : json(f.interval)},
           {"bytes_per_parameter", f.bytes_per_parameter},
           {"write_bandwidth_Bps", f.write_bandwidth},
           {"read_bandwidth_Bps", f.read_bandwidth},
           {"overhead_s", f.checkpoint_overhead_s},
           {"async", f.async_checkpoint},
           {"snapshot_bandwidth_Bps", f.snapshot_bandwidth}}},
         {"restart_time_s", f.restart_s},
         {"requeue_time_s", f.requeue_s},
         {"repair_time_s", f.repair_s},
         {"hot_spare_nodes", f.hot_spare_nodes},
         {"hot_spare_fraction", f.hot_spare_fraction}};
    for (const auto& c : f.causes)
      j["causes"].push_back({{"id", c.id},
                             {"component", c.component},
                             {"share_of_component", c.share},
                             {"replaces_node", c.replaces_node},
                             {"detection_time_s", c.detection_s}});
  }
  // Issue 15: failures on by default (platforms/failures.json), causes, async checkpoints.
  j["enabled"] = f.enabled;
  j["source"] = f.source;
  return j;
}

} // namespace

nlohmann::json to_json(const Scenario& s)
{
  json j;
  j["schema_version"] = s.schema_version;
  j["name"] = s.name;
  j["cluster"] = cluster_json(s.cluster);
  j["model"] = model_json(s.model);
  j["training"] = training_json(s.training);
  j["parallelism"] = parallelism_json(s.parallelism, s.model.moe.enabled());
  j["site"] = site_json(s.site);
  j["simulation"] = simulation_json(s.simulation);
  j["power"] = power_json(s.power);
  j["failures"] = failures_json(s.failures);
  for (const auto& ph : s.phases) // training.phases (issue 15)
    j["training"]["phases"].push_back(
        {{"name", ph.name},
         {"tokens", ph.tokens},
         {"seq_length", ph.scenario->model.seq_length},
         {"global_batch_size", ph.scenario->training.global_batch_size},
         {"micro_batch_size", ph.scenario->training.micro_batch_size},
         {"parallelism", parallelism_json(ph.scenario->parallelism, ph.scenario->model.moe.enabled())}});
  return j;
}

} // namespace trainsim::scenario
