#include "trainsim/sim/TraceJson.hpp"

namespace trainsim::sim {

nlohmann::json to_json(const StepTrace& t)
{
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : t.events)
    events.push_back({e.stage, e.lane, e.kind, e.name, e.pass, e.start_s, e.end_s, e.microbatch, e.chunk, e.bytes});
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& s : t.samples)
    samples.push_back({s.tier, s.start_s, s.end_s, s.bytes_per_s});
  return {{"step", t.step},
          {"start_s", t.start_s},
          {"end_s", t.end_s},
          {"stage_accelerators", t.stage_accelerators},
          {"events", events},
          {"tiers", t.tiers},
          {"tier_capacity", t.tier_capacity},
          {"tier_links", t.tier_links},
          {"samples", samples}};
}

StepTrace step_trace_from_json(const nlohmann::json& j)
{
  StepTrace t;
  t.step = j.at("step").get<int>();
  t.start_s = j.at("start_s").get<double>();
  t.end_s = j.at("end_s").get<double>();
  t.stage_accelerators = j.at("stage_accelerators").get<std::vector<int>>();
  for (const auto& e : j.at("events"))
    t.events.push_back({e[0].get<int>(), e[1].get<int>(), e[2].get<std::string>(), e[3].get<std::string>(),
                        e[4].get<std::string>(), e[5].get<double>(), e[6].get<double>(), e[7].get<int>(),
                        e[8].get<int>(), e[9].get<double>()});
  t.tiers = j.at("tiers").get<std::vector<std::string>>();
  t.tier_capacity = j.at("tier_capacity").get<std::vector<double>>();
  t.tier_links = j.at("tier_links").get<std::vector<long>>();
  for (const auto& s : j.at("samples"))
    t.samples.push_back({s[0].get<int>(), s[1].get<double>(), s[2].get<double>(), s[3].get<double>()});
  return t;
}

} // namespace trainsim::sim
