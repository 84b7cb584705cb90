#include "trainsim/report/Html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "HtmlUtil.hpp"
#include "trainsim/core/Units.hpp"
#include "trainsim/report/ChromeTrace.hpp"

namespace trainsim::report {

using nlohmann::ordered_json;
using namespace html;

namespace {

bool starts_with(const std::string& s, const std::string& p)
{
  return s.rfind(p, 0) == 0;
}

/// The trace kind a breakdown field belongs to ("tp_comm_exposed_s" -> "tp_comm"), for its colour.
std::string kind_of(const std::string& key)
{
  std::string k = key;
  for (const char* cut : {"_exposed_s", "_s"})
    if (k.size() > std::string(cut).size() &&
        k.compare(k.size() - std::string(cut).size(), std::string::npos, cut) == 0) {
      k.resize(k.size() - std::string(cut).size());
      break;
    }
  if (k == "pipeline_bubble")
    k = "bubble";
  return k;
}

std::string value_text(const std::string& key, const ordered_json& v)
{
  if (v.is_number())
    return format_field(key, v.get<double>());
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_null())
    return "–";
  return v.dump();
}

std::string kv_table(const std::vector<std::pair<std::string, ordered_json>>& rows)
{
  std::string out = "<table>";
  for (const auto& [k, v] : rows)
    out += "<tr><td>" + escape(k) + "</td><td class=\"n\">" + escape(value_text(k, v)) + "</td></tr>";
  return out + "</table>";
}

std::string card(const ordered_json& r, const std::string& key, const std::string& label)
{
  if (!r.contains(key) || !r[key].is_number())
    return "";
  return "<div class=\"card\"><div class=\"v\">" + escape(format_field(key, r[key].get<double>())) +
         "</div><div class=\"k\">" + escape(label) + "</div></div>";
}

std::string summary_section(const ordered_json& r)
{
  std::string out = "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">";
  for (const auto& [key, label] :
       std::vector<std::pair<std::string, std::string>>{{"step_time_s", "step time"},
                                                        {"tokens_per_s", "tokens per second"},
                                                        {"mfu", "model FLOPs utilisation"},
                                                        {"tflops_per_accelerator", "TFLOP/s per accelerator"},
                                                        {"time_to_train_days", "days to train"},
                                                        {"energy_mwh", "energy, whole run (MWh)"},
                                                        {"carbon_tco2e", "carbon, whole run"},
                                                        {"memory_gib_per_accelerator", "memory per accelerator"},
                                                        {"accelerators", "accelerators"}})
    out += card(r, key, label);
  out += card(r, "accelerator_hours", "accelerator-hours, whole run"); // issue 15
  out += "</div></section>\n";
  return out;
}

std::string scenario_section(const ordered_json& r)
{
  std::string out = "<section id=\"scenario\"><h2>Scenario</h2>";
  if (!r.contains("resolved_scenario"))
    return out + "<p class=\"note\">The report has no resolved scenario.</p></section>\n";
  const auto& s = r["resolved_scenario"];
  if (s.contains("description") && s["description"].is_string())
    out += "<p class=\"sub\">" + escape(s["description"].get<std::string>()) + "</p>";
  out += "<div class=\"grid\">";
  for (const auto& [part, value] : s.items()) {
    if (!value.is_object())
      continue;
    std::vector<std::pair<std::string, ordered_json>> rows;
    flatten(value, "", rows);
    // Long catalogue texts (sources, notes) belong in the catalogue, not the summary.
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [](const auto& kv) {
                                return kv.first.find("source") != std::string::npos ||
                                       kv.first.find("note") != std::string::npos || kv.second.is_array();
                              }),
               rows.end());
    out += "<div><h3>" + escape(part) + "</h3>" + kv_table(rows) + "</div>";
  }
  return out + "</div></section>\n";
}

std::vector<Part> time_parts(const ordered_json& object)
{
  std::vector<Part> parts;
  for (const auto& [k, v] : object.items())
    if (v.is_number() && k.size() > 2 && k.compare(k.size() - 2, 2, "_s") == 0)
      parts.push_back({label_of(k), v.get<double>(), css_colour(kind_of(k)), core::format_seconds(v.get<double>())});
  return parts;
}

std::string breakdown_section(const ordered_json& r)
{
  std::string out = "<section id=\"breakdown\"><h2>Step-time breakdown</h2>";
  if (!r.contains("breakdown"))
    return out + "<p class=\"note\">No breakdown in the report.</p></section>\n";
  const double step = r.value("step_time_s", 0.0);
  auto parts = time_parts(r["breakdown"]);
  out += "<p class=\"sub\">Mean over pipeline stages of where a step's time goes (exposed communication is the part "
         "not hidden behind compute); the parts sum to the step time, " +
         escape(core::format_seconds(step)) + ".</p>";
  out += stacked_bar(parts, 0, 1060, 28) + legend(parts);
  out += "<table><tr><th>part</th><th>time</th><th>share</th></tr>";
  for (const auto& p : parts)
    out += "<tr><td>" + escape(p.label) + "</td><td class=\"n\">" + escape(p.tooltip) + "</td><td class=\"n\">" +
           (step > 0 ? number(100 * p.value / step, 3) + " %" : "–") + "</td></tr>";
  out += "</table>";
  if (r.contains("stages") && r["stages"].is_array() && !r["stages"].empty()) {
    out += "<h3>Per pipeline stage</h3><table>";
    double longest = 0;
    for (const auto& st : r["stages"]) {
      double sum = 0;
      for (const auto& p : time_parts(st))
        sum += p.value;
      longest = std::max(longest, sum);
    }
    for (const auto& st : r["stages"]) {
      auto sp = time_parts(st);
      double sum = 0;
      for (const auto& p : sp)
        sum += p.value;
      const int w = longest > 0 ? static_cast<int>(std::lround(880 * sum / longest)) : 880;
      out += "<tr><td>stage " + escape(st.value("stage", ordered_json()).dump()) + "</td><td>" +
             stacked_bar(sp, 0, std::max(w, 1), 16) + "</td></tr>";
    }
    out += "</table>";
  }
  return out + "</section>\n";
}

std::string ticks(double origin, double duration, int x0, int width, int y)
{
  // About 8 ticks at 1, 2 or 5 times a power of ten.
  const double raw = duration / 8;
  const double p10 = std::pow(10, std::floor(std::log10(raw)));
  double tick = p10;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (p10 * m >= raw) {
      tick = p10 * m;
      break;
    }
  std::string out;
  char buf[256];
  for (double t = 0; t <= duration * 1.0001; t += tick) {
    const double x = x0 + t / duration * width;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\" stroke=\"#e3e6eb\"/>"
                  "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                  x, x, y, x, y + 13);
    out += buf + escape(format_field("t_s", origin + t)) + "</text>";
  }
  return out;
}

} // namespace

std::string timeline_svg(const sim::StepTrace& t, int width, double from, double to)
{
  const double w0 = t.start_s + from * (t.end_s - t.start_s), w1 = t.start_s + to * (t.end_s - t.start_s);
  const double duration = w1 - w0;
  const int label_w = 110, plot_w = width - label_w - 10;
  const int stages = static_cast<int>(t.stage_accelerators.size());
  bool dp_lane = false;
  for (const auto& e : t.events)
    dp_lane = dp_lane || e.lane == 1;
  const int row_h = 20, dp_h = 9, gap = 6, tier_h = 26;
  const int stage_h = row_h + (dp_lane ? dp_h + 1 : 0) + gap;
  const int tiers_y = stages * stage_h + 8;
  const int axis_y = tiers_y + static_cast<int>(t.tiers.size()) * (tier_h + 4);
  const int height = axis_y + 18;
  std::string out = "<svg width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) + "\" role=\"img\">";
  if (duration <= 0)
    return out + "</svg>";
  out += "<g>" + ticks(w0 - t.start_s, duration, label_w, plot_w, axis_y) + "</g>";
  char buf[512];
  auto x_of = [&](double s) { return label_w + (std::clamp(s, w0, w1) - w0) / duration * plot_w; };
  for (int st = 0; st < stages; ++st) {
    std::snprintf(buf, sizeof buf, "<text x=\"4\" y=\"%d\">stage %d (rank %d)</text>", st * stage_h + 14, st,
                  t.stage_accelerators[static_cast<size_t>(st)]);
    out += buf;
    if (dp_lane) {
      std::snprintf(buf, sizeof buf, "<text x=\"14\" y=\"%d\" style=\"font-size:8px\">DP stream</text>",
                    st * stage_h + row_h + dp_h);
      out += buf;
    }
  }
  for (const auto& e : t.events) {
    if (e.end_s <= w0 || e.start_s >= w1)
      continue;
    const int y = e.stage * stage_h + (e.lane == 0 ? 0 : row_h + 1);
    const int h = e.lane == 0 ? row_h : dp_h;
    const double x = x_of(e.start_s), w = std::max(0.3, x_of(e.end_s) - x);
    std::snprintf(buf, sizeof buf, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\">", x, y, w, h,
                  css_colour(e.kind));
    out += buf;
    out += "<title>" + escape(e.name + " · " + e.kind + " · " + core::format_seconds(e.end_s - e.start_s)) +
           "</title></rect>";
  }
  for (size_t tier = 0; tier < t.tiers.size(); ++tier) {
    const int y0 = tiers_y + static_cast<int>(tier) * (tier_h + 4);
    std::snprintf(
        buf, sizeof buf,
        "<text x=\"4\" y=\"%d\">%s</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f0f2f5\"/>",
        y0 + 16, escape(t.tiers[tier]).c_str(), label_w, y0, plot_w, tier_h);
    out += buf;
    std::string path = "M" + std::to_string(label_w) + " " + std::to_string(y0 + tier_h);
    double peak = 0;
    for (const auto& smp : t.samples) {
      if (static_cast<size_t>(smp.tier) != tier || smp.end_s <= w0 || smp.start_s >= w1)
        continue;
      const double u = t.tier_capacity[tier] > 0 ? std::clamp(smp.bytes_per_s / t.tier_capacity[tier], 0.0, 1.0) : 0;
      peak = std::max(peak, u);
      const double y = y0 + tier_h - u * tier_h;
      std::snprintf(buf, sizeof buf, " L%.2f %.2f L%.2f %.2f", x_of(smp.start_s), y, x_of(smp.end_s), y);
      path += buf;
    }
    std::snprintf(buf, sizeof buf, " L%d %d Z", label_w + plot_w, y0 + tier_h);
    path += buf;
    out += "<path d=\"" + path + "\" fill=\"#5f8fd0\" fill-opacity=\"0.75\"><title>" +
           escape(t.tiers[tier] + ": utilisation of all its links (both directions); peak " + number(100 * peak, 3) +
                  " %") +
           "</title></path>";
  }
  return out + "</svg>";
}

namespace {

std::string timeline_section(const ordered_json& r, const sim::StepTrace* t)
{
  std::string out = "<section id=\"timeline\"><h2>Timeline of one step</h2>";
  if (t == nullptr || t->step < 0)
    return out + "<p class=\"note\">No step was traced.</p></section>\n";
  out += "<p class=\"sub\">Simulated step " + std::to_string(t->step) +
         ": one representative rank per pipeline stage (its tensor- and data-parallel peers run the same "
         "timeline); grey gaps are pipeline bubbles (waiting for another stage). Below, the utilisation of each "
         "fabric tier (bytes carried by all its links, both directions, over their capacity). Hover for details; "
         "<code>--trace FILE</code> writes the same step for Perfetto.</p>";
  out += timeline_svg(*t, 1080, 0, 1);
  out += "<h3>Zoom: the first 8% of the step (pipeline warm-up)</h3>" + timeline_svg(*t, 1080, 0, 0.08);
  out += "<h3>Zoom: the last 8% of the step (cool-down, gradient reduction, optimizer)</h3>" +
         timeline_svg(*t, 1080, 0.92, 1);
  std::vector<Part> kinds;
  for (const char* k : {"compute", "tp_comm", "pp_comm", "dp_comm", "bubble", "optimizer", "dp_stream"})
    kinds.push_back({k == std::string("dp_stream") ? "DP collective (stream)" : label_of(k), 0, css_colour(k), ""});
  return out + legend(kinds) + "</section>\n";
}

std::vector<Part> object_parts(const ordered_json& object, const std::string& key)
{
  std::vector<Part> parts;
  size_t i = 0;
  for (const auto& [k, v] : object.items())
    if (v.is_number())
      parts.push_back({label_of(k), v.get<double>(), palette(i++), format_field(key + "." + k, v.get<double>())});
  return parts;
}

std::string parts_block(const std::string& title, const std::vector<Part>& parts, double total)
{
  std::string out = "<h3>" + escape(title) + "</h3>" + stacked_bar(parts, total, 1060, 22) + legend(parts);
  out += "<table>";
  double sum = 0;
  for (const auto& p : parts)
    sum += p.value;
  for (const auto& p : parts)
    out += "<tr><td>" + escape(p.label) + "</td><td class=\"n\">" + escape(p.tooltip) + "</td><td class=\"n\">" +
           (sum > 0 ? number(100 * p.value / sum, 3) + " %" : "–") + "</td></tr>";
  return out + "</table>";
}

std::string energy_section(const ordered_json& r)
{
  std::string out = "<section id=\"energy\"><h2>Energy and carbon</h2>";
  std::vector<std::pair<std::string, ordered_json>> totals;
  for (const auto& [k, v] : r.items())
    if ((starts_with(k, "energy") || starts_with(k, "carbon") || starts_with(k, "average_") || k == "grid") &&
        !v.is_object())
      totals.emplace_back(k, v);
  if (r.contains("grid") && r["grid"].is_object())
    flatten(r["grid"], "grid", totals);
  out += kv_table(totals);
  std::vector<Part> energy;
  std::string energy_key;
  bool carbon_found = false;
  for (const auto& [k, v] : r.items()) {
    if (!v.is_object())
      continue;
    if (starts_with(k, "energy")) {
      auto parts = object_parts(v, k);
      out += parts_block("Energy by component (" + label_of(k) + ")", parts, 0);
      if (energy.empty()) {
        energy = parts;
        energy_key = k;
      }
    } else if (starts_with(k, "carbon")) {
      carbon_found = true;
      out += parts_block("Carbon by component (" + label_of(k) + ")", object_parts(v, k), 0);
    }
  }
  if (!carbon_found && !energy.empty() && r.contains("carbon_tco2e") && r["carbon_tco2e"].is_number()) {
    // One grid factor applies to every component, so carbon splits like energy.
    double sum = 0;
    for (const auto& p : energy)
      sum += p.value;
    const double carbon = r["carbon_tco2e"].get<double>();
    std::vector<Part> parts;
    for (const auto& p : energy) {
      const double c = sum > 0 ? carbon * p.value / sum : 0;
      parts.push_back({p.label, c, p.colour, format_field("carbon_tco2e", c)});
    }
    out += parts_block("Carbon by component", parts, 0);
    out += "<p class=\"note\">Carbon by component: the report's carbon split in proportion to " +
           escape(label_of(energy_key)) + " (every component draws from the same grid).</p>";
  }
  return out + "</section>\n";
}

std::string memory_section(const ordered_json& r)
{
  std::string out = "<section id=\"memory\"><h2>Memory per accelerator</h2>";
  if (r.contains("memory_gib_per_accelerator") && r["memory_gib_per_accelerator"].is_number())
    out += "<p class=\"sub\">Largest footprint of any accelerator: " +
           escape(format_field("memory_gib_per_accelerator", r["memory_gib_per_accelerator"].get<double>())) + ".</p>";
  for (const auto& [k, v] : r.items()) {
    if (!starts_with(k, "memory") || !v.is_object())
      continue;
    std::vector<Part> parts;
    double capacity = 0;
    std::vector<std::pair<std::string, ordered_json>> other;
    size_t i = 0;
    for (const auto& [part, value] : v.items()) {
      if (!value.is_number())
        continue;
      if (part.find("capacity") != std::string::npos)
        capacity = value.get<double>();
      else if (part == "stage")
        other.emplace_back("stage with the largest footprint", value);
      else
        parts.push_back(
            {label_of(part), value.get<double>(), palette(i++), format_field(k + "." + part, value.get<double>())});
    }
    double used = 0;
    for (const auto& p : parts)
      used += p.value;
    out +=
        parts_block(label_of(k) + (capacity > 0 ? " (bar = usable capacity, " + format_field(k, capacity) + ")" : ""),
                    parts, std::max(capacity, used));
    if (capacity > 0)
      out += "<p class=\"note\">Used " + escape(format_field(k, used)) + " of " + escape(format_field(k, capacity)) +
             " usable (" + number(100 * used / capacity, 3) + " %).</p>";
    if (!other.empty())
      out += kv_table(other);
  }
  return out + "</section>\n";
}

std::string fields_section(const ordered_json& r)
{
  std::vector<std::pair<std::string, ordered_json>> rows;
  for (const auto& [k, v] : r.items())
    if (k != "resolved_scenario" && k != "stages")
      flatten(v, k, rows);
  return "<section id=\"fields\"><h2>Every report field</h2><p class=\"sub\">The JSON report "
         "(<code>--json</code>, docs/report-format.md) flattened.</p>" +
         kv_table(rows) + "</section>\n";
}

} // namespace

std::string to_html(const ordered_json& r, const sim::StepTrace* trace)
{
  const std::string name = r.value("scenario", std::string("trainsim run"));
  std::string out = page_start("trainsim · " + name);
  out += "<header id=\"title\"><h1>" + escape(name) + "</h1><p class=\"sub\">trainsim report";
  if (r.contains("report_version"))
    out += " (report version " + escape(r["report_version"].dump()) + ")";
  out += "</p></header>\n";
  out += summary_section(r);
  out += scenario_section(r);
  out += breakdown_section(r);
  out += timeline_section(r, trace);
  out += energy_section(r);
  out += memory_section(r);
  out += fields_section(r);
  return out + page_end();
}

} // namespace trainsim::report
