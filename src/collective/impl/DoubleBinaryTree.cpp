#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// NCCL's binary tree over ranks 0..n-1 (ncclGetBtree): rank r's parent flips its lowest set bit and
/// sets the next one; rank 0 is the root with one child.
int btree_parent(int n, int r)
{
  if (r == 0)
    return -1;
  int bit = 1;
  while (bit < n && !(bit & r))
    bit <<= 1;
  int up = (r ^ bit) | (bit << 1);
  if (up >= n)
    up = r ^ bit;
  return up;
}

/// The second tree (ncclGetDtree): mirrored for even n, shifted by one for odd n, so that the leaves of
/// one tree are the interior nodes of the other.
int dtree_parent(int n, int r)
{
  if (n % 2 == 1) {
    const int shifted = (r - 1 + n) % n;
    const int up = btree_parent(n, shifted);
    return up < 0 ? -1 : (up + 1) % n;
  }
  const int up = btree_parent(n, n - 1 - r);
  return up < 0 ? -1 : n - 1 - up;
}

struct Tree {
  std::vector<int> parent;
  std::vector<int> height; ///< 0 for leaves
  std::vector<int> depth;  ///< 0 for the root
  int root = 0;
};

Tree make_tree(int n, bool second)
{
  Tree t;
  t.parent.resize(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    t.parent[static_cast<size_t>(r)] = second ? dtree_parent(n, r) : btree_parent(n, r);
    if (t.parent[static_cast<size_t>(r)] < 0)
      t.root = r;
  }
  t.depth.assign(static_cast<size_t>(n), 0);
  t.height.assign(static_cast<size_t>(n), 0);
  for (int r = 0; r < n; ++r) {
    int d = 0;
    for (int x = r; t.parent[static_cast<size_t>(x)] >= 0; x = t.parent[static_cast<size_t>(x)])
      ++d;
    t.depth[static_cast<size_t>(r)] = d;
  }
  for (int r = 0; r < n; ++r) { // height(x) = max over leaves below x of their depth difference
    int h = 0;
    for (int x = r; x >= 0; x = t.parent[static_cast<size_t>(x)], ++h)
      t.height[static_cast<size_t>(x)] = std::max(t.height[static_cast<size_t>(x)], h);
  }
  return t;
}

/// NCCL's double binary tree all-reduce: two binary trees (a member is interior in at most one of them),
/// each carrying half the buffer, pipelined in c chunks.
/// A member of height h sends chunk j of its tree's half to its parent in step j + h (reduce); the root
/// of height H has chunk j after step j + H - 1 and members at depth d >= 0 forward it to their children
/// in step j + H + d (broadcast), so reduce and broadcast overlap. Steps: c + 2H - 1, every step one
/// message latency; the number of chunks minimises (c + 2H - 1)(a + 2S/(cB)): c = sqrt((2H - 1) 2S / (aB)),
/// between 1 and 256. Alpha-beta: the sum over steps of a + (busiest link's chunks) S/(2cB), which tends to
/// 2 log2(p) a + 2 S/B for large messages (a member interior in one tree sends 4 chunks per step).
/// Reduce-scatter and all-gather have no tree form in NCCL and run as ring (as NCCL_ALGO=Tree does).
class DoubleBinaryTree final : public Algorithm {
public:
  std::string name() const override { return "tree"; }
  bool supports(CollectiveKind kind) const override { return kind != CollectiveKind::all_to_all; }
  std::string why_unsupported(CollectiveKind kind, int, const Topology&) const override
  {
    return supports(kind) ? "" : "tree does not implement all_to_all; use direct or pairwise";
  }
  Schedule expand(CollectiveKind kind, int p, double bytes, const Topology& topo) const override
  {
    require(kind, p, topo);
    if (kind != CollectiveKind::all_reduce)
      return Registry::instance().create("ring")->expand(kind, p, bytes, topo);
    Schedule s;
    if (p <= 1)
      return s;
    const Tree trees[2] = {make_tree(p, false), make_tree(p, true)};
    const int H = std::max(trees[0].height[static_cast<size_t>(trees[0].root)],
                           trees[1].height[static_cast<size_t>(trees[1].root)]);
    const int c = chunks(p, bytes, H, topo);
    const double chunk = bytes / 2 / c;
    const int steps = c + 2 * H - 1;
    for (int step = 0; step < steps; ++step) {
      Phase ph;
      for (const Tree& t : trees) {
        const int Ht = t.height[static_cast<size_t>(t.root)];
        for (int r = 0; r < p; ++r) {
          const int parent = t.parent[static_cast<size_t>(r)];
          if (parent < 0)
            continue;
          const int up = step - t.height[static_cast<size_t>(r)]; // chunk r sends up now
          if (up >= 0 && up < c)
            ph.transfers.push_back({r, parent, chunk});
          // The parent forwards chunk j down to r in step j + Ht + depth(parent).
          const int down = step - Ht - t.depth[static_cast<size_t>(parent)];
          if (down >= 0 && down < c)
            ph.transfers.push_back({parent, r, chunk});
        }
      }
      std::sort(ph.transfers.begin(), ph.transfers.end(),
                [](const Transfer& a, const Transfer& b) { return a.src != b.src ? a.src < b.src : a.dst < b.dst; });
      s.phases.push_back(std::move(ph));
    }
    s.latency_steps = steps;
    return s;
  }

private:
  static int chunks(int p, double bytes, int H, const Topology& topo)
  {
    const bool spans = topo.nodes(p).size() > 1;
    const LinkCost& l = spans ? topo.scale_out : topo.scale_up;
    const double a = l.latency + topo.step_latency;
    if (!(a > 0) || !(l.bandwidth > 0))
      return 1;
    const double c = std::sqrt((2.0 * H - 1) * 2 * bytes / (a * l.bandwidth));
    return static_cast<int>(std::clamp(std::round(c), 1.0, 256.0));
  }
};

} // namespace

void register_double_binary_tree()
{
  Registry::instance().add("tree", [] { return std::make_unique<DoubleBinaryTree>(); });
}

} // namespace trainsim::collective
