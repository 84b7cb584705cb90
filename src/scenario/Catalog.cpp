#include "trainsim/scenario/Catalog.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/EnergyOptions.hpp"
#include "trainsim/scenario/JsonReader.hpp"

namespace trainsim::scenario {

using core::Dimension;
using nlohmann::json;

namespace {

json load_json(const std::string& path)
{
  return parse_json_strict(core::read_file(path), path, "fix the catalogue file"); // JsonReader.hpp
}

std::vector<std::string> keys_of(const json& object)
{
  std::vector<std::string> out;
  for (const auto& [k, v] : object.items())
    out.push_back(k);
  return out;
}

Calibration parse_calibration(const json& j)
{
  JsonReader r(j, "");
  Calibration c;
  r.get_int("schema_version", 1, 1);
  r.get_string("source", std::string());
  r.raw("notes");
  auto compute = r.child("compute");
  c.gemm_efficiency = compute.get_number("gemm_efficiency", 0.01, 1);
  c.gemm_mamf_fraction = compute.get_number("gemm_mamf_fraction", 0.01, 1, 0.0);
  c.fp8_gemm_efficiency = compute.get_number("fp8_gemm_efficiency", 0.01, 1);
  c.attention_efficiency = compute.get_number("attention_efficiency", 0.01, 1);
  c.batched_gemm_efficiency = compute.get_number("batched_gemm_efficiency", 0.01, 1);
  c.memory_efficiency = compute.get_number("memory_efficiency", 0.01, 1);
  c.kernel_overhead_s = compute.get_nonnegative_quantity("kernel_overhead", Dimension::time, 1);
  compute.finish();
  auto comm = r.child("communication");
  c.scale_up_bus_efficiency = comm.get_number("scale_up_bus_efficiency", 0.01, 1);
  c.scale_out_bus_efficiency = comm.get_number("scale_out_bus_efficiency", 0.01, 1);
  c.collective_step_latency_s = comm.get_nonnegative_quantity("collective_step_latency", Dimension::time, 1);
  c.p2p_latency_s = comm.get_nonnegative_quantity("p2p_latency", Dimension::time, 1);
  c.tp_overlap_gemm_slowdown = comm.get_number("tp_overlap_gemm_slowdown", 0, 1, c.tp_overlap_gemm_slowdown);
  c.ep_overlap_comm_sm_share = comm.get_number("ep_overlap_comm_sm_share", 0, 0.9, c.ep_overlap_comm_sm_share);
  comm.finish();
  auto mem = r.child("memory");
  c.memory_usable_fraction = mem.get_number("usable_fraction", 0.1, 1);
  c.workspace_bytes = mem.get_nonnegative_quantity("workspace", Dimension::bytes, 1e12);
  mem.finish();
  if (r.has("at_scale")) {
    auto a = r.child("at_scale");
    c.compute_jitter_mean = a.get_number("compute_jitter_mean", 0, 0.5);
    c.host_pass_overhead_s = a.get_nonnegative_quantity("host_pass_overhead", Dimension::time, 1);
    c.host_step_overhead_s = a.get_nonnegative_quantity("host_step_overhead", Dimension::time, 10);
    c.step_small_allreduces = a.get_number("step_small_allreduces", 0, 100);
    a.finish({"sources"});
  }
  if (r.has("collective_efficiency")) {
    auto e = r.child("collective_efficiency");
    auto protocols = e.child("protocols");
    for (const char* name : {"LL", "LL128", "Simple"}) { // NCCL's protocols, in its order
      auto p = protocols.child(name);
      collective::Protocol proto;
      proto.name = name;
      proto.base_latency = p.get_nonnegative_quantity("base_latency", Dimension::time, 1e-3);
      auto lat = p.child("step_latency");
      proto.step_latency[collective::scale_up] = lat.get_nonnegative_quantity("scale_up", Dimension::time, 1e-3);
      proto.step_latency[collective::scale_out] = lat.get_nonnegative_quantity("scale_out", Dimension::time, 1e-3);
      lat.finish();
      auto bw = p.child("bandwidth_factor");
      proto.bandwidth_factor[collective::scale_up] = bw.get_number("scale_up", 0, 1);
      proto.bandwidth_factor[collective::scale_out] = bw.get_number("scale_out", 0, 1);
      bw.finish();
      proto.all_reduce_latency_factor = p.get_number("all_reduce_latency_factor", 1, 10, 1.0);
      p.finish();
      c.protocols.push_back(proto);
    }
    protocols.finish();
    e.finish({"sources"});
  }
  c.network_model = r.raw("network_model");
  r.finish();
  return c;
}

} // namespace

std::string Catalog::default_dir()
{
  if (const char* env = std::getenv("TRAINSIM_PLATFORMS"))
    return env;
  std::string src = std::string(TRAINSIM_SOURCE_DIR) + "/platforms";
  if (std::filesystem::is_directory(src))
    return src;
  return "platforms";
}

static std::vector<GenerationMix> parse_generation_mix(const json& object, const std::string& pointer)
{
  JsonReader r(object, pointer);
  std::vector<GenerationMix> out;
  for (const auto& [key, value] : object.items()) {
    if (key == "note")
      continue;
    GenerationMix m;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), m.year);
    if (ec != std::errc() || end != key.data() + key.size() || m.year < 1900 || m.year > 2200)
      throw core::ConfigError(r.pointer_of(key), "not a year; give rows keyed by year, such as \"2024\"");
    auto row = r.child(key);
    m.coal_share = row.get_number("coal_share", 0, 1);
    m.fossil_share = row.get_number("fossil_share", 0, 1);
    if (m.coal_share > m.fossil_share)
      throw core::ConfigError(row.pointer_of("coal_share"), "exceeds fossil_share; coal is part of fossil generation");
    row.finish({"source", "note"});
    out.push_back(m);
  }
  r.finish({"note"});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.year < b.year; });
  return out;
}

const GenerationMix* Catalog::generation_mix_for(int year) const
{
  const GenerationMix* best = nullptr;
  for (const auto& m : generation_mix_)
    if (!best || std::abs(m.year - year) <= std::abs(best->year - year))
      best = &m;
  return best;
}

Catalog Catalog::load(const std::string& dir)
{
  Catalog c;
  c.accelerators_ = load_json(dir + "/accelerators.json").at("accelerators");
  const json grids_file = load_json(dir + "/grids.json");
  c.grids_ = grids_file.at("grids");
  if (grids_file.contains("china_generation_mix"))
    c.generation_mix_ = parse_generation_mix(grids_file.at("china_generation_mix"), "/catalog/china_generation_mix");
  c.models_ = load_json(dir + "/models.json").at("models");
  c.calibration_ = parse_calibration(load_json(dir + "/calibration.json"));
  if (std::filesystem::exists(dir + "/fabrics.json"))
    c.fabrics_ = load_json(dir + "/fabrics.json").at("fabrics");
  c.failure_defaults_ = parse_failure_defaults(load_json(dir + "/failures.json"), "/catalog/failures");
  if (std::filesystem::exists(dir + "/sites.json"))
    c.sites_ = load_json(dir + "/sites.json").at("sites");
  if (std::filesystem::exists(dir + "/frameworks.json"))
    c.frameworks_ = load_json(dir + "/frameworks.json").at("frameworks");
  return c;
}

const Catalog& Catalog::instance()
{
  static const Catalog catalog = load(default_dir());
  return catalog;
}

std::vector<std::string> Catalog::accelerator_ids() const
{
  return keys_of(accelerators_);
}
std::vector<std::string> Catalog::grid_ids() const
{
  return keys_of(grids_);
}
std::vector<std::string> Catalog::model_ids() const
{
  return keys_of(models_);
}
std::vector<std::string> Catalog::fabric_ids() const
{
  return keys_of(fabrics_);
}
std::vector<std::string> Catalog::site_ids() const
{
  return keys_of(sites_);
}

Accelerator parse_accelerator(const json& object, const std::string& pointer, const std::string& id,
                              const Accelerator* base, const JsonReader* parent)
{
  JsonReader r = parent ? parent->nested(object, "accelerator") : JsonReader(object, pointer);
  Accelerator a = base ? *base : Accelerator{};
  a.id = id;
  const bool req = base == nullptr; // an inline object based on a preset may give any subset
  auto opt = [&](double current) { return req ? std::nullopt : std::optional<double>(current); };
  a.name = r.get_string("name", req ? std::optional<std::string>(id) : a.name);
  r.get_string("vendor", std::string());
  if (r.has("peak_flops") || req) {
    auto pf = r.child("peak_flops");
    if (req)
      a.peak_flops.clear(); // a full object replaces the table; overrides of a preset merge into it
    for (const char* p : {"bf16", "fp16", "fp8", "fp32"}) {
      if (pf.has(p) && pf.raw(p).is_null()) {
        a.peak_flops.erase(p); // null: the device has no such mode
        continue;
      }
      if (pf.has(p))
        a.peak_flops[p] = pf.get_quantity(p, Dimension::flop_rate, 0, 1e18);
    }
    pf.finish();
    if (a.peak_flops.empty())
      throw core::ConfigError(r.pointer_of("peak_flops"), "no precision given; give at least one of bf16, fp16, fp8");
  }
  if (r.has("memory") || req) {
    auto m = r.child("memory");
    a.memory_bytes = m.get_quantity("capacity", Dimension::bytes, 0, 1e15, opt(a.memory_bytes));
    a.memory_bandwidth = m.get_quantity("bandwidth", Dimension::bandwidth, 0, 1e15, opt(a.memory_bandwidth));
    m.get_string("type", std::string());
    m.finish();
  }
  if (r.has("scale_up") || req) {
    auto s = r.child("scale_up");
    a.scale_up_type = s.get_enum("type", {"nvswitch", "hccs", "pcie", "mtlink", "noc"},
                                 req ? std::nullopt : std::optional<std::string>(a.scale_up_type));
    a.scale_up_bandwidth = s.get_quantity("bandwidth", Dimension::bandwidth, 0, 1e15, opt(a.scale_up_bandwidth));
    a.scale_up_latency = s.get_nonnegative_quantity("latency", Dimension::time, 1, opt(a.scale_up_latency));
    s.finish();
  }
  if (r.has("node") || req) {
    auto n = r.child("node");
    a.accelerators_per_node = static_cast<int>(
        n.get_int("accelerators_per_node", 1, 1024, req ? std::nullopt : std::optional<long>(a.accelerators_per_node)));
    a.host_power_w = n.get_nonnegative_quantity("host_power", Dimension::power, 1e6, opt(a.host_power_w));
    a.nic_bandwidth = n.get_quantity("nic_bandwidth", Dimension::bandwidth, 0, 1e15, opt(a.nic_bandwidth));
    n.finish();
  }
  if (r.has("power") || req) {
    auto p = r.child("power");
    a.idle_power_w = p.get_nonnegative_quantity("idle", Dimension::power, 1e5, opt(a.idle_power_w));
    a.peak_power_w = p.get_quantity("peak", Dimension::power, 0, 1e5, opt(a.peak_power_w));
    p.finish();
    if (a.idle_power_w > a.peak_power_w)
      throw core::ConfigError(r.pointer_of("power"), "idle power exceeds peak power; idle must be at most peak");
  }
  if (r.has("compute")) {
    auto c = r.child("compute");
    a.sm_count = static_cast<int>(c.get_int("sm_count", 1, 100000, std::optional<long>(a.sm_count)));
    a.matmul_max_fraction = c.get_number("matmul_max_fraction", 0.01, 1, a.matmul_max_fraction);
    a.attention_efficiency = c.get_number("attention_efficiency", 0.01, 1, a.attention_efficiency);
    c.finish();
    if ((a.sm_count > 0) != (a.matmul_max_fraction > 0))
      throw core::ConfigError(r.pointer_of("compute"), "the GEMM ceiling needs both sm_count and matmul_max_fraction; "
                                                       "give both (or neither)");
  }
  if (r.has("sources"))
    r.raw("sources");
  r.finish({"note", "preset"});
  return a;
}

Grid parse_grid(const json& object, const std::string& pointer, const std::string& id, const JsonReader* parent)
{
  JsonReader r = parent ? parent->nested(object, "grid") : JsonReader(object, pointer);
  Grid g;
  g.id = id;
  g.name = r.get_string("name", id);
  g.co2_kg_per_kwh = r.get_number("co2_kg_per_kwh", 0, 5);
  if (r.has("coal_share") && !r.raw("coal_share").is_null())
    g.coal_share = r.get_number("coal_share", 0, 1);
  if (r.has("fossil_co2_kg_per_kwh") && !r.raw("fossil_co2_kg_per_kwh").is_null())
    g.fossil_co2_kg_per_kwh = r.get_number("fossil_co2_kg_per_kwh", 0, 5);
  if (r.has("basis")) {
    g.basis = r.get_string("basis");
    if (g.basis != "provincial" && g.basis != "regional")
      throw core::ConfigError(r.pointer_of("basis"), "unknown basis \"" + g.basis + "\"; valid: provincial, regional");
  }
  if (r.has("regional_grid"))
    g.regional_grid = r.get_string("regional_grid");
  r.finish({"region", "year", "source", "note", "coal_share", "fossil_co2_kg_per_kwh"});
  return g;
}

} // namespace trainsim::scenario
