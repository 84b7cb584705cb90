#pragma once
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/topology/FabricRegistry.hpp"

namespace trainsim::topology {

/// Reads a model's declared parameters from `cluster.fabric.params`: the default comes from the
/// declaration, errors name `/cluster/fabric/<key>`, and finish() rejects undeclared keys.
class Params {
public:
  Params(const FabricModel& model, const scenario::Fabric& fabric);
  long get_int(const std::string& key, long min, long max);
  std::vector<long> get_int_list(const std::string& key, size_t min_size, size_t max_size, long min, long max);
  double get_number(const std::string& key, double min, double max);
  double get_bandwidth(const std::string& key, double fallback);
  double get_ratio(const std::string& key);
  /// A string that must be one of `valid`.
  std::string get_choice(const std::string& key, const std::vector<std::string>& valid);
  void finish() const;
  static std::string pointer(const std::string& key) { return "/cluster/fabric/" + key; }

private:
  const ParamSpec& spec(const std::string& key) const;
  const nlohmann::json& value(const std::string& key);
  const FabricModel& model_;
  const nlohmann::json& params_;
  std::set<std::string> read_;
};

/// Deterministic 64-bit mix of a flow's endpoints (ECMP hash).
inline unsigned long long flow_hash(long long src, long long dst)
{
  unsigned long long x = static_cast<unsigned long long>(src) * 0x9E3779B97F4A7C15ULL ^
                         (static_cast<unsigned long long>(dst) + 0x632BE59BD9B4E019ULL);
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

/// Adds the node's scale-up domain (a star per node of more than one accelerator) and returns the index
/// of the first scale-up link (link of accelerator a = base + a); -1 when nodes hold one accelerator.
int add_scale_up(const scenario::Cluster& c, Fabric& f, int accelerator_vertex_base);

} // namespace trainsim::topology
