#include "trainsim/report/ChromeTrace.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace trainsim::report {

using nlohmann::ordered_json;

namespace {

/// Microseconds from the step start, rounded to the nanosecond so that the JSON is short and stable.
double micros(double seconds, double origin)
{
  return std::round((seconds - origin) * 1e9) / 1e3;
}

ordered_json meta(const char* what, int pid, int tid, const ordered_json& args)
{
  ordered_json m{{"ph", "M"}, {"pid", pid}};
  if (tid >= 0)
    m["tid"] = tid;
  m["name"] = what;
  m["args"] = args;
  return m;
}

} // namespace

const char* trace_colour_name(const std::string& kind)
{
  static const std::map<std::string, const char*> names{{"compute", "thread_state_running"},
                                                        {"tp_comm", "rail_response"},
                                                        {"pp_comm", "rail_animation"},
                                                        {"dp_comm", "rail_load"},
                                                        {"bubble", "grey"},
                                                        {"optimizer", "olive"},
                                                        {"dp_stream", "thread_state_iowait"}};
  auto it = names.find(kind);
  return it == names.end() ? "generic_work" : it->second;
}

const char* css_colour(const std::string& kind)
{
  static const std::map<std::string, const char*> colours{
      {"compute", "#2e9e5b"}, {"tp_comm", "#3a78c2"},   {"pp_comm", "#8e5fc2"},   {"dp_comm", "#e0892b"},
      {"bubble", "#c9c9c9"},  {"optimizer", "#a2682f"}, {"dp_stream", "#f2c27a"}, {"ep_comm", "#c2417a"}};
  auto it = colours.find(kind);
  return it == colours.end() ? "#7a7a7a" : it->second;
}

ordered_json to_chrome_trace(const scenario::Scenario& s, const sim::StepTrace& t)
{
  const auto& p = s.parallelism;
  const int stages = static_cast<int>(t.stage_accelerators.size());
  const int fabric_pid = stages + 1;
  ordered_json events = ordered_json::array();
  for (int st = 0; st < stages; ++st) {
    const int pid = st + 1;
    const int acc = t.stage_accelerators[static_cast<size_t>(st)];
    events.push_back(meta("process_name", pid, -1,
                          {{"name", "stage " + std::to_string(st) + " (rank " + std::to_string(acc) + ")"}}));
    events.push_back(meta("process_sort_index", pid, -1, {{"sort_index", st}}));
    events.push_back(meta("thread_name", pid, 0, {{"name", "rank " + std::to_string(acc) + " stream"}}));
    events.push_back(meta("thread_sort_index", pid, 0, {{"sort_index", 0}}));
    if (p.dp * p.cp > 1) {
      events.push_back(meta("thread_name", pid, 1, {{"name", "DP communication stream"}}));
      events.push_back(meta("thread_sort_index", pid, 1, {{"sort_index", 1}}));
    }
  }
  events.push_back(meta("process_name", fabric_pid, -1, {{"name", "fabric tiers (utilisation %)"}}));
  events.push_back(meta("process_sort_index", fabric_pid, -1, {{"sort_index", fabric_pid}}));

  auto sorted = t.events;
  std::stable_sort(sorted.begin(), sorted.end(), [](const sim::TraceEvent& a, const sim::TraceEvent& b) {
    return std::tie(a.stage, a.lane, a.start_s, a.end_s) < std::tie(b.stage, b.lane, b.start_s, b.end_s);
  });
  for (const auto& e : sorted) {
    const double ts = micros(e.start_s, t.start_s);
    ordered_json args{{"kind", e.kind}, {"pass", e.pass}};
    if (e.microbatch >= 0)
      args["microbatch"] = e.microbatch;
    if (e.chunk >= 0 && p.chunks() > 1)
      args["chunk"] = e.chunk;
    if (e.bytes > 0 && e.kind != "compute" && e.kind != "bubble")
      args["bytes"] = e.bytes;
    args["duration_ms"] = (e.end_s - e.start_s) * 1e3;
    events.push_back({{"ph", "X"},
                      {"pid", e.stage + 1},
                      {"tid", e.lane},
                      {"name", e.name},
                      {"cat", e.kind},
                      {"ts", ts},
                      {"dur", std::max(0.0, micros(e.end_s, t.start_s) - ts)},
                      {"cname", trace_colour_name(e.kind)},
                      {"args", args}});
  }
  for (const auto& smp : t.samples) {
    const auto tier = static_cast<size_t>(smp.tier);
    const double cap = t.tier_capacity[tier];
    events.push_back({{"ph", "C"},
                      {"pid", fabric_pid},
                      {"tid", 0},
                      {"name", t.tiers[tier]},
                      {"ts", micros(smp.start_s, t.start_s)},
                      {"args", {{"utilisation_percent", cap > 0 ? 100.0 * smp.bytes_per_s / cap : 0.0}}}});
  }
  for (size_t tier = 0; tier < t.tiers.size(); ++tier)
    events.push_back({{"ph", "C"},
                      {"pid", fabric_pid},
                      {"tid", 0},
                      {"name", t.tiers[tier]},
                      {"ts", micros(t.end_s, t.start_s)},
                      {"args", {{"utilisation_percent", 0.0}}}});

  ordered_json tiers = ordered_json::array();
  for (size_t i = 0; i < t.tiers.size(); ++i)
    tiers.push_back({{"tier", t.tiers[i]}, {"links", t.tier_links[i]}, {"capacity_bytes_per_s", t.tier_capacity[i]}});
  ordered_json j;
  j["traceEvents"] = events;
  j["displayTimeUnit"] = "ms";
  j["otherData"] = {{"generator", "trainsim"},
                    {"scenario", s.name},
                    {"step", t.step},
                    {"step_time_s", t.end_s - t.start_s},
                    {"tp", p.tp},
                    {"pp", p.pp},
                    {"dp", p.dp},
                    {"vpp", p.vpp},
                    {"fabric_tiers", tiers},
                    {"note", "one representative rank per pipeline stage (tensor- and data-parallel peers run the "
                             "same timeline); tier utilisation = bytes carried by all links of the tier, both "
                             "directions, / their capacity, between op boundaries"}};
  return j;
}

} // namespace trainsim::report
