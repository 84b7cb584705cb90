#include "trainsim/workload/Efficiency.hpp"

#include <algorithm>
#include <cmath>

namespace trainsim::workload {

double gemm_shape_factor(double m, double n, double k, int sm_count)
{
  if (m <= 0 || n <= 0 || sm_count <= 0)
    return 1.0;
  constexpr double tiles_mn[][2] = {{128, 256}, {256, 128}};
  constexpr double min_split_depth = 256; // a split-K slice keeps at least this many k per tile
  const double sms = sm_count;
  double best = 0;
  for (const auto& t : tiles_mn) {
    const double tiles = std::ceil(m / t[0]) * std::ceil(n / t[1]);
    double slots = std::ceil(tiles / sms) * sms; // tile slots of the waves the GEMM occupies
    // One partial wave: split-K spreads the tiles' k over more SMs.
    if (tiles < sms) {
      const double splits = std::max(1.0, std::min(std::floor(sms / tiles), std::floor(k / min_split_depth)));
      slots = sms / splits;
    }
    best = std::max(best, m * n / (t[0] * t[1] * slots));
  }
  return std::min(1.0, best);
}

double Efficiency::fraction(const Kernel& k) const
{
  switch (k.cls) {
  case KernelClass::fp8_gemm:
    return cal_.fp8_gemm_efficiency;
  case KernelClass::gemm:
    if (ceiling_.enabled() && k.m > 0 && k.n > 0)
      return ceiling_.max_fraction * gemm_shape_factor(k.m / std::max(1, k.row_chunks), k.n, k.k, ceiling_.sm_count);
    return cal_.gemm_efficiency;
  case KernelClass::attention:
    return cal_.attention_efficiency;
  case KernelClass::batched_gemm:
    return cal_.batched_gemm_efficiency;
  case KernelClass::memory:
    return 1.0;
  }
  return 1.0;
}

double Efficiency::time_at(const Kernel& k, double eff, double peak) const
{
  double compute = k.flops > 0 ? k.flops / (peak * eff * clock_) : 0.0;
  double memory = k.bytes > 0 ? k.bytes / (bw_ * cal_.memory_efficiency) : 0.0;
  return std::max(compute, memory) + cal_.kernel_overhead_s;
}

double Efficiency::time(const Kernel& k) const
{
  const double peak = k.cls == KernelClass::fp8_gemm && fp8_peak_ > 0 ? fp8_peak_ : peak_;
  return time_at(k, fraction(k), peak);
}

double Efficiency::shape_cost(const Kernel& k) const
{
  if (k.cls != KernelClass::gemm || !ceiling_.enabled() || k.m <= 0 || k.n <= 0)
    return 0.0;
  return time(k) - time_at(k, ceiling_.max_fraction, peak_);
}

} // namespace trainsim::workload
