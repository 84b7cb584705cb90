#include "trainsim/platform/PlatformXml.hpp"

#include <nlohmann/json.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

#include "trainsim/core/ChildProcess.hpp"
#include "trainsim/core/Errors.hpp"

namespace trainsim::platform {

namespace sg4 = simgrid::s4u;

namespace {

nlohmann::json load_here(const std::string& path, const std::vector<std::pair<int, int>>& pairs)
{
  static char arg0[] = "trainsim";
  static char arg1[] = "--log=root.thresh:critical";
  int argc = 2;
  char* argv[] = {arg0, arg1, nullptr};
  sg4::Engine e(&argc, argv);
  e.load_platform(path);
  e.seal_platform(); // zones compute their routing structures when sealed (also done by Engine::run)
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& [s, d] : pairs) {
    std::vector<sg4::Link*> links;
    double latency = 0;
    sg4::Host::by_name("acc" + std::to_string(s))
        ->route_to(sg4::Host::by_name("acc" + std::to_string(d)), links, &latency);
    nlohmann::json r = nlohmann::json::array();
    for (const auto* l : links)
      if (l->get_sharing_policy() != sg4::Link::SharingPolicy::FATPIPE)
        r.push_back(l->get_name());
    routes.push_back(r);
  }
  return {{"hosts", e.get_host_count()}, {"links", e.get_link_count()}, {"routes", routes}};
}

} // namespace

LoadedPlatform load_platform_xml(const std::string& path, const std::vector<std::pair<int, int>>& pairs)
{
  auto j = core::run_in_child([&] { return load_here(path, pairs); }, "SimGrid loading " + path);
  if (j.contains("error"))
    throw core::Error("SimGrid could not load " + path + ": " + j.at("error").get<std::string>());
  LoadedPlatform lp;
  lp.hosts = j.at("hosts").get<long>();
  lp.links = j.at("links").get<long>();
  for (const auto& r : j.at("routes"))
    lp.routes.push_back(r.get<std::vector<std::string>>());
  return lp;
}

} // namespace trainsim::platform
