#pragma once
#include "trainsim/scenario/Catalog.hpp"

namespace trainsim::workload {

/// Op classes of the compute efficiency model.
/// `fp8_gemm`: a linear layer run in FP8 by Transformer Engine (precision fp8): FP8 dense peak times
/// `fp8_gemm_efficiency`. Every other class runs at the 16-bit peak.
enum class KernelClass { gemm, attention, batched_gemm, memory, fp8_gemm };

/// One GPU kernel: FLOPs it performs and bytes it moves through HBM.
struct Kernel {
  KernelClass cls = KernelClass::gemm;
  double flops = 0;
  double bytes = 0;
};

/// Roofline with achievable fractions: time = max(FLOPs / (peak * eff_class), bytes / (HBM bw * eff_mem))
/// + a fixed per-kernel overhead. Small or skinny GEMMs become memory-bound by themselves; the
/// efficiencies are properties of the kernels and the device, the same for every scenario.
class Efficiency {
public:
  /// `clock`: the DVFS state as a fraction of the maximum clock (docs/energy-carbon.md): the compute-bound
  /// part of a kernel slows by 1/clock; HBM bandwidth and launch overhead do not depend on the core clock.
  /// `peak_flops`: the 16-bit dense peak (GEMMs outside FP8, attention, batched GEMMs); `fp8_peak_flops`:
  /// the FP8 dense peak for `fp8_gemm` kernels (0: the device has none).
  Efficiency(double peak_flops, double memory_bandwidth, const scenario::Calibration& cal, double clock = 1.0,
             double fp8_peak_flops = 0)
      : peak_(peak_flops), fp8_peak_(fp8_peak_flops), bw_(memory_bandwidth), cal_(cal), clock_(clock)
  {
  }
  double time(const Kernel& k) const;
  double peak() const { return peak_; }

private:
  double peak_, fp8_peak_, bw_;
  scenario::Calibration cal_;
  double clock_ = 1.0;
};

} // namespace trainsim::workload
