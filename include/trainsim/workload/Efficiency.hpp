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
  /// GEMMs: the output is m x n, the reduction k deep (0: shape unknown, no shape factor). `row_chunks`: the
  /// GEMM runs as that many GEMMs of m / row_chunks rows each (tp_comm_overlap's pipelined chunks).
  double m = 0, k = 0, n = 0;
  int row_chunks = 1;
};

/// The shape-aware GEMM ceiling of an accelerator (docs/calibration.md#gemm-ceiling): the best-shape matmul
/// fraction of the dense peak (measured MAMF) and the SMs the output tiles are spread over.
struct GemmCeiling {
  int sm_count = 0;        ///< streaming multiprocessors (0: unknown)
  double max_fraction = 0; ///< best-shape matmul throughput over the dense peak (0: unknown)
  bool enabled() const { return sm_count > 0 && max_fraction > 0; }
};

/// Tile and wave quantisation of an m x n (k deep) GEMM on `sm_count` SMs: the best over the large 16-bit
/// tensor-core tiles (128x256, 256x128) of m n / (tile_m tile_n x SMs x waves), waves =
/// ceil(tiles / SMs); a single partial wave is split along k (split-K, slices of at least 256) to fill the SMs.
/// NVIDIA Deep Learning Performance Guide, "Matrix Multiplication Background" (tile and wave quantization).
double gemm_shape_factor(double m, double n, double k, int sm_count);

/// Roofline with achievable fractions: time = max(FLOPs / (peak * eff_class), bytes / (HBM bw * eff_mem))
/// + a fixed per-kernel overhead. Small or skinny GEMMs become memory-bound by themselves; the
/// efficiencies are properties of the kernels and the device, the same for every scenario.
class Efficiency {
public:
  /// `clock`: the DVFS state as a fraction of the maximum clock (docs/energy-carbon.md): the compute-bound
  /// part of a kernel slows by 1/clock; HBM bandwidth and launch overhead do not depend on the core clock.
  /// `peak_flops`: the 16-bit dense peak (GEMMs outside FP8, attention, batched GEMMs); `fp8_peak_flops`:
  /// the FP8 dense peak for `fp8_gemm` kernels (0: the device has none).
  /// `ceiling`: the accelerator's shape-aware GEMM ceiling; 16-bit GEMMs of known shape then reach
  /// max_fraction x gemm_shape_factor of the peak; without it (or shape unknown), `gemm_efficiency`.
  Efficiency(double peak_flops, double memory_bandwidth, const scenario::Calibration& cal, double clock = 1.0,
             double fp8_peak_flops = 0, GemmCeiling ceiling = {})
      : peak_(peak_flops), fp8_peak_(fp8_peak_flops), bw_(memory_bandwidth), cal_(cal), clock_(clock), ceiling_(ceiling)
  {
  }
  double time(const Kernel& k) const;
  double peak() const { return peak_; }
  /// The fraction of the peak a kernel's compute-bound part runs at (its class's efficiency).
  double fraction(const Kernel& k) const;
  /// A 16-bit GEMM: its time minus its time at the best-shape fraction (what tile and wave quantisation cost);
  /// 0 for other kernels or without the ceiling.
  double shape_cost(const Kernel& k) const;
  const GemmCeiling& ceiling() const { return ceiling_; }

private:
  double time_at(const Kernel& k, double eff, double peak) const;
  double peak_, fp8_peak_, bw_;
  scenario::Calibration cal_;
  double clock_ = 1.0;
  GemmCeiling ceiling_;
};

} // namespace trainsim::workload
