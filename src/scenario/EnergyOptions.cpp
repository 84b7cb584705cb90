#include "trainsim/scenario/EnergyOptions.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"

namespace trainsim::scenario {

using core::ConfigError;
using core::Dimension;

namespace {

constexpr double hour = 3600.0;

double mtbf(JsonReader& r, const char* key, double fallback)
{
  return r.key_quantity(key, fallback);
}

bool leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

} // namespace

PowerOptions parse_power(JsonReader r)
{
  PowerOptions p;
  if (r.has("cap") && !r.raw("cap").is_null())
    p.cap_w = r.key_quantity("cap");
  p.clock = r.key_number("clock");
  p.dvfs_exponent = r.key_number("dvfs_exponent");
  if (r.has("compute_activity") && !r.raw("compute_activity").is_null())
    p.compute_activity = r.key_number("compute_activity");
  p.memory_activity = r.key_number("memory_activity");
  p.comm_activity = r.key_number("comm_activity");
  p.bubble_activity = r.key_number("bubble_activity");
  p.nic_power_w = r.key_quantity("nic_power");
  p.switch_port_power_w = r.key_quantity("switch_port_power");
  // Storage power per unit of checkpoint bandwidth: "W per GB/s" as a plain number.
  p.storage_w_per_Bps = r.key_number("storage_w_per_GBps") * 1e-9;
  r.finish();
  return p;
}

namespace {

const char* const failure_components[] = {"accelerator", "node", "nic", "link", "switch"};

double* component_mtbf(Failures& f, const std::string& component)
{
  if (component == "accelerator")
    return &f.accelerator_mtbf_s;
  if (component == "node")
    return &f.node_mtbf_s;
  if (component == "nic")
    return &f.nic_mtbf_s;
  if (component == "link")
    return &f.link_mtbf_s;
  return &f.switch_mtbf_s;
}

/// The `checkpoint` object of the defaults file and of a scenario's `failures` block.
void parse_checkpoint(JsonReader c, Failures& f, const std::vector<std::string>& also_valid)
{
  if (c.has("interval") && c.raw("interval").is_string() &&
      (c.raw("interval") == "daly" || c.raw("interval") == "young")) {
    f.interval = c.get_string("interval");
  } else if (c.has("interval")) {
    f.interval_s = c.get_quantity("interval", Dimension::time, 1.0, 1e9);
    f.interval = "given";
  }
  f.bytes_per_parameter = c.get_number("bytes_per_parameter", 0.1, 1000, f.bytes_per_parameter);
  // At least 1 MB/s: a unit typo ("1B/s") would make one checkpoint take years and the run never finish.
  f.write_bandwidth = c.get_quantity("write_bandwidth", Dimension::bandwidth, 1e6, 1e16, f.write_bandwidth, true);
  f.read_bandwidth = c.get_quantity("read_bandwidth", Dimension::bandwidth, 1e6, 1e16, f.read_bandwidth, true);
  f.checkpoint_overhead_s = c.get_nonnegative_quantity("overhead", Dimension::time, 1e6, f.checkpoint_overhead_s);
  f.async_checkpoint = c.get_bool("async", f.async_checkpoint);
  f.snapshot_bandwidth =
      c.get_quantity("snapshot_bandwidth", Dimension::bandwidth, 1e6, 1e16, f.snapshot_bandwidth, true);
  c.finish(also_valid);
}

/// Restart, re-queue, repair and spare keys shared by the defaults file and a scenario's block.
void parse_restart_keys(JsonReader& r, Failures& f)
{
  f.restart_s = r.get_nonnegative_quantity("restart_time", Dimension::time, 1e7, f.restart_s);
  f.requeue_s = r.get_nonnegative_quantity("requeue_time", Dimension::time, 1e7, f.requeue_s);
  f.repair_s = r.get_nonnegative_quantity("repair_time", Dimension::time, 1e8, f.repair_s);
  if (r.has("hot_spare_fraction"))
    f.hot_spare_fraction = r.get_number("hot_spare_fraction", 0.0, 1.0);
}

} // namespace

Failures parse_failure_defaults(const nlohmann::json& file, const std::string& pointer)
{
  JsonReader r(file, pointer);
  Failures f;
  f.enabled = true;
  f.source = "defaults";
  const auto& list = r.raw("causes");
  if (!list.is_array() || list.empty())
    throw ConfigError(pointer + "/causes", "must be a non-empty list of causes; restore platforms/failures.json");
  std::map<std::string, double> rate; // per component, per second
  std::vector<double> cause_rate;
  for (size_t i = 0; i < list.size(); ++i) {
    JsonReader c(list[i], pointer + "/causes/" + std::to_string(i));
    Failures::Cause cause;
    cause.id = c.get_string("id");
    cause.component = c.get_enum("component", {std::begin(failure_components), std::end(failure_components)});
    const double m = c.get_quantity("mtbf", Dimension::time, 60.0, 1e15);
    cause.replaces_node = c.get_bool("replaces_node");
    cause.detection_s = c.get_nonnegative_quantity("detection_time", Dimension::time, 1e6);
    c.finish({"source"});
    rate[cause.component] += 1.0 / m;
    cause_rate.push_back(1.0 / m);
    f.causes.push_back(cause);
  }
  for (size_t i = 0; i < f.causes.size(); ++i)
    f.causes[i].share = cause_rate[i] / rate[f.causes[i].component];
  for (const char* comp : failure_components) {
    if (!rate.count(comp))
      throw ConfigError(pointer + "/causes",
                        std::string("no cause for component \"") + comp + "\"; every component needs at least one");
    *component_mtbf(f, comp) = 1.0 / rate[comp];
  }
  parse_restart_keys(r, f);
  parse_checkpoint(r.child("checkpoint"), f,
                   {"bytes_source", "bandwidth_source", "overhead_source", "snapshot_source"});
  r.finish({"description", "calibration", "detection_source", "restart_source", "requeue_source", "repair_source",
            "hot_spare_source"});
  return f;
}

Failures parse_failures(JsonReader r, const Failures& defaults)
{
  Failures f = defaults;
  f.enabled = r.key_bool("enabled");
  f.source = f.enabled ? "scenario" : "disabled";
  if (r.has("mtbf")) {
    auto m = r.child("mtbf");
    for (const char* comp : failure_components)
      *component_mtbf(f, comp) = mtbf(m, comp, *component_mtbf(f, comp));
    m.finish(); // the causes keep their shares of a component's (new) rate
  }
  if (r.has("detection_time")) {
    const double d = r.key_quantity("detection_time");
    for (auto& c : f.causes)
      c.detection_s = d;
  }
  if (r.has("checkpoint"))
    parse_checkpoint(r.child("checkpoint"), f, {});
  parse_restart_keys(r, f);
  if (r.has("hot_spare_nodes")) {
    if (r.has("hot_spare_fraction"))
      throw ConfigError(r.pointer_of("hot_spare_nodes"), "given together with hot_spare_fraction; give one of them");
    f.hot_spare_nodes = static_cast<int>(r.key_int("hot_spare_nodes"));
    f.hot_spare_fraction = 0;
  }
  r.finish();
  return f;
}

int hour_of_year(const std::string& date, const std::string& pointer)
{
  int y = 0, mo = 0, d = 0, h = 0;
  char tail = 0;
  const bool with_hour = date.size() == 13;
  int n = with_hour ? std::sscanf(date.c_str(), "%4d-%2d-%2dT%2d%c", &y, &mo, &d, &h, &tail)
                    : std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail);
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool shape_ok =
      (date.size() == 10 || with_hour) && n == (with_hour ? 4 : 3) && date[4] == '-' && date[7] == '-';
  if (!shape_ok || y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 ||
      d > days[mo - 1] + (mo == 2 && leap(y) ? 1 : 0) || h < 0 || h > 23)
    throw ConfigError(pointer, "\"" + date +
                                   "\" is not a date; write \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH\" (e.g. \"2025-03-01\")");
  int doy = d - 1;
  for (int m = 0; m < mo - 1; ++m)
    doy += days[m] + (m == 1 && leap(y) ? 1 : 0);
  return doy * 24 + h;
}

std::vector<double> load_intensity_profile(const std::string& path, const std::string& pointer)
{
  std::string text;
  try {
    text = core::read_file(path);
  } catch (const core::Error& e) {
    throw ConfigError(pointer, std::string(e.what()) + "; name an existing CSV file (relative to the scenario file)");
  }
  std::vector<double> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || line[0] == '#')
      continue;
    const auto comma = line.rfind(',');
    std::string field = comma == std::string::npos ? line : line.substr(comma + 1);
    while (!field.empty() && field.front() == ' ')
      field.erase(field.begin());
    char* end = nullptr;
    const double v = std::strtod(field.c_str(), &end);
    const bool numeric = !field.empty() && end && *end == '\0';
    if (!numeric && !header_seen && out.empty()) {
      header_seen = true; // the header line
      continue;
    }
    // The file's content is never echoed (the path may name any file): only where and what is wrong.
    if (!numeric || !(v >= 0 && v <= 5))
      throw ConfigError(pointer, path + ": line " + std::to_string(lineno) + ": the last column is " +
                                     (numeric ? "out of range" : "not a number") +
                                     "; it must be kg CO2e/kWh between 0 and 5");
    out.push_back(v);
  }
  if (out.empty())
    throw ConfigError(pointer, path + ": no rows; give one row per hour with kg CO2e/kWh in the last column");
  return out;
}

void parse_site_energy(JsonReader& site, Site& out, const std::string& base_dir)
{
  auto& c = out.carbon;
  c.green_share = site.key_number("green_share");
  if (site.has("electricity_rmb_per_kwh"))
    out.electricity_rmb_per_kwh = site.key_number("electricity_rmb_per_kwh");
  if (site.has("accelerator_rmb_per_hour"))
    out.accelerator_rmb_per_hour = site.key_number("accelerator_rmb_per_hour");
  if (site.has("residual_co2_kg_per_kwh"))
    c.residual_kg_per_kwh = site.key_number("residual_co2_kg_per_kwh");
  if (site.has("coal_share"))
    c.coal_share = site.key_number("coal_share");
  if (site.has("fossil_co2_kg_per_kwh"))
    c.fossil_kg_per_kwh = site.key_number("fossil_co2_kg_per_kwh");
  if (site.has("generation_mix_year"))
    c.generation_mix_year = static_cast<int>(site.key_int("generation_mix_year"));
  if (site.has("start_date"))
    c.start_date = site.key_string("start_date");
  if (!c.start_date.empty())
    hour_of_year(c.start_date, site.pointer_of("start_date"));
  if (site.has("intensity_profile")) {
    c.intensity_profile = site.key_string("intensity_profile");
    std::filesystem::path p(c.intensity_profile);
    if (p.is_relative() && !base_dir.empty())
      p = std::filesystem::path(base_dir) / p;
    c.profile_kg_per_kwh = load_intensity_profile(p.string(), site.pointer_of("intensity_profile"));
    if (c.start_date.empty())
      throw ConfigError(site.pointer_of("start_date"),
                        "missing; an intensity_profile needs the run's calendar start, e.g. \"2025-03-01\"");
  }
  if (site.has("embodied")) {
    auto e = site.child("embodied");
    c.embodied_kg_per_accelerator = e.key_number("kg_co2e_per_accelerator");
    c.embodied_lifetime_s = e.key_quantity("lifetime", c.embodied_lifetime_s);
    e.finish();
  }
  if (site.has("cooling")) {
    auto k = site.child("cooling");
    auto& co = out.cooling;
    co.outdoor = k.key_choice("model") == "outdoor";
    if (co.outdoor) {
      const std::string tp = k.pointer_of("outdoor_temperature");
      const auto& t = k.raw("outdoor_temperature");
      auto one = [&](const nlohmann::json& v, const std::string& ptr) {
        if (!v.is_string())
          throw ConfigError(ptr, "expected a temperature such as \"12C\", got " + brief(v));
        double x = 0;
        try {
          x = core::parse_quantity(v.get<std::string>(), Dimension::temperature);
        } catch (const std::exception& ex) {
          throw ConfigError(ptr, ex.what());
        }
        if (!(x >= -60 && x <= 60))
          throw ConfigError(ptr, brief(v) + " is out of range; give -60C to 60C");
        return x;
      };
      if (t.is_array()) {
        if (t.size() != 12)
          throw ConfigError(tp, "an array of " + std::to_string(t.size()) +
                                    " temperatures; give one value or 12 monthly means (January first)");
        for (size_t i = 0; i < 12; ++i)
          co.temperature_c.push_back(one(t[i], tp + "/" + std::to_string(i)));
        if (out.carbon.start_date.empty())
          throw ConfigError(site.pointer_of("start_date"),
                            "missing; monthly outdoor temperatures need the run's calendar start, e.g. \"2025-03-01\"");
      } else {
        co.temperature_c.push_back(one(t, tp));
      }
      auto temp = [&](const char* key, double fb, double lo, double hi) {
        if (!k.has(key))
          return fb;
        double v = one(k.raw(key), k.pointer_of(key));
        if (v < lo || v > hi)
          throw ConfigError(k.pointer_of(key),
                            "out of range; give " + std::to_string(lo) + "C to " + std::to_string(hi) + "C");
        return v;
      };
      co.supply_temperature_c = temp("supply_temperature", co.supply_temperature_c, 5, 45);
      co.approach_k = temp("approach", co.approach_k, 0, 30);
      co.carnot_fraction = k.key_number("carnot_fraction", co.carnot_fraction);
      co.fan_pump_overhead = k.key_number("fan_pump_overhead", co.fan_pump_overhead);
      co.distribution_loss = k.key_number("distribution_loss", co.distribution_loss);
    }
    k.finish();
  }
}

static std::string mix_years(const Catalog& cat)
{
  std::string out;
  for (const auto& m : cat.generation_mix())
    out += (out.empty() ? "" : ", ") + std::to_string(m.year);
  return out.empty() ? "none" : out;
}

static std::string shown(double v)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void resolve_coal(Site& site, const Catalog& cat)
{
  auto& c = site.carbon;
  if (c.generation_mix_year) {
    const GenerationMix* mix = cat.generation_mix_for(*c.generation_mix_year);
    if (!mix || mix->year != *c.generation_mix_year)
      throw core::ConfigError("/site/generation_mix_year", "no generation mix for " +
                                                               std::to_string(*c.generation_mix_year) +
                                                               " in platforms/grids.json; valid: " + mix_years(cat));
  }
  const auto& g = site.grid;
  std::string basis;
  if (!c.fossil_kg_per_kwh && g.fossil_co2_kg_per_kwh) {
    c.fossil_kg_per_kwh = g.fossil_co2_kg_per_kwh;
    basis = "fossil factor of grid " + g.id;
  }
  const bool chinese = g.id.rfind("cn-", 0) == 0 && cat.grids().contains(g.id);
  if (!c.fossil_kg_per_kwh && chinese) {
    const auto& entry = cat.grids().at(g.id);
    if (entry.contains("year") && entry.at("year").is_number_integer()) {
      const std::string national = "cn-national-" + std::to_string(entry.at("year").get<int>());
      if (cat.grids().contains(national)) {
        const auto& n = cat.grids().at(national);
        if (n.contains("fossil_co2_kg_per_kwh") && n.at("fossil_co2_kg_per_kwh").is_number()) {
          c.fossil_kg_per_kwh = n.at("fossil_co2_kg_per_kwh").get<double>();
          basis = "national fossil-power factor " + national + " (MEE publishes it only nationally)";
        }
      }
    }
  } else if (c.fossil_kg_per_kwh && basis.empty()) {
    basis = "site.fossil_co2_kg_per_kwh";
  }
  if (!c.coal_share && g.coal_share) {
    c.coal_share = g.coal_share;
    basis += "; coal share of grid " + g.id;
  } else if (c.coal_share) {
    basis += "; site.coal_share";
  } else if (c.fossil_kg_per_kwh && chinese && *c.fossil_kg_per_kwh > 0) {
    // Non-fossil generation emits ~0 at the point of generation, so the fossil share of the grid is
    // about factor / fossil factor; coal's part of fossil generation comes from China's generation mix of
    // the grid's year, else the nearest year (platforms/grids.json china_generation_mix), or the year the
    // scenario names.
    const auto& entry = cat.grids().at(g.id);
    const int grid_year =
        entry.contains("year") && entry.at("year").is_number_integer() ? entry.at("year").get<int>() : 0;
    const GenerationMix* mix = cat.generation_mix_for(c.generation_mix_year.value_or(grid_year));
    if (mix && mix->fossil_share > 0) {
      c.coal_share = std::min(1.0, g.co2_kg_per_kwh / *c.fossil_kg_per_kwh) * (mix->coal_share / mix->fossil_share);
      basis += "; coal share implied: (grid factor / fossil factor) x coal/fossil generation " +
               std::to_string(mix->year) + " (" + shown(mix->coal_share) + "/" + shown(mix->fossil_share) + ")";
    }
  }
  if (!c.coal_share || !c.fossil_kg_per_kwh)
    basis = "unknown: give site.coal_share and site.fossil_co2_kg_per_kwh";
  c.coal_basis = basis;
}

} // namespace trainsim::scenario
