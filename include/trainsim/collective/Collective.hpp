#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace trainsim::collective {

enum class CollectiveKind { all_reduce, reduce_scatter, all_gather };
const char* to_string(CollectiveKind k);

/// One point-to-point transfer between members of the group (indices into the group).
struct Transfer {
  int src = 0;
  int dst = 0;
  double bytes = 0;
};

/// Transfers that run concurrently; a phase ends when all of them have.
struct Phase {
  std::vector<Transfer> transfers;
};

/// A collective expanded into phases. `latency_steps` is how many sequential message latencies it pays.
struct Schedule {
  std::vector<Phase> phases;
  int latency_steps = 0;
  /// Bytes each member sends, summed over phases.
  double bytes_sent_by(int member) const;
  double bytes_received_by(int member) const;
};

/// An algorithm that expands a collective over `group_size` members, where `bytes` is the size of
/// the full buffer (all-reduce input; reduce-scatter input; all-gather output).
class Algorithm {
public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;
  virtual Schedule expand(CollectiveKind kind, int group_size, double bytes) const = 0;
};

/// Registry of algorithms by name; filled by register_builtins().
class Registry {
public:
  using Factory = std::function<std::unique_ptr<Algorithm>()>;
  static Registry& instance();
  void add(const std::string& name, Factory f);
  /// Throws std::invalid_argument naming the valid algorithms.
  std::unique_ptr<Algorithm> create(const std::string& name) const;
  std::vector<std::string> names() const;

private:
  std::map<std::string, Factory> factories_;
};

void register_builtins();

/// Merges all phases into one: per (src, dst) pair the bytes are summed; latency_steps is kept.
/// Exact for symmetric algorithms on uncontended or symmetrically loaded links (every phase of a ring
/// moves the same bytes on the same links), and issues one flow per pair instead of one per phase.
Schedule aggregate(const Schedule& s);

} // namespace trainsim::collective
