#include "trainsim/cluster/ClusterReport.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "../report/HtmlUtil.hpp"

namespace trainsim::cluster {

using nlohmann::ordered_json;

namespace {

std::string fixed(double v, int digits)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

/// "+12.3%" ("+0.0%" for a rounding residue below 0.05%).
std::string signed_percent(double fraction)
{
  const double pct = std::fabs(fraction) < 5e-4 ? 0.0 : 100 * fraction;
  return (pct >= 0 ? "+" : "") + fixed(pct, 1) + "%";
}

ordered_json job_json(const JobOutcome& j)
{
  return {{"name", j.name},
          {"pool", j.pool},
          {"accelerator", j.accelerator},
          {"nodes", j.nodes},
          {"accelerators", j.accelerators},
          {"priority", j.priority},
          {"configuration", j.configuration},
          {"submit_s", j.submit_s},
          {"start_s", j.start_s},
          {"end_s", j.end_s},
          {"wait_s", j.wait_s},
          {"run_s", j.run_s},
          {"step_time_s", j.step_time_s},
          {"step_time_alone_s", j.step_time_alone_s},
          {"placement", j.placement},
          {"placed_nodes", j.placed_nodes},
          {"tokens", j.tokens},
          {"tokens_per_s", j.tokens_per_s},
          {"mfu", j.mfu},
          {"energy_mwh", j.energy_mwh},
          {"carbon_tco2e", j.carbon_tco2e},
          {"carbon_coal_tco2e", j.carbon_coal_tco2e},
          {"finished_in_period", j.finished_in_period}};
}

} // namespace

ordered_json to_json(const ClusterOutcome& o)
{
  ordered_json j;
  j["schema_version"] = 1;
  j["kind"] = "cluster";
  j["name"] = o.name;
  j["description"] = o.description;
  j["scheduler"] = o.scheduler;
  j["period_s"] = o.period_s;
  j["accelerators"] = o.accelerators;
  j["configurations_simulated"] = o.configurations;
  ordered_json totals;
  totals["utilisation"] = o.utilisation;
  totals["energy_mwh"] = o.energy_mwh;
  totals["energy_jobs_mwh"] = o.energy_jobs_mwh;
  totals["carbon_tco2e"] = o.carbon_tco2e;
  totals["carbon_coal_tco2e"] = o.carbon_coal_tco2e;
  totals["grid"] = o.grid;
  totals["kg_per_kwh"] = o.kg_per_kwh;
  totals["coal_share"] = o.coal_share ? ordered_json(*o.coal_share) : ordered_json(nullptr);
  totals["mean_wait_s"] = o.mean_wait_s;
  totals["max_wait_s"] = o.max_wait_s;
  totals["makespan_s"] = o.makespan_s;
  totals["tokens_in_period"] = o.tokens_in_period;
  long finished = 0;
  for (const auto& jo : o.jobs)
    finished += jo.finished_in_period ? 1 : 0;
  totals["jobs_finished_in_period"] = finished;
  j["totals"] = totals;
  ordered_json pools = ordered_json::array();
  for (const auto& p : o.pools)
    pools.push_back({{"name", p.name},
                     {"accelerator", p.accelerator},
                     {"nodes", p.nodes},
                     {"accelerators_per_node", p.accelerators_per_node},
                     {"idle_node_w", p.idle_node_w},
                     {"failures_per_node_h", p.failures_per_node_h},
                     {"repair_s", p.repair_s},
                     {"failures", p.failures},
                     {"utilisation", p.utilisation}});
  j["pools"] = pools;
  ordered_json jobs = ordered_json::array();
  for (const auto& jo : o.jobs)
    jobs.push_back(job_json(jo));
  j["jobs"] = jobs;
  ordered_json sets = ordered_json::array();
  for (const auto& set : o.shared_sets) {
    ordered_json tiers = ordered_json::array();
    for (const auto& t : set.tiers)
      tiers.push_back({{"tier", t.tier},
                       {"links", t.links},
                       {"utilisation", t.utilisation},
                       {"busiest_link_utilisation", t.busiest_link}});
    sets.push_back({{"pool", set.pool},
                    {"jobs", set.jobs},
                    {"nodes", set.nodes},
                    {"step_time_s", set.step_time_s},
                    {"tiers", tiers}});
  }
  j["shared_sets"] = sets;
  ordered_json series = ordered_json::array();
  for (const auto& s : o.samples)
    series.push_back({s.t_s, s.power_w / 1e6, s.busy_accelerators, s.up_accelerators});
  j["power_over_time"] = {{"columns", {"t_s", "power_mw", "busy_accelerators", "up_accelerators"}}, {"rows", series}};
  return j;
}

std::string to_csv(const ClusterOutcome& o)
{
  std::ostringstream out;
  out << "t_s,power_mw,busy_accelerators,up_accelerators,utilisation";
  for (const auto& p : o.pools)
    out << ",busy_nodes_" << p.name << ",down_nodes_" << p.name;
  out << "\n";
  for (const auto& s : o.samples) {
    out << fixed(s.t_s, 3) << "," << fixed(s.power_w / 1e6, 6) << "," << s.busy_accelerators << "," << s.up_accelerators
        << "," << fixed(o.accelerators ? double(s.busy_accelerators) / o.accelerators : 0, 6);
    for (size_t p = 0; p < o.pools.size(); ++p)
      out << "," << s.busy_nodes.at(p) << "," << s.down_nodes.at(p);
    out << "\n";
  }
  return out.str();
}

std::string to_console(const ClusterOutcome& o)
{
  std::ostringstream out;
  out << "cluster " << o.name << ": " << o.accelerators << " accelerators in " << o.pools.size() << " pools, scheduler "
      << o.scheduler << ", period " << fixed(o.period_s / 86400, 1) << " days, " << o.jobs.size() << " jobs ("
      << o.configurations << " configurations simulated)\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-24s %-10s %6s %10s %10s %10s %9s %9s %9s\n", "job", "pool", "nodes", "wait_h",
                "run_h", "step_s", "mfu_%", "MWh", "tCO2e");
  out << line;
  for (const auto& j : o.jobs) {
    std::snprintf(line, sizeof line, "  %-24.24s %-10.10s %6d %10.1f %10.1f %10.3f %9.1f %9.1f %9.1f%s\n",
                  j.name.c_str(), j.pool.c_str(), j.nodes, j.wait_s / 3600, j.run_s / 3600, j.step_time_s, 100 * j.mfu,
                  j.energy_mwh, j.carbon_tco2e, j.finished_in_period ? "" : "  (ends after the period)");
    out << line;
  }
  for (const auto& j : o.jobs)
    if (j.placement != "none")
      out << "  job " << j.name << ": placement " << j.placement << ", nodes " << j.placed_nodes << "; step "
          << fixed(j.step_time_s, 4) << " s sharing the fabric, " << fixed(j.step_time_alone_s, 4) << " s alone ("
          << signed_percent(j.step_time_alone_s > 0 ? j.step_time_s / j.step_time_alone_s - 1 : 0) << ")\n";
  for (const auto& set : o.shared_sets) {
    if (set.jobs.size() < 2)
      continue;
    out << "  together on pool " << set.pool << ":";
    for (size_t k = 0; k < set.jobs.size(); ++k)
      out << (k ? ", " : " ") << set.jobs[k] << " " << fixed(set.step_time_s[k], 4) << " s";
    out << "; tiers";
    for (const auto& t : set.tiers)
      if (t.utilisation > 0)
        out << " " << t.tier << " " << fixed(100 * t.utilisation, 1) << "% (busiest link "
            << fixed(100 * t.busiest_link, 1) << "%)";
    out << "\n";
  }
  for (const auto& p : o.pools)
    out << "  pool " << p.name << " (" << p.nodes << " x " << p.accelerators_per_node << " " << p.accelerator
        << "): utilisation " << fixed(100 * p.utilisation, 1) << "%, " << p.failures << " node failures\n";
  out << "  utilisation " << fixed(100 * o.utilisation, 1) << "%, energy " << fixed(o.energy_mwh, 1)
      << " MWh over the period (jobs' own " << fixed(o.energy_jobs_mwh, 1) << " MWh), " << fixed(o.carbon_tco2e, 1)
      << " tCO2e (coal " << fixed(o.carbon_coal_tco2e, 1) << ")";
  if (o.coal_share)
    out << ", grid " << o.grid << " coal share " << fixed(100 * *o.coal_share, 1) << "%";
  out << "\n  " << fixed(o.tokens_in_period / 1e12, 3) << "T tokens trained within the period; mean wait "
      << fixed(o.mean_wait_s / 3600, 1) << " h, max " << fixed(o.max_wait_s / 3600, 1) << " h, last job ends at "
      << fixed(o.makespan_s / 86400, 2) << " days\n";
  return out.str();
}

namespace {

/// A step plot (inline SVG) of `value(sample)` over [0, t_end], y from 0 to y_max.
template <class F>
std::string step_plot(const ClusterOutcome& o, double t_end, double y_max, const std::string& colour,
                      const std::string& y_label, F value)
{
  const int w = 1000, h = 220, l = 60, b = 30;
  auto x = [&](double t) { return l + (w - l - 10) * std::min(t, t_end) / t_end; };
  auto y = [&](double v) { return h - b - (h - b - 10) * (y_max > 0 ? v / y_max : 0); };
  std::string pts;
  double last = 0;
  for (const auto& s : o.samples) {
    if (s.t_s > t_end)
      break;
    if (!pts.empty())
      pts += fixed(x(s.t_s), 1) + "," + fixed(y(last), 1) + " ";
    last = value(s);
    pts += fixed(x(s.t_s), 1) + "," + fixed(y(last), 1) + " ";
  }
  pts += fixed(x(t_end), 1) + "," + fixed(y(last), 1);
  std::string svg = "<svg width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
                    "\" role=\"img\" aria-label=\"" + report::html::escape(y_label) + " over time\">";
  svg += "<line x1=\"" + std::to_string(l) + "\" y1=\"" + std::to_string(h - b) + "\" x2=\"" + std::to_string(w - 10) +
         "\" y2=\"" + std::to_string(h - b) + "\" stroke=\"#888\"/>";
  svg += "<line x1=\"" + std::to_string(l) + "\" y1=\"10\" x2=\"" + std::to_string(l) + "\" y2=\"" +
         std::to_string(h - b) + "\" stroke=\"#888\"/>";
  svg += "<text x=\"4\" y=\"16\" font-size=\"11\">" + report::html::number(y_max) + "</text>";
  svg += "<text x=\"4\" y=\"" + std::to_string(h - b) + "\" font-size=\"11\">0</text>";
  svg += "<text x=\"" + std::to_string(l) + "\" y=\"" + std::to_string(h - 8) + "\" font-size=\"11\">0 days</text>";
  svg += "<text x=\"" + std::to_string(w - 90) + "\" y=\"" + std::to_string(h - 8) + "\" font-size=\"11\">" +
         fixed(t_end / 86400, 1) + " days</text>";
  svg += "<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.5\" points=\"" + pts + "\"/></svg>";
  return svg;
}

} // namespace

std::string to_html(const ClusterOutcome& o)
{
  using report::html::escape;
  std::string out = report::html::page_start("trainsim cluster: " + o.name);
  out += "<h1>" + escape(o.name) + "</h1>\n<p class=\"sub\">" + escape(o.description) + "</p>\n";
  out += "<section><h2>Totals over " + fixed(o.period_s / 86400, 1) + " days</h2><p>" + std::to_string(o.accelerators) +
         " accelerators, scheduler " + escape(o.scheduler) + ", " + std::to_string(o.jobs.size()) +
         " jobs; utilisation " + fixed(100 * o.utilisation, 1) + "%; energy " + fixed(o.energy_mwh, 1) + " MWh; " +
         fixed(o.carbon_tco2e, 1) + " tCO2e (coal " + fixed(o.carbon_coal_tco2e, 1) + " tCO2e" +
         (o.coal_share ? ", grid coal share " + fixed(100 * *o.coal_share, 1) + "%" : std::string()) +
         ")</p></section>\n";
  const double t_end = std::max(o.period_s, 1.0);
  double p_max = 0;
  for (const auto& s : o.samples)
    p_max = std::max(p_max, s.power_w / 1e6);
  out += "<section><h2>Utilisation over time</h2>" +
         step_plot(o, t_end, 1.0, "#2b6cb0", "utilisation",
                   [&](const QueueSample& s) {
                     return o.accelerators ? double(s.busy_accelerators) / double(o.accelerators) : 0.0;
                   }) +
         "<p class=\"sub\">busy accelerators / all accelerators (0 to 1)</p></section>\n";
  out += "<section><h2>Power over time</h2>" +
         step_plot(o, t_end, p_max * 1.05, "#c05621", "power", [](const QueueSample& s) { return s.power_w / 1e6; }) +
         "<p class=\"sub\">facility power, MW (running jobs plus idle powered nodes, PUE included)</p></section>\n";
  out += "<section><h2>Jobs</h2><table><tr><th>job</th><th>pool</th><th>nodes</th><th>wait (h)</th><th>run "
         "(h)</th><th>step (s)</th><th>MFU</th><th>MWh</th><th>tCO2e</th></tr>\n";
  for (const auto& j : o.jobs)
    out += "<tr><td>" + escape(j.name) + "</td><td>" + escape(j.pool) + "</td><td>" + std::to_string(j.nodes) +
           "</td><td>" + fixed(j.wait_s / 3600, 1) + "</td><td>" + fixed(j.run_s / 3600, 1) + "</td><td>" +
           fixed(j.step_time_s, 3) + "</td><td>" + fixed(100 * j.mfu, 1) + "%</td><td>" + fixed(j.energy_mwh, 1) +
           "</td><td>" + fixed(j.carbon_tco2e, 1) + "</td></tr>\n";
  out += "</table></section>\n";
  if (!o.shared_sets.empty()) {
    out += "<section><h2>Jobs sharing the fabric</h2><table><tr><th>job</th><th>placement</th><th>nodes</th><th>step "
           "shared (s)</th><th>step alone (s)</th></tr>\n";
    for (const auto& j : o.jobs)
      if (j.placement != "none")
        out += "<tr><td>" + escape(j.name) + "</td><td>" + escape(j.placement) + "</td><td>" + escape(j.placed_nodes) +
               "</td><td>" + fixed(j.step_time_s, 4) + "</td><td>" + fixed(j.step_time_alone_s, 4) + "</td></tr>\n";
    out += "</table><p class=\"sub\">sets simulated together, with the fabric tiers' utilisation (busiest link)</p>"
           "<table><tr><th>pool</th><th>jobs (step, s)</th><th>tiers</th></tr>\n";
    for (const auto& set : o.shared_sets) {
      std::string jobs, tiers;
      for (size_t k = 0; k < set.jobs.size(); ++k)
        jobs += (k ? ", " : "") + escape(set.jobs[k]) + " " + fixed(set.step_time_s[k], 4);
      for (const auto& t : set.tiers)
        if (t.utilisation > 0)
          tiers += (tiers.empty() ? "" : ", ") + escape(t.tier) + " " + fixed(100 * t.utilisation, 1) + "% (" +
                   fixed(100 * t.busiest_link, 1) + "%)";
      out += "<tr><td>" + escape(set.pool) + "</td><td>" + jobs + "</td><td>" + tiers + "</td></tr>\n";
    }
    out += "</table></section>\n";
  }
  out += report::html::page_end();
  return out;
}

} // namespace trainsim::cluster
