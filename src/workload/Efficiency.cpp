#include "trainsim/workload/Efficiency.hpp"

#include <algorithm>

namespace trainsim::workload {

double Efficiency::time(const Kernel& k) const
{
  double eff = 1.0;
  double peak = peak_;
  switch (k.cls) {
  case KernelClass::fp8_gemm:
    eff = cal_.fp8_gemm_efficiency;
    peak = fp8_peak_ > 0 ? fp8_peak_ : peak_;
    break;
  case KernelClass::gemm:
    eff = cal_.gemm_efficiency;
    break;
  case KernelClass::attention:
    eff = cal_.attention_efficiency;
    break;
  case KernelClass::batched_gemm:
    eff = cal_.batched_gemm_efficiency;
    break;
  case KernelClass::memory:
    eff = 1.0;
    break;
  }
  double compute = k.flops > 0 ? k.flops / (peak * eff * clock_) : 0.0;
  double memory = k.bytes > 0 ? k.bytes / (bw_ * cal_.memory_efficiency) : 0.0;
  return std::max(compute, memory) + cal_.kernel_overhead_s;
}

} // namespace trainsim::workload
