#include "trainsim/platform/PlatformXml.hpp"

#include <cerrno>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

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
    sg4::Host::by_name("acc" + std::to_string(s))->route_to(sg4::Host::by_name("acc" + std::to_string(d)), links, &latency);
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
  int fds[2];
  if (pipe(fds) != 0)
    throw core::Error(std::string("internal: pipe failed: ") + std::strerror(errno));
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0)
    throw core::Error(std::string("internal: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = load_here(path, pairs).dump();
    } catch (const std::exception& ex) {
      out = nlohmann::json{{"error", ex.what()}}.dump();
    }
    const char* p = out.data();
    size_t left = out.size();
    while (left > 0) {
      ssize_t n = write(fds[1], p, left);
      if (n <= 0)
        _exit(4);
      p += n;
      left -= static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (text.empty())
    throw core::Error("internal: SimGrid died loading " + path);
  auto j = nlohmann::json::parse(text);
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
