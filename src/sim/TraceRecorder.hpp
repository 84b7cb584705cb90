#pragma once
#include <vector>

#include "trainsim/platform/Platform.hpp"
#include "trainsim/sim/Trace.hpp"
#include "trainsim/workload/Program.hpp"

namespace simgrid::s4u {
class Link;
}

namespace trainsim::sim {

/// Records the ops of one chosen step and samples the bytes carried by every fabric tier at the op
/// boundaries (SimGrid's link load plugin, which must be initialised before the platform is built:
/// `TraceRecorder::init_plugin()`). Off unless SimOptions::trace_step asks for it.
class TraceRecorder {
public:
  static void init_plugin();
  /// `chunks`: model chunks per stage (vpp), to name ops. The tiers are sampled at op boundaries at most
  /// every `min_interval` seconds (each sample reads every link, so this bounds the cost on large fabrics).
  TraceRecorder(const platform::Platform& platform, int step, int stages, int chunks, double min_interval);

  bool records(int step) const { return step == trace_.step; }
  /// True between the traced step's start and end (for actors that do not count steps).
  bool active() const { return active_; }
  void begin_step(int stage, int accelerator, double now);
  void end_step(double now);
  void add(TraceEvent e);
  /// One op of a stage's program that ran over [t0, t1); for a receive, [t0, split) was spent waiting
  /// for the peer (pipeline bubble) and [split, t1) on the exposed transfer.
  void op(int stage, const workload::Op& op, double t0, double split, double t1);
  /// The end of a stage's step: draining its sends from t_sends, the barrier from t_barrier to t_end.
  void step_end(int stage, double t_sends, double t_barrier, double t_end);
  /// A gradient collective served by a stage's data-parallel stream.
  void dp_collective(int stage, const char* kind, double bytes, double t0, double t1);
  StepTrace take() { return std::move(trace_); }

private:
  void sample(double now);
  StepTrace trace_;
  std::vector<std::vector<simgrid::s4u::Link*>> tier_links_;
  std::vector<double> last_bytes_;
  double last_t_ = 0;
  int chunks_ = 1;
  double min_interval_ = 0;
  bool active_ = false;
  bool started_ = false;
};

} // namespace trainsim::sim
