#pragma once
#include "trainsim/scenario/Catalog.hpp"

namespace trainsim::workload {

/// Op classes of the compute efficiency model.
enum class KernelClass { gemm, attention, batched_gemm, memory };

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
  Efficiency(double peak_flops, double memory_bandwidth, const scenario::Calibration& cal, double clock = 1.0)
      : peak_(peak_flops), bw_(memory_bandwidth), cal_(cal), clock_(clock)
  {
  }
  double time(const Kernel& k) const;
  double peak() const { return peak_; }

private:
  double peak_, bw_;
  scenario::Calibration cal_;
  double clock_ = 1.0;
};

} // namespace trainsim::workload
