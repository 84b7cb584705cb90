#include "trainsim/workload/PipelineSchedule.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>

namespace trainsim::workload {

std::vector<PipelineStep> one_f_one_b(int pp, int vpp, int stage, int m)
{
  if (pp < 1 || vpp < 1 || stage < 0 || stage >= pp || m < 1)
    throw core::InvalidArgument("one_f_one_b: bad arguments");
  if (vpp > 1 && m % pp != 0)
    throw core::InvalidArgument("one_f_one_b: interleaving needs micro-batches divisible by pp");
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
    return PipelineStep{fwd, mb, chunk, fwd ? StepKind::forward : StepKind::backward};
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

const std::vector<std::string>& schedule_names()
{
  static const std::vector<std::string> names{"1f1b", "interleaved", "zb-h1", "zb-v", "dualpipe"};
  return names;
}

bool splits_backward(const std::string& schedule)
{
  return schedule == "zb-h1" || schedule == "zb-v" || schedule == "dualpipe";
}

std::vector<PipelineStep> zb_h1(int pp, int stage, int m)
{
  if (pp < 1 || stage < 0 || stage >= pp || m < 1)
    throw core::InvalidArgument("zb_h1: bad arguments");
  // Qi et al. 2024, sec. 2.1 (ZB-H1): 1F1B's forwards and input-gradient backwards, each stage's W
  // passes lagging its B passes by `stage`, so every stage holds pp micro-batches at its peak and the
  // deferred W passes fill the cool-down.
  std::vector<PipelineStep> out;
  out.reserve(static_cast<size_t>(3 * m));
  const int warmup = std::min(pp - 1 - stage, m);
  int w = 0;
  auto push = [&](StepKind k, int mb) { out.push_back(PipelineStep{k == StepKind::forward, mb, 0, k}); };
  for (int k = 0; k < warmup; ++k)
    push(StepKind::forward, k);
  for (int j = 0; j < m - warmup; ++j) {
    push(StepKind::forward, j + warmup);
    push(StepKind::backward_input, j);
    if (j >= stage)
      push(StepKind::backward_weight, w++);
  }
  for (int j = m - warmup; j < m; ++j) {
    push(StepKind::backward_input, j);
    if (w <= j - stage)
      push(StepKind::backward_weight, w++);
  }
  while (w < m)
    push(StepKind::backward_weight, w++);
  return out;
}

std::vector<PipelineStep> zb_v(int pp, int stage, int m)
{
  if (pp < 2 || stage < 0 || stage >= pp || m < 2 * pp - 1)
    throw core::InvalidArgument("zb_v: bad arguments");
  // Qi et al. 2024's handcrafted ZB-V (sail-sg/zero-bubble-pipeline-parallelism, get_zb_v_schedule): chunk 0
  // walks down the ranks, chunk 1 back up; W follows B at once in the steady state, the cool-down defers it.
  std::vector<PipelineStep> out;
  out.reserve(static_cast<size_t>(6 * m));
  int f[2] = {0, 0}, b[2] = {0, 0}, w[2] = {0, 0};
  auto F = [&](int c) { out.push_back(PipelineStep{true, f[c]++, c, StepKind::forward}); };
  auto B = [&](int c) { out.push_back(PipelineStep{false, b[c]++, c, StepKind::backward_input}); };
  auto W = [&](int c) { out.push_back(PipelineStep{false, w[c]++, c, StepKind::backward_weight}); };
  for (int i = 0; i < 2 * (pp - stage) - 1; ++i) // warm-up: chunk 0 forwards
    F(0);
  for (int i = 0; i < stage; ++i) { // chunk 1 and chunk 0 forwards
    F(1);
    F(0);
  }
  for (int i = 0; i < pp - stage; ++i) { // chunk 1's first backwards
    F(1);
    B(1);
    W(1);
  }
  while (f[1] < f[0] || f[0] < m) { // steady state: F B W of both chunks
    if (f[0] < m)
      F(0);
    B(0);
    W(0);
    F(1);
    B(1);
    W(1);
  }
  for (int i = 0; i < stage; ++i) { // cool-down: the B passes first, their W deferred
    B(0);
    B(1);
  }
  for (int i = 0; i < pp - stage; ++i) {
    B(0);
    W(0);
  }
  while (w[1] < b[1])
    W(1);
  while (w[0] < b[0])
    W(0);
  return out;
}

std::vector<PipelineStep> dualpipe(int pp, int stage, int m)
{
  if (pp < 2 || pp % 2 != 0 || stage < 0 || stage >= pp || m < 2 * pp || m % 2 != 0)
    throw core::InvalidArgument("dualpipe: bad arguments");
  // deepseek-ai/DualPipe, DualPipe.step: a schedule phase p is chunk p on the first half of the ranks and
  // chunk 1 - p on the second half (phase 0: the direction entering nearest to this rank).
  const int half = pp / 2, hr = std::min(stage, pp - 1 - stage), flip = stage >= half ? 1 : 0;
  const bool middle = hr == half - 1;
  std::vector<PipelineStep> out;
  out.reserve(static_cast<size_t>(3 * m));
  int nf[2] = {0, 0}, nb[2] = {0, 0};
  std::deque<PipelineStep> weights; // W of the B passes run with zero bubble, first in first out
  auto F = [&](int phase, bool overlapped = false) {
    const int c = phase ^ flip;
    out.push_back(PipelineStep{true, nf[c]++, c, StepKind::forward, overlapped});
  };
  auto B = [&](int phase, bool zb = false) {
    const int c = phase ^ flip, mb = nb[c]++;
    out.push_back(PipelineStep{false, mb, c, zb ? StepKind::backward_input : StepKind::backward});
    if (zb)
      weights.push_back(PipelineStep{false, mb, c, StepKind::backward_weight});
  };
  auto W = [&] {
    out.push_back(weights.front());
    weights.pop_front();
  };
  auto FB = [&](int p0, int p1) { // an overlapped pair: F of phase p0 beside the whole backward of p1
    F(p0, true);
    B(p1);
  };
  for (int i = 0; i < (half - hr - 1) * 2; ++i) // 1: nF0
    F(0);
  for (int i = 0; i < hr + 1; ++i) { // 2: nF0F1
    F(0);
    F(1);
  }
  for (int i = 0; i < half - hr - 1; ++i) { // 3: nB1W1F1, zero bubble
    B(1, true);
    W();
    F(1);
  }
  for (int i = 0; i < m / 2 - pp + hr + 1; ++i) { // 4: nF0B1F1B0, the main step
    // The middle ranks do not overlap their first two, to shorten the bubble.
    if (i == 0 && middle) {
      F(0);
      B(1);
    } else {
      FB(0, 1);
    }
    FB(1, 0);
  }
  for (int i = 0; i < half - hr - 1; ++i) { // 5: nB1F1B0
    B(1);
    FB(1, 0);
  }
  bool zb = false;
  for (int i = 0; i < hr + 1; ++i) { // 6: nB1B0, the second half with zero bubble
    if (i == (hr + 1) / 2 && hr % 2 == 1)
      zb = true;
    B(1, zb);
    if (i == (hr + 1) / 2 && hr % 2 == 0)
      zb = true;
    B(0, zb);
  }
  for (int i = 0; i < half - hr - 1; ++i) { // 7: nWB0, zero bubble
    W();
    B(0, true);
  }
  while (!weights.empty()) // 8: nW
    W();
  return out;
}

std::vector<std::vector<PipelineStep>> schedule_orders(const std::string& schedule, int pp, int vpp, int m)
{
  std::vector<std::vector<PipelineStep>> out;
  for (int s = 0; s < pp; ++s) {
    if (schedule == "1f1b" || schedule == "interleaved")
      out.push_back(one_f_one_b(pp, vpp, s, m));
    else if (schedule == "zb-h1" && vpp == 1)
      out.push_back(zb_h1(pp, s, m));
    else if (schedule == "zb-v" && vpp == 2)
      out.push_back(zb_v(pp, s, m));
    else if (schedule == "dualpipe" && vpp == 1)
      out.push_back(dualpipe(pp, s, m));
    else
      throw core::InvalidArgument("schedule_orders: unknown schedule " + schedule + " or bad vpp");
  }
  return out;
}

double in_flight_microbatches(const std::string& schedule, int pp, int vpp, int stage, long m)
{
  const double md = static_cast<double>(m);
  if (schedule == "zb-h1")
    return std::min<double>(md, pp);
  if (schedule == "zb-v") // 2 pp chunk activations of the rank's two (1F1B's first stage, Qi et al. 2024)
    return std::min<double>(md, pp);
  if (schedule == "dualpipe") // PP + 1 chunks' activations (DeepSeek-V3 Table 2) of the rank's two
    return std::min<double>(md, pp + 1.0) / 2.0;
  if (vpp > 1)
    return std::min<double>(md, (pp - stage) + (pp - 1.0) / vpp);
  return std::min<double>(pp - stage, md);
}

double bubble_closed_form(const std::string& schedule, int pp, int vpp, long m, double f, double b, double w,
                          double imbalance)
{
  const double p1 = pp - 1.0;
  double bubble = p1 * (f + b + w) / vpp;
  if (schedule == "zb-h1")
    bubble = p1 * (f + b - w);
  if (schedule == "zb-v") // the makespan of zb_v's order minus the busy time, per chunk (half the rank's passes)
    bubble = std::max({p1 * b, 2.0 * p1 * (b - w), p1 * (2.0 * f - b) - (f - b), p1 * w - (w - std::max(f, b))}) / 2.0;
  if (schedule == "dualpipe") // (PP/2 - 1)(F&B + B - 3W), F&B = f + b + w and B = b + w (Table 2)
    bubble = (pp / 2.0 - 1.0) * ((f + b + w) + (b + w) - 3.0 * w);
  bubble = std::max(0.0, bubble);
  const double md = static_cast<double>(m), t = f + b + w, paced = std::max(1.0, imbalance) * t;
  const double idle = bubble + md * (paced - t), step = bubble + md * paced;
  return step > 0 ? idle / step : 0.0;
}

} // namespace trainsim::workload
