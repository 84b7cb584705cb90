#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "trainsim/cli/Commands.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Units.hpp"
#include "trainsim/metrics/Footprint.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/EnergyOptions.hpp"

namespace trainsim::cli {

namespace {

struct FootprintArgs {
  double accelerators = 0, days = 0, accelerator_hours = 0;
  std::string power, grid;
  double pue = 1.0, kg_per_kwh = -1, green_share = 0;
  std::string json_out;
};

double quantity(const std::string& text, core::Dimension dim, const char* option)
{
  try {
    return core::parse_quantity(text, dim);
  } catch (const std::exception& e) {
    throw core::UsageError(std::string(option) + ": " + e.what());
  }
}

/// Every printed figure is finite, or the command fails naming the options that made it so.
void check_finite_figures(const metrics::BookkeepingInput& in, const metrics::BookkeepingResult& r)
{
  const std::pair<const char*, double> figures[] = {{"energy_mwh", r.energy_mwh},
                                                    {"carbon_tco2e", r.carbon_tco2e},
                                                    {"carbon_market_tco2e", r.carbon_market_tco2e},
                                                    {"carbon_coal_tco2e", r.carbon_coal_tco2e}};
  if (!std::isfinite(in.power_w))
    throw core::UsageError("--power: " + std::to_string(in.power_w) + " W is out of range; give e.g. 400W");
  for (const auto& [name, v] : figures)
    if (!std::isfinite(v))
      throw core::UsageError("--accelerators/--days/--accelerator-hours/--power: " + std::string(name) +
                             " would be infinite; give values whose product is finite (e.g. --accelerator-hours 1e6)");
}

int cmd_footprint(const FootprintArgs& a)
{
  core::check_outputs({}, {{"--json", a.json_out}});
  metrics::BookkeepingInput in;
  if (a.accelerator_hours > 0 && (a.accelerators > 0 || a.days > 0))
    throw core::UsageError("--accelerator-hours: give either it or --accelerators with --days, not both");
  in.accelerator_hours = a.accelerator_hours > 0 ? a.accelerator_hours : a.accelerators * a.days * 24.0;
  if (!std::isfinite(in.accelerator_hours))
    throw core::UsageError("--accelerators/--days/--accelerator-hours: " + std::to_string(in.accelerator_hours) +
                           " accelerator-hours is out of range; give a finite count, e.g. --accelerator-hours 1e6");
  if (!(in.accelerator_hours > 0))
    throw core::UsageError("--accelerator-hours: missing; give --accelerator-hours H or --accelerators N --days D");
  in.power_w = quantity(a.power, core::Dimension::power, "--power");
  if (!(in.power_w > 0))
    throw core::UsageError("--power: must be above 0 W, e.g. 400W");
  in.pue = a.pue;
  in.green_share = a.green_share;
  std::string grid_id = a.grid;
  if (a.kg_per_kwh >= 0) {
    if (!grid_id.empty())
      throw core::UsageError("--kg-per-kwh: give either it or --grid, not both");
    in.kg_per_kwh = a.kg_per_kwh;
    grid_id = "custom";
  } else {
    if (grid_id.empty())
      grid_id = "cn-national-2023";
    const auto& cat = scenario::Catalog::instance();
    if (!cat.grids().contains(grid_id)) {
      std::string ids;
      for (const auto& id : cat.grid_ids())
        ids += (ids.empty() ? "" : ", ") + id;
      throw core::UsageError("--grid: unknown grid \"" + grid_id + "\"; valid: " + ids);
    }
    scenario::Site site;
    site.grid = scenario::parse_grid(cat.grids().at(grid_id), "/catalog/grids/" + grid_id, grid_id);
    scenario::resolve_coal(site, cat);
    in.kg_per_kwh = site.grid.co2_kg_per_kwh;
    if (site.carbon.coal_share && site.carbon.fossil_kg_per_kwh)
      in.coal_kg_per_kwh = *site.carbon.coal_share * *site.carbon.fossil_kg_per_kwh;
  }
  const auto r = metrics::bookkeeping(in);
  check_finite_figures(in, r);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "accelerator-hours %.0f x %.1f W x PUE %.3f; grid %s (%.4f kg/kWh)\n"
                "energy_mwh %.1f\ncarbon_tco2e %.1f\ncarbon_market_tco2e %.1f\ncarbon_coal_tco2e %.1f\n",
                in.accelerator_hours, in.power_w, in.pue, grid_id.c_str(), in.kg_per_kwh, r.energy_mwh, r.carbon_tco2e,
                r.carbon_market_tco2e, r.carbon_coal_tco2e);
  if (!a.json_out.empty()) {
    nlohmann::ordered_json j{{"accelerator_hours", in.accelerator_hours},
                             {"power_w", in.power_w},
                             {"pue", in.pue},
                             {"grid", grid_id},
                             {"co2_kg_per_kwh", in.kg_per_kwh},
                             {"energy_mwh", r.energy_mwh},
                             {"carbon_tco2e", r.carbon_tco2e},
                             {"carbon_market_tco2e", r.carbon_market_tco2e},
                             {"carbon_coal_tco2e", r.carbon_coal_tco2e}};
    core::write_file_atomically(a.json_out, j.dump(2) + "\n");
  }
  std::cout << buf;
  return 0;
}

} // namespace

void add_footprint_commands(CLI::App& app, CommandTable& table)
{
  auto a = std::make_shared<FootprintArgs>();
  auto* fp = app.add_subcommand("footprint", "published bookkeeping: accelerator-hours x power x PUE, x grid factor "
                                             "(Patterson et al. 2021, LLaMA Table 15 method)");
  fp->add_option("--accelerators", a->accelerators, "accelerator count (with --days)")->check(CLI::PositiveNumber);
  fp->add_option("--days", a->days, "training days (with --accelerators)")->check(CLI::PositiveNumber);
  fp->add_option("--accelerator-hours", a->accelerator_hours, "accelerator-hours in total")->check(CLI::PositiveNumber);
  fp->add_option("--power", a->power, "average power per accelerator, e.g. 400W")->required();
  fp->add_option("--pue", a->pue, "power usage effectiveness")->check(CLI::Range(1.0, 3.0))->capture_default_str();
  fp->add_option("--grid", a->grid, "grid id from platforms/grids.json (default cn-national-2023)");
  fp->add_option("--kg-per-kwh", a->kg_per_kwh, "grid factor in kg CO2e/kWh instead of --grid")
      ->check(CLI::Range(0.0, 5.0));
  fp->add_option("--green-share", a->green_share, "contracted green power share (market-based)")
      ->check(CLI::Range(0.0, 1.0));
  fp->add_option("--json", a->json_out, "write the result as JSON to FILE");
  table.add(fp, [a] { return cmd_footprint(*a); });
}

} // namespace trainsim::cli
