#pragma once

#include <cstddef>
#include <vector>

#include "trainsim/topology/Fabric.hpp"

namespace trainsim::sim {

/// Simulated flows per directed link (index 2 * link + up), counted route by route: the reductions
/// (Reduction.cpp) and the reuse of identical activities (Reuse.cpp) both ask which links a flow shares.
class LinkLoad {
public:
  explicit LinkLoad(const topology::Fabric& fabric) : fabric_(fabric), load_(2 * fabric.links().size(), 0) {}
  /// The directed-link index of one hop.
  static size_t directed(const topology::Hop& h) { return 2 * static_cast<size_t>(h.link) + (h.up ? 1 : 0); }
  /// The hops of the route a -> b (valid until the next call on this object).
  const std::vector<topology::Hop>& route(int a, int b)
  {
    hops_.clear();
    if (a != b)
      fabric_.route(a, b, hops_);
    return hops_;
  }
  /// One flow a -> b, n times (n = -1 takes it off again).
  void add(int a, int b, int n = 1)
  {
    for (const auto& h : route(a, b))
      load_[directed(h)] += n;
  }
  /// Every flow of `ring` (member i to i+1), n times.
  void add_ring(const std::vector<int>& ring, int n = 1)
  {
    for (size_t i = 0; i < ring.size(); ++i)
      add(ring[i], ring[(i + 1) % ring.size()], n);
  }
  int at(size_t directed_link) const { return load_[directed_link]; }
  /// Directed links of the route a -> b, appended to `out`.
  void links(int a, int b, std::vector<size_t>& out)
  {
    for (const auto& h : route(a, b))
      out.push_back(directed(h));
  }
  const topology::Fabric& fabric() const { return fabric_; }

private:
  const topology::Fabric& fabric_;
  std::vector<int> load_;
  std::vector<topology::Hop> hops_;
};

} // namespace trainsim::sim
