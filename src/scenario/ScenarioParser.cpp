#include "trainsim/scenario/ScenarioParser.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "LayerSplit.hpp"
#include "trainsim/collective/Collective.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/EnergyOptions.hpp"
#include "trainsim/scenario/HfConfig.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/ModelFeatures.hpp"
#include "trainsim/scenario/Placement.hpp"

#include "trainsim/scenario/Frameworks.hpp" // issue 14: framework presets, ZeRO-3 / FSDP keys
#include "trainsim/scenario/Sharding.hpp"
#include "trainsim/topology/FabricRegistry.hpp"

namespace trainsim::scenario {

using core::ConfigError;
using core::Dimension;
using nlohmann::json;

namespace {

std::string list(const std::vector<std::string>& v)
{
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

const json& lookup(const json& table, const std::string& id, const std::string& pointer, const char* what,
                   const std::vector<std::string>& ids)
{
  if (!table.contains(id))
    throw ConfigError(pointer, "unknown " + std::string(what) + " \"" + id + "\"; valid: " + list(ids));
  return table.at(id);
}

Accelerator parse_accelerator_ref(JsonReader& cluster, const Catalog& cat)
{
  std::string ptr = cluster.pointer_of("accelerator");
  const json& v = cluster.raw("accelerator");
  if (v.is_string()) {
    std::string id = v.get<std::string>();
    const json& entry = lookup(cat.accelerators(), id, ptr, "accelerator", cat.accelerator_ids());
    return parse_accelerator(entry, "/catalog/accelerators/" + escape_pointer_token(id), id, nullptr);
  }
  if (!v.is_object())
    throw ConfigError(ptr, "expected a catalogue id (e.g. \"H100-SXM-80GB\") or an object, got " + brief(v));
  if (v.contains("preset")) {
    JsonReader r = cluster.nested(v, "accelerator");
    std::string id = r.key_string("preset");
    const json& entry = lookup(cat.accelerators(), id, ptr + "/preset", "accelerator", cat.accelerator_ids());
    Accelerator base = parse_accelerator(entry, "/catalog/accelerators/" + escape_pointer_token(id), id, nullptr);
    return parse_accelerator(v, ptr, id + "+overrides", &base, &cluster);
  }
  return parse_accelerator(v, ptr,
                           v.contains("name") && v.at("name").is_string() ? v.at("name").get<std::string>() : "custom",
                           nullptr, &cluster);
}

/// "3:1" or 3 -> 3; at least 1:1, at most 64:1.
double ratio_of(const json& v, const std::string& ptr)
{
  if (v.is_number()) {
    double x = v.get<double>();
    if (!(x >= 1 && x <= 64))
      throw ConfigError(ptr, brief(v) + " is out of range; valid: 1 to 64 (downlink:uplink, 3 means 3:1)");
    return x;
  }
  if (!v.is_string())
    throw ConfigError(ptr, "expected a ratio \"down:up\" such as \"3:1\" or a number, got " + brief(v));
  std::string s = v.get<std::string>();
  auto colon = s.find(':');
  double down = 0, up = 0;
  try {
    if (colon != std::string::npos) {
      size_t n1 = 0, n2 = 0;
      std::string a = s.substr(0, colon), b = s.substr(colon + 1);
      down = std::stod(a, &n1);
      up = std::stod(b, &n2);
      if (n1 != a.size() || n2 != b.size())
        down = up = 0; // trailing characters: not a ratio
    }
  } catch (const std::exception&) {
    down = up = 0;
  }
  if (!(down >= 1 && up >= 1 && down / up >= 1 && down / up <= 64))
    throw ConfigError(
        ptr, "\"" + s + "\" is not a ratio; write \"down:up\" such as \"1:1\" or \"3:1\" (at least 1:1, at most 64:1)");
  return down / up;
}

/// cluster.fabric: a preset from platforms/fabrics.json (optional) with the scenario's keys on top. The keys
/// every fabric model shares are parsed here; the rest go to `params`, which the model named by `type`
/// checks against its declared parameters when the fabric is built (topology::Fabric::build).
Fabric parse_fabric(JsonReader& cluster, const Catalog& cat, const Accelerator& acc)
{
  const std::string ptr = cluster.pointer_of("fabric");
  const json& given = cluster.raw("fabric");
  if (!given.is_object())
    throw ConfigError(ptr, "expected an object, got " + brief(given));
  Fabric fab;
  json merged = json::object();
  if (given.contains("preset")) {
    JsonReader pr = cluster.nested(given, "fabric");
    fab.preset = pr.key_string("preset");
    const json& entry = lookup(cat.fabrics(), fab.preset, ptr + "/preset", "fabric preset", cat.fabric_ids());
    merged = entry.at("fabric");
  }
  for (const auto& [k, v] : given.items())
    if (k != "preset")
      merged[k] = v;
  JsonReader f = cluster.nested(merged, "fabric");
  const std::string type = f.key_choice("type"); // one of the registered models (topology/FabricRegistry.hpp)
  fab.type = type;
  const topology::FabricModel& schema = topology::fabric_model(type);
  auto declared = [&](const std::string& k) {
    if (k == "type" || k == "nic_bandwidth" || k == "latency" || k == "in_network_reduction")
      return true;
    for (const auto& c : schema.common)
      if (c == k)
        return true;
    for (const auto& p : schema.params)
      if (p.name == k)
        return true;
    return false;
  };
  for (const auto& [k, v] : merged.items())
    if (!declared(k)) {
      std::vector<std::string> valid{"type", "preset", "nic_bandwidth", "latency", "in_network_reduction"};
      valid.insert(valid.end(), schema.common.begin(), schema.common.end());
      for (const auto& p : schema.params)
        valid.push_back(p.name);
      throw ConfigError(f.pointer_of(k),
                        "unknown key for the " + type + " fabric model; valid keys here: " + list(valid));
    }
  fab.nic_bandwidth = f.key_quantity("nic_bandwidth", acc.nic_bandwidth);
  fab.tiers = static_cast<int>(f.key_int("tiers"));
  fab.tier_oversubscription = {1.0};
  if (f.has("oversubscription")) {
    const json& o = f.raw("oversubscription");
    if (o.is_array()) {
      if (o.empty() || o.size() > 2)
        throw ConfigError(f.pointer_of("oversubscription"), "expected one ratio per switch tier with uplinks "
                                                            "(leaf, spine: at most 2), got " +
                                                                brief(o));
      fab.tier_oversubscription.clear();
      for (size_t i = 0; i < o.size(); ++i)
        fab.tier_oversubscription.push_back(ratio_of(o[i], f.pointer_of("oversubscription") + "/" + std::to_string(i)));
    } else {
      fab.tier_oversubscription = {ratio_of(o, f.pointer_of("oversubscription"))};
    }
  }
  while (fab.tier_oversubscription.size() < 2)
    fab.tier_oversubscription.push_back(1.0);
  fab.oversubscription = fab.tier_oversubscription[0];
  fab.latency = f.key_quantity("latency");
  fab.switch_radix = static_cast<int>(f.key_int("switch_radix"));
  fab.in_network_reduction = f.key_bool("in_network_reduction");
  for (const char* k : {"tiers", "oversubscription", "switch_radix"})
    if (merged.contains(k))
      fab.given.emplace_back(k);
  fab.params = json::object();
  for (const auto& [k, v] : merged.items())
    if (k != "type" && k != "nic_bandwidth" && k != "tiers" && k != "oversubscription" && k != "latency" &&
        k != "switch_radix" && k != "in_network_reduction")
      fab.params[k] = v;
  return fab;
}

ScaleUp parse_scale_up(JsonReader& r, const Accelerator& acc)
{
  ScaleUp su{acc.scale_up_type, acc.scale_up_bandwidth, acc.scale_up_latency};
  if (r.has("scale_up")) {
    auto s = r.child("scale_up");
    su.type = s.key_choice("type", su.type);
    su.bandwidth = s.key_quantity("bandwidth", su.bandwidth);
    su.latency = s.key_quantity("latency", su.latency);
    su.nvls = s.key_bool("nvls");
    s.finish();
  }
  return su;
}

/// /cluster/pools (docs/cluster.md "One job over mixed pools"): node pools of different accelerators, in node
/// order, on one fabric; they replace /cluster/accelerator, nodes, host_power and scale_up.
void parse_pools(JsonReader& r, const Catalog& cat, Cluster& c)
{
  const std::string ptr = r.pointer_of("pools");
  const json& list = r.raw("pools");
  if (!list.is_array() || list.size() < 2 || list.size() > 16)
    throw ConfigError(ptr, "must be a list of 2 to 16 pools, each {\"accelerator\", \"nodes\"}; got " + brief(list) +
                               " (one accelerator type: use /cluster/accelerator and /cluster/nodes)");
  for (const char* k : {"accelerator", "nodes", "host_power", "scale_up"})
    if (r.has(k))
      throw ConfigError(r.pointer_of(k), std::string("contradicts /cluster/pools (each pool has its own ") + k +
                                             "); move it into the pools or drop the pools");
  double host_w = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = ptr + "/" + std::to_string(i);
    if (!list[i].is_object())
      throw ConfigError(at, "expected a pool object {\"accelerator\", \"nodes\"}, got " + brief(list[i]));
    JsonReader pr = scenario_reader(list[i], at);
    Pool pool;
    pool.accelerator = parse_accelerator_ref(pr, cat);
    pool.name = pr.key_string("name", pool.accelerator.id);
    pool.nodes = static_cast<int>(pr.key_int("nodes"));
    pool.host_power_w = pr.key_quantity("host_power", pool.accelerator.host_power_w);
    pool.scale_up = parse_scale_up(pr, pool.accelerator);
    pr.finish();
    for (const auto& other : c.pools)
      if (other.name == pool.name)
        throw ConfigError(at + "/name", "\"" + pool.name + "\" names an earlier pool too; give each pool its own name");
    pool.first_node = c.nodes;
    c.nodes += pool.nodes;
    host_w += pool.nodes * pool.host_power_w;
    c.pools.push_back(std::move(pool));
  }
  const auto& first = c.pools.front();
  if (!r.has("accelerators_per_node"))
    for (size_t i = 1; i < c.pools.size(); ++i)
      if (c.pools[i].accelerator.accelerators_per_node != first.accelerator.accelerators_per_node)
        throw ConfigError(r.pointer_of("accelerators_per_node"),
                          "is needed: the pools' accelerators come " +
                              std::to_string(first.accelerator.accelerators_per_node) + " and " +
                              std::to_string(c.pools[i].accelerator.accelerators_per_node) +
                              " per node, and the fabric takes one node size; give it");
  c.accelerators_per_node =
      static_cast<int>(r.key_int("accelerators_per_node", first.accelerator.accelerators_per_node));
  c.accelerator = first.accelerator;
  c.scale_up = first.scale_up;
  c.host_power_w = host_w / c.nodes;
  // One fabric: the NICs default to the slowest pool's (give /cluster/fabric/nic_bandwidth to set it).
  const Accelerator* nic = &first.accelerator;
  for (const auto& p : c.pools)
    if (p.accelerator.nic_bandwidth < nic->nic_bandwidth)
      nic = &p.accelerator;
  c.fabric = parse_fabric(r, cat, *nic);
  r.finish();
}

Cluster parse_cluster(JsonReader r, const Catalog& cat)
{
  Cluster c;
  if (r.has("pools")) {
    parse_pools(r, cat, c);
    return c;
  }
  c.accelerator = parse_accelerator_ref(r, cat);
  c.nodes = static_cast<int>(r.key_int("nodes"));
  c.accelerators_per_node = static_cast<int>(r.key_int("accelerators_per_node", c.accelerator.accelerators_per_node));
  c.host_power_w = r.key_quantity("host_power", c.accelerator.host_power_w);
  c.scale_up = parse_scale_up(r, c.accelerator);
  c.fabric = parse_fabric(r, cat, c.accelerator);
  r.finish();
  return c;
}

/// /model/moe, with the preset's moe object (if any) as fallbacks.
Moe parse_moe(JsonReader r, const json* preset, const Model& m)
{
  Moe e;
  auto fb_int = [&](const char* key, std::optional<long> dflt) -> std::optional<long> {
    if (preset && preset->contains(key))
      return preset->at(key).get<long>();
    return dflt;
  };
  auto fb_num = [&](const char* key, std::optional<double> dflt) -> std::optional<double> {
    if (preset && preset->contains(key))
      return preset->at(key).get<double>();
    return dflt;
  };
  e.experts = static_cast<int>(r.key_int("experts", fb_int("experts", std::nullopt)));
  e.top_k = static_cast<int>(r.key_int("top_k", fb_int("top_k", std::nullopt)));
  e.shared_experts = static_cast<int>(r.key_int("shared_experts", fb_int("shared_experts", std::nullopt)));
  e.expert_ffn_hidden_size =
      static_cast<int>(r.key_int("expert_ffn_hidden_size", fb_int("expert_ffn_hidden_size", m.ffn_hidden_size)));
  e.first_dense_layers = static_cast<int>(r.key_int("first_dense_layers", fb_int("first_dense_layers", std::nullopt)));
  e.load_imbalance = r.key_number("load_imbalance", fb_num("load_imbalance", std::nullopt));
  if (r.has("capacity_factor") || (preset && preset->contains("capacity_factor")))
    e.capacity_factor = r.key_number("capacity_factor", fb_num("capacity_factor", std::nullopt));
  {
    std::optional<std::string> fb;
    if (preset && preset->contains("dispatch_precision"))
      fb = preset->at("dispatch_precision").get<std::string>();
    e.dispatch_bytes = r.key_choice("dispatch_precision", fb) == "fp8" ? 1 : 2;
  }
  if (r.has("max_nodes_per_token") || (preset && preset->contains("max_nodes_per_token")))
    if (const long n = r.key_int("max_nodes_per_token", fb_int("max_nodes_per_token", std::nullopt)); n > 0)
      e.max_nodes_per_token = static_cast<int>(n); // 0: no limit (overrides a preset's)
  r.finish();
  if (e.top_k > e.experts)
    throw ConfigError(r.pointer_of("top_k"), std::to_string(e.top_k) + " exceeds experts " + std::to_string(e.experts) +
                                                 "; route each token to at most experts experts");
  if (e.first_dense_layers >= m.layers)
    throw ConfigError(r.pointer_of("first_dense_layers"),
                      std::to_string(e.first_dense_layers) + " leaves no MoE layer of the model's " +
                          std::to_string(m.layers) + "; use fewer than layers, or drop /model/moe for a dense model");
  return e;
}

Model parse_model(JsonReader r, const Catalog& cat, const std::string& base_dir)
{
  Model m;
  const json* preset = nullptr;
  json from_hf; // model.hf_config: a Hugging Face config.json read as a preset
  if (r.has("hf_config")) {
    if (r.has("preset"))
      throw ConfigError(r.pointer_of("hf_config"), "given with /model/preset; name the model by one of them");
    std::filesystem::path p(r.key_string("hf_config"));
    if (p.is_relative() && !base_dir.empty())
      p = std::filesystem::path(base_dir) / p;
    from_hf = preset_from_hf_config(p.string(), r.pointer_of("hf_config"));
    preset = &from_hf;
    const auto folder = p.parent_path().filename().string();
    m.name = r.key_string("name", p.filename() == "config.json" && !folder.empty() ? folder : p.stem().string());
  } else if (r.has("preset")) {
    const std::string id = r.key_string("preset");
    preset = &lookup(cat.models(), id, r.pointer_of("preset"), "model preset", cat.model_ids());
    m.name = r.key_string("name", id);
  } else {
    m.name = r.key_string("name", std::string("custom"));
  }
  auto pick_int = [&](const char* key) {
    std::optional<long> fb;
    if (preset && preset->contains(key))
      fb = preset->at(key).get<long>();
    return static_cast<int>(r.key_int(key, fb));
  };
  m.layers = pick_int("layers");
  m.hidden_size = pick_int("hidden_size");
  m.attention_heads = pick_int("attention_heads");
  {
    std::optional<long> fb = preset && preset->contains("kv_heads")
                                 ? std::optional<long>(preset->at("kv_heads").get<long>())
                                 : std::optional<long>(m.attention_heads);
    m.kv_heads = static_cast<int>(r.key_int("kv_heads", fb));
  }
  {
    std::optional<long> fb = preset ? std::optional<long>(preset->at("ffn_hidden_size").get<long>())
                                    : std::optional<long>(4L * m.hidden_size);
    m.ffn_hidden_size = static_cast<int>(r.key_int("ffn_hidden_size", fb));
  }
  m.vocab_size = pick_int("vocab_size");
  m.seq_length = pick_int("seq_length");
  std::optional<std::string> act;
  if (preset)
    act = preset->at("activation").get<std::string>();
  {
    const std::string a = r.key_choice("activation", act);
    m.activation = a == "gelu" ? Activation::gelu : a == "swiglu" ? Activation::swiglu : Activation::squared_relu;
  }
  {
    std::optional<double> fb = preset && preset->contains("dropout")
                                   ? std::optional<double>(preset->at("dropout").get<double>())
                                   : std::optional<double>(m.activation == Activation::gelu ? 0.1 : 0.0);
    m.dropout = r.key_number("dropout", fb);
  }
  {
    const json* preset_moe = preset && preset->contains("moe") ? &preset->at("moe") : nullptr;
    if (r.has("moe"))
      m.moe = parse_moe(r.child("moe"), preset_moe, m);
    else if (preset_moe)
      m.moe = parse_moe(r.nested(*preset_moe, "moe"), nullptr, m);
  }
  parse_model_features(r, preset, m);
  r.finish();
  if (m.hidden_size % m.attention_heads != 0)
    throw ConfigError(r.pointer_of("attention_heads"),
                      std::to_string(m.attention_heads) + " does not divide hidden_size " +
                          std::to_string(m.hidden_size) + "; choose heads so that hidden_size / heads is an integer");
  if (m.attention_heads % m.kv_heads != 0)
    throw ConfigError(r.pointer_of("kv_heads"), std::to_string(m.kv_heads) + " does not divide attention_heads " +
                                                    std::to_string(m.attention_heads) + "; use a divisor of it");
  return m;
}

Training parse_training(JsonReader r)
{
  Training t;
  t.global_batch_size = r.key_int("global_batch_size");
  t.micro_batch_size = static_cast<int>(r.key_int("micro_batch_size"));
  t.tokens = r.key_quantity("tokens", r.has("phases") ? std::optional<double>(0) : std::nullopt);
  std::string p = r.key_choice("precision");
  t.precision = p == "bf16" ? Precision::bf16 : p == "fp16" ? Precision::fp16 : Precision::fp8;
  std::string rc = r.key_choice("recompute");
  t.recompute = rc == "none" ? Recompute::none : rc == "selective" ? Recompute::selective : Recompute::full;
  t.attention = r.key_choice("attention") == "flash" ? Attention::flash : Attention::standard;
  t.grad_reduce_bytes = r.key_choice("grad_reduce_precision") == "fp32" ? 4 : 2;
  t.grad_accumulation = r.key_choice("grad_accumulation");
  t.fp8_params = r.key_bool("fp8_params");
  if (r.has("framework"))
    t.framework = r.key_string("framework"); // its defaults are filled in (apply_framework)
  if (t.fp8_params && t.precision != Precision::fp8)
    throw ConfigError(r.pointer_of("fp8_params"),
                      "true needs precision \"fp8\"; set /training/precision to \"fp8\" or fp8_params to false");
  parse_training_features(r, t);
  r.finish({"phases"}); // training.phases: parse_phases (Phases.cpp)
  return t;
}

/// /parallelism/collectives: an algorithm name from the collective registry per use.
void parse_collective_choices(JsonReader r, std::map<std::string, std::string>& out)
{
  collective::register_builtins();
  const auto names = collective::Registry::instance().names();
  for (const char* use : {"dp", "tp"})
    if (r.has(use))
      out[use] = r.get_enum(use, names);
  r.finish();
  std::string reductions;
  for (const auto& n : names)
    if (collective::Registry::instance().create(n)->supports(collective::CollectiveKind::all_reduce))
      reductions += (reductions.empty() ? "" : ", ") + n;
  if (!collective::Registry::instance().create(out["dp"])->supports(collective::CollectiveKind::all_reduce))
    throw ConfigError(r.pointer_of("dp"),
                      "\"" + out["dp"] +
                          "\" is an all-to-all algorithm; the data-parallel collectives are reductions: use one of " +
                          reductions);
  if (out["tp"] != "ring")
    throw ConfigError(r.pointer_of("tp"),
                      "\"" + out["tp"] +
                          "\": tensor-parallel collectives are simulated as ring only so far; use \"ring\"");
}

/// The data-parallel groups' layout on nodes must suit the chosen algorithm: in-network reduction needs
/// the fabric to declare it; hierarchical needs as many members on every node.
void check_collective_choices(const Scenario& s)
{
  const std::string& dp = s.parallelism.collectives.at("dp");
  if ((dp != "in_network" && dp != "hierarchical") || s.grad_replicas() < 2)
    return;
  const std::string ptr = "/parallelism/collectives/dp";
  const auto& p = s.parallelism;
  Placement placement(p.tp, s.grad_replicas(), p.pp);
  for (int stage = 0; stage < p.pp; ++stage) {
    std::map<long, int> per_node; // node -> members of the stage's first data-parallel group
    for (int d = 0; d < s.grad_replicas(); ++d)
      ++per_node[placement.accelerator({0, d, stage}) / s.cluster.accelerators_per_node];
    int lo = s.grad_replicas(), hi = 0;
    for (const auto& [node, n] : per_node) {
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    if (lo != hi)
      throw ConfigError(
          ptr, "\"" + dp + "\" needs the same number of data-parallel group members on every node, but stage " +
                   std::to_string(stage) + " has " + std::to_string(lo) + " on one node and " + std::to_string(hi) +
                   " on another; choose tp dividing accelerators_per_node or another algorithm");
    if (dp != "in_network")
      continue;
    if (per_node.size() > 1 && !s.cluster.fabric.in_network_reduction)
      throw ConfigError(ptr, "\"in_network\" reduces data-parallel groups that span " +
                                 std::to_string(per_node.size()) +
                                 " nodes in the fabric, but the fabric does not declare it; set "
                                 "/cluster/fabric/in_network_reduction to true (SHARP) or choose another algorithm");
    if (hi > 1 && !s.cluster.scale_up.nvls)
      throw ConfigError(
          ptr, "\"in_network\" reduces data-parallel group members of one node in the scale-up switch, but it does not "
               "declare it; set /cluster/scale_up/nvls to true (NVLink SHARP) or choose another algorithm");
  }
}

/// Context parallelism (ring attention, Megatron/Transformer Engine): each rank holds seq/cp tokens in
/// 2*cp causal load-balancing chunks, which needs fused attention.
void check_context_parallel(const Scenario& s)
{
  const auto& p = s.parallelism;
  if (p.cp == 1)
    return;
  if (s.model.seq_length % (2 * p.cp) != 0)
    throw ConfigError("/parallelism/cp", std::to_string(p.cp) + " needs seq_length (" +
                                             std::to_string(s.model.seq_length) +
                                             ") divisible by 2*cp (causal load balancing splits the sequence into 2*cp "
                                             "chunks); choose cp dividing seq_length/2");
  if (s.training.attention != Attention::flash)
    throw ConfigError("/parallelism/cp", std::to_string(p.cp) +
                                             " needs fused attention (ring attention runs inside the fused kernel); "
                                             "set /training/attention to \"flash\" or cp to 1");
}

Parallelism parse_parallelism(JsonReader r)
{
  Parallelism p;
  p.tp = static_cast<int>(r.key_int("tp"));
  p.pp = static_cast<int>(r.key_int("pp"));
  p.dp = static_cast<int>(r.key_int("dp"));
  p.vpp = static_cast<int>(r.key_int("vpp"));
  p.ep = static_cast<int>(r.key_int("ep"));
  p.first_stage_layers = static_cast<int>(r.key_int("first_stage_layers"));
  p.last_stage_layers = static_cast<int>(r.key_int("last_stage_layers"));
  p.cp = static_cast<int>(r.key_int("cp"));
  p.cp_comm_type = r.key_choice("cp_comm_type");
  p.sequence_parallel = r.key_bool("sequence_parallel");
  p.zero_stage = static_cast<int>(r.key_int("zero_stage"));
  p.overlap_grad_reduce = r.key_bool("overlap_grad_reduce");
  p.overlap_param_gather = r.key_bool("overlap_param_gather");
  p.grad_bucket_bytes = r.key_quantity("grad_bucket_size");
  if (r.has("collectives"))
    parse_collective_choices(r.child("collectives"), p.collectives);
  // ZeRO-3 / FSDP (docs/scenario-format.md): fsdp is the full-shard spelling of zero_stage 3.
  const bool stage_given = r.has("zero_stage"), prefetch_given = r.has("zero_prefetch");
  p.fsdp = r.key_bool("fsdp");
  p.zero_prefetch = static_cast<int>(r.key_int("zero_prefetch"));
  p.tp_comm_overlap = r.key_bool("tp_comm_overlap");
  p.overlap_p2p_comm = r.key_bool("overlap_p2p_comm");
  p.tp_async_allreduce = r.key_bool("tp_async_allreduce");
  parse_pipeline_keys(r, p); // schedule, layer_split (LayerSplit.cpp)
  parse_sharding(r, p);      // zero, reshard_after_forward, fsdp_shard_group (Sharding.cpp)
  r.finish();
  if (p.fsdp && stage_given && p.zero_stage != 3)
    throw ConfigError(r.pointer_of("fsdp"), "true (full-shard, the ZeRO-3 schedule) contradicts zero_stage " +
                                                std::to_string(p.zero_stage) +
                                                "; drop zero_stage, set it to 3, or set fsdp to false");
  if (p.fsdp)
    p.zero_stage = 3;
  if (p.overlap_param_gather && p.zero_stage < 1) // after fsdp, which is zero_stage 3
    throw ConfigError(r.pointer_of("overlap_param_gather"),
                      "true needs the distributed optimizer; set zero_stage to 1 or overlap_param_gather to false");
  if (prefetch_given && p.zero_stage != 3)
    throw ConfigError(r.pointer_of("zero_prefetch"),
                      "applies to the parameter all-gathers of zero_stage 3 / fsdp, but zero_stage is " +
                          std::to_string(p.zero_stage) + "; remove it or set zero_stage to 3");
  check_sharding(r, p);
  return p;
}

void check_consistency(Scenario& s)
{
  const auto& p = s.parallelism;
  const auto& m = s.model;
  long total = s.cluster.total_accelerators();
  const double ranks = static_cast<double>(p.tp) * p.pp * p.dp * p.cp; // no overflow for any accepted values
  if (ranks != static_cast<double>(total)) {
    if (p.cp == 1)
      throw ConfigError(
          "/parallelism",
          "tp*pp*dp = " + std::to_string(p.tp) + "*" + std::to_string(p.pp) + "*" + std::to_string(p.dp) + " = " +
              (ranks < 9e18 ? std::to_string(static_cast<long long>(ranks)) : std::string("more than 9e18")) +
              " but the cluster has " + std::to_string(total) +
              " accelerators; make tp*pp*dp equal nodes*accelerators_per_node");
    throw ConfigError("/parallelism", "tp*cp*pp*dp = " + std::to_string(p.tp) + "*" + std::to_string(p.cp) + "*" +
                                          std::to_string(p.pp) + "*" + std::to_string(p.dp) + " = " +
                                          (ranks < 9e18 ? std::to_string(static_cast<long long>(ranks))
                                                        : std::string("more than 9e18")) +
                                          " but the cluster has " + std::to_string(total) +
                                          " accelerators; make tp*cp*pp*dp equal nodes*accelerators_per_node");
  }
  check_context_parallel(s);
  check_model_features(s);
  if (m.attention_heads % p.tp != 0)
    throw ConfigError("/parallelism/tp", std::to_string(p.tp) + " does not divide attention_heads " +
                                             std::to_string(m.attention_heads) + "; use a divisor of the head count");
  if (m.kv_heads % p.tp != 0 && p.tp % m.kv_heads != 0)
    throw ConfigError("/parallelism/tp",
                      std::to_string(p.tp) + " and kv_heads " + std::to_string(m.kv_heads) +
                          " do not divide one another; choose tp dividing kv_heads or a multiple of it");
  if (m.ffn_hidden_size % p.tp != 0)
    throw ConfigError("/parallelism/tp", std::to_string(p.tp) + " does not divide ffn_hidden_size " +
                                             std::to_string(m.ffn_hidden_size) + "; use a divisor of it");
  // Interleaving places a rank's model chunks between the other stages' chunks: with one stage there are no
  // others, and the chunks would hand activations to themselves (issue 19).
  if (p.vpp > 1 && p.pp < 2)
    throw ConfigError("/parallelism/vpp", std::to_string(p.vpp) +
                                              " (the interleaved pipeline schedule) needs pp > 1, but pp is " +
                                              std::to_string(p.pp) + "; set vpp to 1 or raise pp");
  resolve_pipeline(s); // the schedule and the layers of every virtual stage (LayerSplit.cpp)
  if (p.sequence_parallel && p.tp == 1)
    throw ConfigError("/parallelism/sequence_parallel", "true needs tp > 1; set it to false or raise tp");
  if (p.ep > 1 && !m.moe.enabled())
    throw ConfigError("/parallelism/ep",
                      std::to_string(p.ep) + " needs a mixture-of-experts model; set /model/moe or ep to 1");
  if (p.ep > 1 && p.dp % p.ep != 0)
    throw ConfigError("/parallelism/ep",
                      std::to_string(p.ep) + " does not divide dp " + std::to_string(p.dp) +
                          "; expert-parallel groups are made of data-parallel ranks: use a divisor of dp");
  if (p.ep > 1 && p.cp > 1)
    throw ConfigError("/parallelism/ep", std::to_string(p.ep) + " with context parallelism (cp " +
                                             std::to_string(p.cp) + ") is not modelled; set cp to 1 or ep to 1");
  if (p.ep > 1 && p.zero_stage == 3)
    throw ConfigError("/parallelism/zero_stage", "3 (FSDP) with expert parallelism (ep " + std::to_string(p.ep) +
                                                     ") is not modelled; use zero_stage 1 or 2 with ep, or ep 1");
  if (m.moe.enabled() && m.moe.experts % p.ep != 0)
    throw ConfigError("/parallelism/ep", std::to_string(p.ep) + " does not divide experts " +
                                             std::to_string(m.moe.experts) +
                                             "; every expert-parallel rank must hold the same number of experts");
  if (m.moe.enabled() && m.moe.expert_ffn_hidden_size % p.tp != 0)
    throw ConfigError("/parallelism/tp", std::to_string(p.tp) + " does not divide expert_ffn_hidden_size " +
                                             std::to_string(m.moe.expert_ffn_hidden_size) + "; use a divisor of it");
  long per_step = static_cast<long>(p.dp) * s.training.micro_batch_size;
  if (s.training.global_batch_size % per_step != 0)
    throw ConfigError("/training/global_batch_size", std::to_string(s.training.global_batch_size) +
                                                         " is not a multiple of dp*micro_batch_size = " +
                                                         std::to_string(per_step) + "; choose a multiple of it");
  long mb = s.micro_batches_per_replica();
  if (p.vpp > 1 && p.schedule == "interleaved" && mb % p.pp != 0)
    throw ConfigError("/parallelism/vpp", "the interleaved schedule (vpp > 1) needs micro-batches per replica (" +
                                              std::to_string(mb) + ") to be a multiple of pp (" + std::to_string(p.pp) +
                                              "); change global_batch_size or set vpp to 1");
  if (mb > 1'000'000)
    throw ConfigError("/training/global_batch_size",
                      std::to_string(mb) + " micro-batches per replica is beyond what one step simulates (at most "
                                           "1000000); raise micro_batch_size or dp");
  if (s.cluster.accelerator.peak(s.training.precision) <= 0)
    throw ConfigError("/training/precision", std::string("\"") + to_string(s.training.precision) +
                                                 "\" is not supported by " + s.cluster.accelerator.id +
                                                 "; use one of its precisions");
  for (const auto& pool : s.cluster.pools)
    if (pool.accelerator.peak(s.training.precision) <= 0)
      throw ConfigError("/training/precision", std::string("\"") + to_string(s.training.precision) +
                                                   "\" is not supported by " + pool.accelerator.id + " of pool \"" +
                                                   pool.name + "\"; use a precision every pool supports");
  check_collective_choices(s);
  if (p.tp_comm_overlap && (p.tp == 1 || !p.sequence_parallel))
    throw ConfigError(
        "/parallelism/tp_comm_overlap",
        "true overlaps the all-gathers and reduce-scatters of sequence "
        "parallelism with the GEMMs, so it needs tp > 1 and sequence_parallel true; set them or set it to false");
  if (p.overlap_p2p_comm && p.schedule != "interleaved")
    throw ConfigError("/parallelism/overlap_p2p_comm",
                      "true posts each pipeline receive one pass ahead as Megatron's interleaved schedule does, so "
                      "it needs vpp > 1 and schedule interleaved; set them or set it to false");
  check_sharding(s);
}

std::string watts(double w)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", w);
  return buf;
}

} // namespace

Scenario parse_scenario(const json& document, const Catalog& cat)
{
  return parse_scenario(document, cat, std::string());
}

Scenario parse_scenario(const json& document, const Catalog& cat, const std::string& base_dir)
{
  const json resolved = apply_framework(document, cat); // /training/framework's defaults (Frameworks.cpp)
  JsonReader r = scenario_reader(resolved, "");
  Scenario s;
  s.schema_version = static_cast<int>(r.key_int("schema_version"));
  s.name = r.key_string("name");
  s.cluster = parse_cluster(r.child("cluster"), cat);
  s.model = parse_model(r.child("model"), cat, base_dir);
  s.training = parse_training(r.child("training"));
  s.parallelism = parse_parallelism(r.child("parallelism"));
  if (!r.has("site")) {
    s.site.grid = parse_grid(lookup(cat.grids(), "cn-national-2023", "/site/grid", "grid", cat.grid_ids()),
                             "/catalog/grids/cn-national-2023", "cn-national-2023");
  } else {
    // A site preset (platforms/sites.json) gives the keys the scenario does not: the scenario's win.
    (void)r.child("site"); // an object, or the error says so
    const json given = r.raw("site");
    json merged = given;
    if (given.contains("preset")) {
      JsonReader pr = r.nested(given, "site");
      const std::string id = pr.key_string("preset");
      const json& entry = lookup(cat.sites(), id, "/site/preset", "site preset", cat.site_ids());
      merged = json::object();
      for (const auto& [k, v] : entry.items())
        if (k != "name" && k != "source" && k != "note")
          merged[k] = v;
      for (const auto& [k, v] : given.items())
        merged[k] = v;
    }
    JsonReader site = r.nested(merged, "site");
    if (site.has("preset"))
      s.site.preset = site.key_string("preset");
    s.site.pue = site.key_number("pue");
    if (site.has("pue_target"))
      s.site.pue_target = site.key_number("pue_target");
    std::string ptr = site.pointer_of("grid");
    const json& g = site.has("grid") ? site.raw("grid") : json("cn-national-2023");
    if (g.is_string()) {
      std::string id = g.get<std::string>();
      s.site.grid = parse_grid(lookup(cat.grids(), id, ptr, "grid", cat.grid_ids()), "/catalog/grids/" + id, id);
    } else {
      s.site.grid = parse_grid(g, ptr, "custom", &site);
    }
    parse_site_energy(site, s.site, base_dir);
    site.finish();
  }
  resolve_coal(s.site, cat);
  if (r.has("simulation")) {
    auto sim = r.child("simulation");
    if (sim.has("steps") && sim.raw("steps").is_string()) {
      if (sim.raw("steps").get<std::string>() != "auto")
        throw ConfigError("/simulation/steps",
                          "must be a whole number of steps (1-1000) or \"auto\", got " + brief(sim.raw("steps")));
      s.simulation.steps_auto = true;
      s.simulation.steps = static_cast<int>(sim.key_int("max_steps"));
    } else {
      s.simulation.steps = static_cast<int>(sim.get_int("steps", 1, 1000, 1));
    }
    s.simulation.fidelity = sim.key_string("fidelity");
    if (s.simulation.fidelity != "auto" && s.simulation.fidelity != "full" && s.simulation.fidelity != "reduced")
      throw ConfigError("/simulation/fidelity",
                        "unknown fidelity \"" + s.simulation.fidelity + "\"; valid: auto, full, reduced");
    s.simulation.seed = static_cast<std::uint64_t>(sim.key_int("seed"));
    s.simulation.reuse = sim.key_bool("reuse");
    if (sim.has("extrapolate")) { // "auto" (the default), true or false
      const auto& x = sim.raw("extrapolate");
      if (x.is_boolean())
        s.simulation.extrapolate = x.get<bool>() ? "always" : "never";
      else if (!x.is_string() || x.get<std::string>() != "auto")
        throw ConfigError("/simulation/extrapolate", "must be \"auto\", true or false, got " + brief(x));
    }
    if (sim.has("max_memory"))
      s.simulation.max_memory_bytes = sim.key_quantity("max_memory");
    if (sim.has("max_time"))
      s.simulation.max_time_s = sim.key_quantity("max_time");
    s.simulation.variability = sim.key_bool("variability"); // at-scale mechanisms, docs/at-scale.md
    s.simulation.gemm_ceiling = sim.key_bool("gemm_ceiling");
    s.simulation.host_overhead = sim.key_bool("host_overhead");
    s.simulation.collective_efficiency = sim.key_bool("collective_efficiency");
    s.simulation.comm_compute_contention = sim.key_bool("comm_compute_contention");
    if (sim.has("stragglers")) {
      auto st = sim.child("stragglers");
      s.simulation.stragglers.fraction = st.key_number("fraction");
      s.simulation.stragglers.slowdown = st.key_number("slowdown");
      st.finish();
    }
    sim.finish();
  }
  if (r.has("reference")) {
    auto ref = r.child("reference");
    s.reference = Reference{ref.key_number("step_time_s"), ref.key_string("source")};
    ref.finish();
  }
  if (r.has("power")) {
    s.power = parse_power(r.child("power"));
    if (s.power.cap_w && *s.power.cap_w <= s.cluster.accelerator.idle_power_w)
      throw ConfigError("/power/cap", watts(*s.power.cap_w) + " W is not above the accelerator's idle power (" +
                                          watts(s.cluster.accelerator.idle_power_w) +
                                          " W); raise the cap or remove it");
  }
  s.failures = cat.failure_defaults(); // failures on by default (platforms/failures.json)
  if (r.has("failures"))
    s.failures = parse_failures(r.child("failures"), cat.failure_defaults());
  r.finish();
  check_consistency(s);
  if (document.contains("training") && document["training"].is_object() && document["training"].contains("phases"))
    parse_phases(document, cat, base_dir, s); // Phases.cpp: one scenario per phase
  return s;
}

double parse_ratio(const json& value, const std::string& pointer)
{
  return ratio_of(value, pointer);
}

Cluster parse_cluster_object(const json& object, const std::string& pointer, const Catalog& cat)
{
  return parse_cluster(JsonReader(object, pointer, &scenario_keys(), "/cluster"), cat);
}

Scenario parse_scenario_text(const std::string& text, const std::string& origin, const Catalog& cat)
{
  // The one strict loader (JsonReader.hpp): syntax, duplicate keys, 1e400 and nesting, with JSON pointers.
  const json doc = parse_json_strict(text, origin);
  // Relative file names in the scenario (site.intensity_profile) resolve against the file's folder.
  return parse_scenario(doc, cat, std::filesystem::path(origin).parent_path().string());
}

Scenario load_scenario_file(const std::string& path, const Catalog& cat)
{
  return parse_scenario_text(core::read_file(path), path, cat);
}

Scenario default_scenario(const Catalog& cat)
{
  return parse_scenario(json::parse(default_scenario_text()), cat);
}

} // namespace trainsim::scenario
