#pragma once
#include <string>
#include <utility>
#include <vector>

namespace trainsim::platform {

/// What SimGrid made of a platform file (trainsim topo --platform-xml output).
struct LoadedPlatform {
  long hosts = 0;
  long links = 0;
  /// For each requested (src, dst) accelerator pair: the names of the links SimGrid routes through, in
  /// order, as "name:UP" / "name:DOWN" for split-duplex links (FATPIPE padding links omitted).
  std::vector<std::vector<std::string>> routes;
};

/// Loads `path` with simgrid::s4u::Engine::load_platform in a child process (the engine is a process-wide
/// singleton) and asks SimGrid for the routes between accelerators `acc<src>` and `acc<dst>`.
LoadedPlatform load_platform_xml(const std::string& path, const std::vector<std::pair<int, int>>& pairs);

} // namespace trainsim::platform
