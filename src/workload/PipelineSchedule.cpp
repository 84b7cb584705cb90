#include "trainsim/workload/PipelineSchedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace trainsim::workload {

std::vector<PipelineStep> one_f_one_b(int pp, int vpp, int stage, int m)
{
  if (pp < 1 || vpp < 1 || stage < 0 || stage >= pp || m < 1)
    throw std::invalid_argument("one_f_one_b: bad arguments");
  if (vpp > 1 && m % pp != 0)
    throw std::invalid_argument("one_f_one_b: interleaving needs micro-batches divisible by pp");
  const int total = m * vpp;
  int warmup = 0;
  if (vpp == 1)
    warmup = std::min(pp - stage - 1, m);
  else if (m == pp)
    warmup = total;
  else
    warmup = std::min((pp - stage - 1) * 2 + (vpp - 1) * pp, total);
  const int group = pp * vpp;
  auto step = [&](int k, bool fwd) {
    int in_group = k % group;
    int chunk = in_group / pp;
    if (!fwd)
      chunk = vpp - 1 - chunk;
    int mb = (k / group) * pp + k % pp;
    if (vpp == 1)
      mb = k;
    return PipelineStep{fwd, mb, chunk};
  };
  std::vector<PipelineStep> out;
  out.reserve(static_cast<size_t>(2 * total));
  for (int k = 0; k < warmup; ++k)
    out.push_back(step(k, true));
  for (int i = 0; i < total - warmup; ++i) {
    out.push_back(step(warmup + i, true));
    out.push_back(step(i, false));
  }
  for (int i = total - warmup; i < total; ++i)
    out.push_back(step(i, false));
  return out;
}

} // namespace trainsim::workload
