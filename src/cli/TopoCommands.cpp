// trainsim topo: builds a scenario's fabric and prints its summary; writes Graphviz and SimGrid XML.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "trainsim/cli/Commands.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/topology/FabricExport.hpp"
#include "trainsim/topology/FabricModel.hpp"

namespace trainsim::cli {

namespace {

struct TopoOptions {
  std::string scenario;
  std::string preset;
  std::string dot;
  std::string xml;
  std::string json;
  bool models = false;
};

std::string gbps(double bytes_per_s)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g Gb/s", bytes_per_s * 8 / 1e9);
  return buf;
}

std::string ratio(double o)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g:1", o);
  return buf;
}

nlohmann::ordered_json summary_json(const topology::FabricSummary& s, double build_s)
{
  return {{"model", s.model},
          {"accelerators", s.accelerators},
          {"nodes", s.nodes},
          {"switches_by_tier", s.switches_by_tier},
          {"links", s.links},
          {"pods", s.pods},
          {"planes", s.planes},
          {"ecmp_paths", s.ecmp_paths},
          {"load_balance", s.load_balance},
          {"oversubscription", s.oversubscription},
          {"bisection_bandwidth_per_accelerator_Bps", s.bisection_bandwidth_per_accelerator},
          {"bisection_structural_per_accelerator_Bps", s.bisection_structural_per_accelerator},
          {"bisection_max_flow_per_accelerator_Bps", s.bisection_max_flow_per_accelerator},
          {"bisection_method", s.bisection_method},
          {"diameter_hops", s.diameter_hops},
          {"graph_diameter_hops", s.graph_diameter_hops},
          {"diameter_method", s.diameter_method},
          {"notes", s.notes},
          {"build_seconds", build_s}};
}

std::string summary_text(const scenario::Cluster& c, const topology::FabricSummary& s, double build_s)
{
  std::ostringstream o;
  o << "fabric             " << s.model << (c.fabric.preset.empty() ? "" : " (preset " + c.fabric.preset + ")") << "\n";
  o << "accelerators       " << s.accelerators << " (" << c.accelerator.id << ") in " << s.nodes << " nodes of "
    << c.accelerators_per_node << ", scale-up "
    << (c.accelerators_per_node > 1 ? c.scale_up.type + " " + gbps(c.scale_up.bandwidth) + " per accelerator"
                                    : std::string("none"))
    << "\n";
  for (const auto& p : c.pools) // mixed accelerators: each pool's nodes and scale-up (the line above: the first's)
    o << "  pool " << p.name << ": " << p.nodes << " nodes from node " << p.first_node << " of " << p.accelerator.id
      << ", scale-up " << p.scale_up.type << " " << gbps(p.scale_up.bandwidth) << "\n";
  static const char* tier_names[] = {"scale-up", "tier 1 (leaf/router)", "tier 2 (spine)", "tier 3 (core)"};
  o << "switches           ";
  bool first = true;
  for (size_t t = 0; t < s.switches_by_tier.size(); ++t)
    if (s.switches_by_tier[t] > 0) {
      o << (first ? "" : ", ") << tier_names[t] << " " << s.switches_by_tier[t];
      first = false;
    }
  o << "\n";
  o << "links              " << s.links << " (split-duplex), NIC " << gbps(c.fabric.nic_bandwidth)
    << " per accelerator";
  if (s.planes > 1)
    o << " over " << s.planes << " planes";
  o << "\n";
  if (!s.oversubscription.empty()) {
    o << "oversubscription   ";
    static const char* levels[] = {"leaf", "spine"};
    for (size_t i = 0; i < s.oversubscription.size(); ++i)
      o << (i ? ", " : "") << levels[i] << " " << ratio(s.oversubscription[i]);
    o << "\n";
  }
  if (s.ecmp_paths > 0)
    o << "ECMP               " << s.ecmp_paths << " hashed paths\n";
  if (!s.load_balance.empty())
    o << "load balance       " << s.load_balance
      << (s.load_balance == "ecmp" ? " (flows hashed onto trunk cables)\n" : " (even split)\n");
  o << "bisection          " << gbps(s.bisection_bandwidth_per_accelerator) << " per accelerator ("
    << s.bisection_method << "; structural " << gbps(s.bisection_structural_per_accelerator) << ", max-flow "
    << (s.bisection_max_flow_per_accelerator < 0 ? std::string("not computed: graph too large")
                                                 : gbps(s.bisection_max_flow_per_accelerator))
    << ")\n";
  o << "diameter           " << s.diameter_hops << " links routed, " << s.graph_diameter_hops << " in the graph ("
    << s.diameter_method << ")\n";
  for (const auto& n : s.notes)
    o << "note               " << n << "\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f s", build_s);
  o << "built in           " << buf << "\n";
  return o.str();
}

std::string models_text()
{
  std::ostringstream o;
  for (const auto& m : topology::fabric_models()) {
    o << m.name << ": " << m.doc << "\n  keys: type, preset, nic_bandwidth, latency";
    for (const auto& c : m.common)
      o << ", " << c;
    o << "\n";
    for (const auto& p : m.params)
      o << "  " << p.name << " (" << p.type << ", default " << (p.fallback.is_null() ? "required" : p.fallback.dump())
        << "): " << p.doc << "\n";
  }
  o << "presets:";
  for (const auto& id : scenario::Catalog::instance().fabric_ids())
    o << " " << id;
  o << "\n";
  return o.str();
}

scenario::Cluster load_cluster(const TopoOptions& opt)
{
  const auto& cat = scenario::Catalog::instance();
  if (!opt.preset.empty()) {
    if (!opt.scenario.empty())
      throw core::UsageError("topo: give a scenario file or --preset, not both");
    if (!cat.fabrics().contains(opt.preset)) {
      std::string ids;
      for (const auto& id : cat.fabric_ids())
        ids += (ids.empty() ? "" : ", ") + id;
      throw core::UsageError("topo: unknown fabric preset \"" + opt.preset + "\"; valid: " + ids);
    }
    nlohmann::json cluster = cat.fabrics().at(opt.preset).at("reference_cluster");
    cluster["fabric"] = {{"preset", opt.preset}};
    return scenario::parse_cluster_object(cluster, "/catalog/fabrics/" + opt.preset + "/reference_cluster", cat);
  }
  if (opt.scenario.empty())
    throw core::UsageError("topo: name a scenario file (or --preset NAME, or --models)");
  return scenario::load_scenario_file(opt.scenario, cat).cluster;
}

int cmd_topo(const TopoOptions& opt)
{
  if (opt.models) {
    std::cout << models_text();
    return 0;
  }
  core::check_outputs({{"scenario", opt.scenario}},
                      {{"--dot", opt.dot}, {"--platform-xml", opt.xml}, {"--json", opt.json}});
  const auto cluster = load_cluster(opt);
  const auto start = std::chrono::steady_clock::now();
  const auto fabric = topology::Fabric::build(cluster);
  const auto s = fabric.summary(); // with the graph analyses (bisection max-flow, diameters), timed with the build
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  core::OutputFiles files; // all or none
  if (!opt.dot.empty())
    files.add(opt.dot, topology::to_dot(fabric));
  if (!opt.xml.empty()) {
    topology::XmlHost host;
    host.speed = cluster.accelerator.peak(scenario::Precision::bf16);
    if (host.speed <= 0)
      host.speed = cluster.accelerator.peak_flops.empty() ? 1e12 : cluster.accelerator.peak_flops.begin()->second;
    char watts[96];
    std::snprintf(watts, sizeof watts, "%.6f:%.6f", cluster.accelerator.idle_power_w, cluster.accelerator.peak_power_w);
    host.wattage_per_state = watts;
    std::ostringstream xml;
    topology::write_platform_xml(fabric, host, xml);
    files.add(opt.xml, xml.str());
  }
  if (!opt.json.empty())
    files.add(opt.json, summary_json(s, build_s).dump(2) + "\n");
  files.commit();
  std::cout << summary_text(cluster, s, build_s);
  return 0;
}

} // namespace

void add_topo_commands(CLI::App& app, CommandTable& table)
{
  auto opt = std::make_shared<TopoOptions>();
  auto* topo = app.add_subcommand(
      "topo", "build a scenario's fabric and print its summary (switches, links, bisection, diameter)");
  topo->add_option("scenario", opt->scenario, "scenario JSON file");
  topo->add_option("--preset", opt->preset,
                   "build a fabric preset's reference cluster (platforms/fabrics.json) instead");
  topo->add_option("--dot", opt->dot, "write the fabric graph as Graphviz to FILE");
  topo->add_option("--platform-xml", opt->xml, "write a SimGrid platform (XML) of the fabric to FILE");
  topo->add_option("--json", opt->json, "write the summary as JSON to FILE");
  topo->add_flag("--models", opt->models, "list the fabric models, their keys and the presets");
  table.add(topo, [opt] { return cmd_topo(*opt); });
}

} // namespace trainsim::cli
