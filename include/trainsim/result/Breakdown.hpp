#pragma once
#include <array>
#include <cstddef>
#include <map>
#include <string>

/// The result table of a step (issue 16): where a step's time goes, as one list of parts that the simulator
/// fills and every output (JSON report, CSV, console, HTML, the child process's result) iterates. A neutral
/// module: it includes nothing of trainsim, so `sim`, `metrics` and `report` may all include it.
namespace trainsim::result {

/// Where one representative rank of a pipeline stage spent one step, or (the run's breakdown) the mean over
/// stages. Seconds; the parts sum to the step time.
struct Breakdown {
  double compute = 0;
  double tp_comm = 0; ///< exposed tensor-parallel communication
  double pp_comm = 0; ///< exposed pipeline transfers
  double dp_comm = 0; ///< exposed data-parallel gradient and parameter communication
  double bubble = 0;  ///< waiting for another stage's compute (and the end-of-step barrier)
  double optimizer = 0;
  double ep_comm = 0;   ///< expert-parallel all-to-alls (blocking: all exposed)
  double cp_comm = 0;   ///< exposed context-parallel KV exchange (beyond the attention it overlaps)
  double host = 0;      ///< host and framework overhead with the accelerator idle (docs/at-scale.md)
  double straggler = 0; ///< compute and optimizer time added by variability and stragglers (docs/at-scale.md)
  /// Communication busy time by kind ("tp", "pp", "dp", "ep", ...): how long the rank had communication of that
  /// kind in flight or was blocked on it (union of the simulated start-to-end intervals), hidden or not.
  std::map<std::string, double> comm_total;
  /// Collective efficiency's cost (docs/at-scale.md#collective-efficiency): the communication time per step that
  /// NCCL's protocol model adds over the alpha-beta bound, summed over this rank's tensor-parallel, expert and
  /// data-parallel collective calls in closed form, hidden or not; not a part (it is inside the communication).
  double collective_efficiency = 0;
  double total() const;
};

/// When a part appears in the JSON report and the console: always, or only for the scenarios that have it.
enum class Shown { always, moe, context_parallel };

/// One part of the step: its field, its JSON key (run breakdown and `stages[]`), its console label (summary)
/// and column (per-stage table), and the CSV column (the JSON key).
struct Part {
  double Breakdown::*field;
  const char* key;
  const char* label;
  const char* column;
  Shown shown;
};

/// Every part, in report order. A new part is a field above and a row here; the outputs follow.
inline constexpr std::array<Part, 10> parts = {{
    {&Breakdown::compute, "compute_s", "compute", "compute", Shown::always},
    {&Breakdown::tp_comm, "tp_comm_exposed_s", "exposed TP communication", "TP exposed", Shown::always},
    {&Breakdown::pp_comm, "pp_comm_exposed_s", "exposed PP communication", "PP exposed", Shown::always},
    {&Breakdown::dp_comm, "dp_comm_exposed_s", "exposed DP communication", "DP exposed", Shown::always},
    {&Breakdown::bubble, "pipeline_bubble_s", "pipeline bubble", "bubble", Shown::always},
    {&Breakdown::optimizer, "optimizer_s", "optimizer", "optimizer", Shown::always},
    {&Breakdown::ep_comm, "ep_comm_exposed_s", "expert all-to-all (EP)", "EP exposed", Shown::moe},
    {&Breakdown::cp_comm, "cp_comm_exposed_s", "exposed CP communication", "CP exposed", Shown::context_parallel},
    {&Breakdown::host, "host_overhead_s", "host overhead", "host", Shown::always},
    {&Breakdown::straggler, "straggler_s", "stragglers and variability", "straggler", Shown::always},
}};

/// The CSV keeps the columns it had before the table (the first parts, then the busy times and
/// accelerator-hours); the parts after them follow at the end, so existing columns keep their positions.
inline constexpr std::size_t csv_leading_parts = 6;

/// Whether `part` is reported for a scenario with (or without) experts and context parallelism.
constexpr bool shown(const Part& part, bool moe, bool context_parallel)
{
  return part.shown == Shown::always || (part.shown == Shown::moe && moe) ||
         (part.shown == Shown::context_parallel && context_parallel);
}

inline double Breakdown::total() const
{
  double t = 0;
  for (const auto& p : parts)
    t += this->*p.field;
  return t;
}

} // namespace trainsim::result
