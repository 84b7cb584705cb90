// The declared keys of /site (KeySchema.hpp): one line per key, the parser reads ranges and defaults here.
#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/Scenario.hpp"

namespace trainsim::scenario {

using nlohmann::json;
using S = const Scenario&; ///< what a dump getter reads

using core::Dimension;

namespace {

/// A custom grid object under /site/grid (catalogue keys, docs/reference/grids.md).
void grid_keys(std::vector<KeySpec>& k)
{
  const std::string g = "/site/grid";
  k.push_back(key_string(g + "/name", nullptr, "display name", "\"custom\""));
  k.push_back(key_number(g + "/co2_kg_per_kwh", 0, 5, nullptr, "average emission factor", "required"));
  k.push_back(key_number(g + "/coal_share", 0, 1, nullptr, "share of coal in generation", "none"));
  k.push_back(key_number(g + "/fossil_co2_kg_per_kwh", 0, 5, nullptr, "emission factor of fossil generation", "none"));
  k.push_back(key_string(g + "/basis", nullptr, "provincial or regional", "none"));
  k.push_back(key_string(g + "/regional_grid", nullptr, "grid id of the region", "none"));
  for (const char* n : {"region", "year", "source", "note"})
    k.push_back(key_note(g + "/" + n, "informative"));
}

void cooling_keys(std::vector<KeySpec>& k)
{
  const std::string c = "/site/cooling";
  k.push_back(key_object(c, "the cooling model (docs/energy.md)", "pue: /site/pue").shows([](S s) {
    const auto& x = s.site.cooling;
    if (!x.outdoor)
      return hidden();
    return json{{"model", "outdoor"},
                {"outdoor_temperature_c", x.temperature_c},
                {"supply_temperature_c", x.supply_temperature_c},
                {"approach_k", x.approach_k},
                {"carnot_fraction", x.carnot_fraction},
                {"fan_pump_overhead", x.fan_pump_overhead},
                {"distribution_loss", x.distribution_loss}};
  }));
  k.push_back(key_choice(c + "/model", {"pue", "outdoor"}, "outdoor", "pue: a fixed PUE; outdoor: from the climate"));
  k.push_back(key_value(c + "/outdoor_temperature", "\"12C\", or 12 monthly means (January first)", "required"));
  k.push_back(key_value(c + "/supply_temperature", "coolant supply, 5C to 45C", "the model's"));
  k.push_back(key_value(c + "/approach", "approach of the heat exchanger, 0 to 30 K", "the model's"));
  k.push_back(
      key_number(c + "/carnot_fraction", 0.05, 1.0, nullptr, "chiller efficiency over Carnot's", "the model's"));
  k.push_back(key_number(c + "/fan_pump_overhead", 0.0, 1.0, nullptr, "fans and pumps over IT power", "the model's"));
  k.push_back(key_number(c + "/distribution_loss", 0.0, 1.0, nullptr, "power distribution loss", "the model's"));
  k.push_back(key_note(c + "/source", "where the figures come from"));
  k.push_back(key_note(c + "/note", "free text"));
}

} // namespace

std::vector<KeySpec> site_keys()
{
  const std::string s = "/site";
  std::vector<KeySpec> k{
      key_object(s, "the data centre: grid, PUE, carbon and cost", "grid cn-national-2023, PUE 1"),
      key_string(s + "/preset", nullptr, "a site of platforms/sites.json whose keys the scenario's override")
          .shows([](S x) { return x.site.preset.empty() ? hidden() : json(x.site.preset); }),
      key_number(s + "/pue", 1.0, 3.0, 1.0, "power usage effectiveness").shows([](S x) { return json(x.site.pue); }),
      key_number(s + "/pue_target", 1.0, 3.0, nullptr, "regulatory PUE target to compare with", "none"),
      key_value(s + "/grid", "a grid id (`trainsim list grids`) or an object of the keys below", "cn-national-2023")
          .shows([](S x) {
            const auto& g = x.site.grid;
            json j = {{"id", g.id}, {"co2_kg_per_kwh", g.co2_kg_per_kwh}};
            if (g.coal_share)
              j["coal_share"] = *g.coal_share;
            if (!g.basis.empty())
              j["basis"] = g.basis;
            return j;
          }),
      key_number(s + "/green_share", 0.0, 1.0, 0.0, "share of the energy bought green").shows([](S x) {
        return json(x.site.carbon.green_share);
      }),
      key_number(s + "/electricity_rmb_per_kwh", 0.0, 1e6, nullptr, "electricity price", "none").shows([](S x) {
        return x.site.electricity_rmb_per_kwh ? json(*x.site.electricity_rmb_per_kwh) : hidden();
      }),
      key_number(s + "/accelerator_rmb_per_hour", 0.0, 1e9, nullptr, "rental price per accelerator-hour", "none")
          .shows(
              [](S x) { return x.site.accelerator_rmb_per_hour ? json(*x.site.accelerator_rmb_per_hour) : hidden(); }),
      key_number(s + "/residual_co2_kg_per_kwh", 0.0, 5.0, nullptr, "emission factor of the non-green share",
                 "the grid's")
          .shows([](S x) {
            return x.site.carbon.residual_kg_per_kwh ? json(*x.site.carbon.residual_kg_per_kwh) : hidden();
          }),
      key_number(s + "/coal_share", 0.0, 1.0, nullptr, "share of coal in generation", "the grid's").shows([](S x) {
        return x.site.carbon.coal_share ? json(*x.site.carbon.coal_share) : hidden();
      }),
      key_number(s + "/fossil_co2_kg_per_kwh", 0.0, 5.0, nullptr, "emission factor of fossil generation", "the grid's")
          .shows(
              [](S x) { return x.site.carbon.fossil_kg_per_kwh ? json(*x.site.carbon.fossil_kg_per_kwh) : hidden(); }),
      key_int(s + "/generation_mix_year", 1900, 2200, nullptr, "year of the national generation mix", "the latest")
          .shows([](S x) {
            return x.site.carbon.generation_mix_year ? json(*x.site.carbon.generation_mix_year) : hidden();
          }),
      key_string(s + "/start_date", nullptr, "calendar start of the run, \"2025-03-01\"", "none").shows([](S x) {
        return x.site.carbon.start_date.empty() ? hidden() : json(x.site.carbon.start_date);
      }),
      key_string(s + "/intensity_profile", nullptr, "CSV of hourly kg CO2e/kWh (relative: to the scenario)", "none")
          .shows([](S x) {
            const auto& c = x.site.carbon;
            if (c.intensity_profile.empty())
              return hidden();
            return json{{"file", c.intensity_profile}, {"hours", c.profile_kg_per_kwh.size()}};
          }),
      key_object(s + "/embodied", "embodied carbon of the accelerators", "none").shows([](S x) {
        const auto& c = x.site.carbon;
        if (!(c.embodied_kg_per_accelerator > 0))
          return hidden();
        return json{{"kg_co2e_per_accelerator", c.embodied_kg_per_accelerator}, {"lifetime_s", c.embodied_lifetime_s}};
      }),
      key_number(s + "/embodied/kg_co2e_per_accelerator", 0.0, 1e6, nullptr, "manufacturing footprint", "required"),
      key_quantity(s + "/embodied/lifetime", Dimension::time, 86400.0, 1e10, nullptr, "service life it is spread over",
                   "the model's"),
      key_note(s + "/embodied/source", "where the figures come from"),
      key_note(s + "/embodied/note", "free text"),
  };
  grid_keys(k);
  cooling_keys(k);
  return k;
}

} // namespace trainsim::scenario
