#include <algorithm>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "trainsim/collective/Collective.hpp"

namespace trainsim::collective {

namespace {

/// Recursive halving-doubling (Rabenseifner's all-reduce; MPICH's recursive-halving reduce-scatter and
/// recursive-doubling all-gather).
///
/// Power-of-two groups (p = 2^k): reduce-scatter by recursive halving — in step i (i = 1..k) each member
/// exchanges half of what it still holds with the member 2^(k-i) away, so it sends S/2, S/4, ..., S/p;
/// all-gather by recursive doubling, the same steps in reverse; all-reduce is the two in sequence.
/// Alpha-beta: reduce-scatter and all-gather k a + (p-1)/p S/B, all-reduce 2k a + 2(p-1)/p S/B.
///
/// Other sizes (the usual pre/post step): with q = 2^floor(log2 p) and r = p - q, the first 2r members
/// pair up; even member 2i hands its data to 2i+1 in a pre-step, sits out, and gets its result from 2i+1 in
/// a post-step; the q remaining members run the power-of-two algorithm. What moves in the extra steps:
///   all-reduce:      pre S (the whole input), post S (the whole result): 2(k+1) steps;
///   reduce-scatter:  pre S, post S/p (the idle member's block); members that stand for two blocks
///                    carry them through the halving, so halving steps move block counts, not halves: k+2 steps;
///   all-gather:      pre S/p (the idle member's block), post S - S/p: k+2 steps.
class HalvingDoubling final : public Algorithm {
public:
  std::string name() const override { return "halving_doubling"; }
  bool supports(CollectiveKind kind) const override { return kind != CollectiveKind::all_to_all; }
  std::string why_unsupported(CollectiveKind kind, int, const Topology&) const override
  {
    return supports(kind) ? "" : "halving_doubling does not implement all_to_all; use direct or pairwise";
  }
  Schedule expand(CollectiveKind kind, int p, double S, const Topology& topo) const override
  {
    require(kind, p, topo);
    Schedule s;
    if (p <= 1)
      return s;
    int q = 1;
    while (q * 2 <= p)
      q *= 2;
    const int r = p - q;
    // Active members: 2i+1 for i < r, then 2r..p-1; weight = the share of the buffer's blocks it owns at
    // the end of a reduce-scatter (two blocks for a member standing in for an idle one).
    std::vector<int> active;
    std::vector<double> weight;
    for (int i = 0; i < r; ++i) {
      active.push_back(2 * i + 1);
      weight.push_back(2.0 / p);
    }
    for (int m = 2 * r; m < p; ++m) {
      active.push_back(m);
      weight.push_back(1.0 / p);
    }
    if (kind == CollectiveKind::all_reduce) // the reduced buffer is split evenly among the q actives
      std::fill(weight.begin(), weight.end(), 1.0 / q);
    auto sum_w = [&](int lo, int hi) { return std::accumulate(weight.begin() + lo, weight.begin() + hi, 0.0); };
    auto pre_post = [&](double bytes, bool to_idle) {
      Phase ph;
      for (int i = 0; i < r; ++i)
        ph.transfers.push_back(to_idle ? Transfer{2 * i + 1, 2 * i, bytes} : Transfer{2 * i, 2 * i + 1, bytes});
      if (r > 0)
        s.phases.push_back(std::move(ph));
    };
    auto halving = [&] { // every active's range of active indices halves each step
      std::vector<std::pair<int, int>> range(static_cast<size_t>(q), {0, q});
      for (int d = q / 2; d >= 1; d /= 2) {
        Phase ph;
        for (int i = 0; i < q; ++i) {
          auto& [lo, hi] = range[static_cast<size_t>(i)];
          const int mid = lo + d;
          const bool low = i < mid;
          const int partner = low ? i + d : i - d;
          const double bytes = S * (low ? sum_w(mid, hi) : sum_w(lo, mid));
          ph.transfers.push_back({active[static_cast<size_t>(i)], active[static_cast<size_t>(partner)], bytes});
          (low ? hi : lo) = mid;
        }
        s.phases.push_back(std::move(ph));
      }
    };
    auto doubling = [&] { // every active sends all it holds; ranges double
      std::vector<std::pair<int, int>> range;
      for (int i = 0; i < q; ++i)
        range.emplace_back(i, i + 1);
      for (int d = 1; d < q; d *= 2) {
        Phase ph;
        for (int i = 0; i < q; ++i) {
          const int partner = i ^ d;
          const auto [lo, hi] = range[static_cast<size_t>(i)];
          ph.transfers.push_back(
              {active[static_cast<size_t>(i)], active[static_cast<size_t>(partner)], S * sum_w(lo, hi)});
        }
        for (int i = 0; i < q; ++i) {
          auto& rg = range[static_cast<size_t>(i)];
          const int block = 2 * d;
          rg = {i / block * block, i / block * block + block};
        }
        s.phases.push_back(std::move(ph));
      }
    };
    switch (kind) {
    case CollectiveKind::all_reduce:
      pre_post(S, false);
      halving();
      doubling();
      pre_post(S, true);
      break;
    case CollectiveKind::reduce_scatter:
      pre_post(S, false);
      halving();
      pre_post(S / p, true);
      break;
    case CollectiveKind::all_gather:
      pre_post(S / p, false);
      doubling();
      pre_post(S - S / p, true);
      break;
    case CollectiveKind::all_to_all:
      break;
    }
    for (auto& ph : s.phases) // deterministic order
      std::sort(ph.transfers.begin(), ph.transfers.end(),
                [](const Transfer& a, const Transfer& b) { return a.src < b.src; });
    s.latency_steps = static_cast<int>(s.phases.size());
    return s;
  }
};

} // namespace

void register_halving_doubling()
{
  Registry::instance().add("halving_doubling", [] { return std::make_unique<HalvingDoubling>(); });
}

} // namespace trainsim::collective
