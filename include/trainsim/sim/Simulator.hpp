#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/result/Breakdown.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/sim/Trace.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"

namespace trainsim::sim {

/// Where one representative rank of a pipeline stage spent one step (the parts of result::Breakdown, which
/// sum to the step) and the energy of its accelerator.
struct StageBreakdown : result::Breakdown {
  double energy_j = 0; ///< energy of this rank's accelerator in the step (host energy plugin)
};

/// How much of the cluster a simulation runs in detail (docs/performance.md).
/// full: every data-parallel replica's pipeline and every tensor-parallel rank's transfers;
/// reduced: one representative replica, and one rail of the data-parallel rings where rails are symmetric.
enum class Fidelity { automatic, full, reduced };

/// `automatic` resolves to reduced wherever the reduction is exact (no structural asymmetry) and to full
/// where it is not, up to this many accelerators (reduced above, saying so).
using scenario::full_fidelity_max_accelerators;

struct SimOptions {
  /// Overrides the scenario's /simulation/fidelity unless automatic.
  Fidelity fidelity = Fidelity::automatic;
  /// Issue each collective as one aggregated flow per member pair (true) or phase by phase (false).
  bool aggregate_collectives = true;
  /// Record the per-op timeline and fabric-tier load of this step (0-based; clamped to the last
  /// simulated step) into SimResult::trace; -1 records nothing (the default: no cost).
  int trace_step = -1;
  /// Reuse of identical activities (docs/performance.md): with the scenario's /simulation/reuse, an
  /// activity no other traffic can change (a compute op, a tensor-parallel collective alone on its links)
  /// is simulated once per distinct shape and replayed; false simulates every one.
  bool reuse = true;
};

struct SimResult {
  double step_time_s = 0;                   ///< mean over simulated steps
  std::vector<double> step_times_s;         ///< each simulated step
  std::vector<StageBreakdown> stages;       ///< per stage, mean per step
  double accelerator_energy_per_step_j = 0; ///< all accelerators of the cluster, by symmetry
  long transfers = 0;                       ///< network activities issued
  long executions = 0;                      ///< compute activities issued
  double simulated_seconds = 0;
  std::string fidelity;          ///< "full" or "reduced"
  std::string fidelity_reason;   ///< why that fidelity (choose_fidelity)
  long replayed = 0;             ///< activities replayed from an identical one (reuse), not simulated
  int simulated_replicas = 0;    ///< data-parallel replicas run as actors
  int simulated_rails = 0;       ///< tensor-parallel ranks whose data-parallel rings ran on the fabric
  std::string rail_note;         ///< why every rail was simulated, when rails are not symmetric
  double ecmp_trunk_share = 1.0; ///< slowest hashed ring flow's rate vs spraying (docs/fabrics.md)
  double ecmp_p2p_share = 1.0;   ///< slowest hashed pipeline transfer's rate vs its NIC rate (docs/fabrics.md)
  StepTrace trace;               ///< filled only when SimOptions::trace_step >= 0
  /// Payload bytes of the simulated flows per step by kind ("tp", "pp", "dp"): what the simulated ranks
  /// sent (reduced fidelity issues fewer flows), for model tests of traffic volumes.
  std::map<std::string, double> comm_bytes;
  /// Steady-state extrapolation (docs/performance.md): the micro-batch counts simulated, empty when the step
  /// was simulated as it is, and why (report fields simulation.extrapolated_from, simulation.extrapolation).
  /// Set by simulate() in the parent, not carried by to_json.
  std::vector<long> extrapolated_from;
  std::string extrapolation;

  nlohmann::json to_json() const;
  static SimResult from_json(const nlohmann::json& j);
};

/// Simulates `steps` training steps of one representative pipeline (one rank per stage in full detail,
/// identical data- and tensor-parallel replicas by symmetry) on the whole SimGrid platform; the
/// data-parallel collectives of every tensor-parallel rank of a stage run on the fabric, so contention
/// between rails and oversubscribed tiers is simulated. Runs in a child process so that each
/// simulation gets a fresh SimGrid engine. `w` may come without its programs
/// (workload::build_workload_figures, where will_extrapolate holds): they are built here if the whole step
/// must be simulated after all (the extrapolation does not apply, or a trace is recorded).
SimResult simulate(const scenario::Scenario& s, const workload::Workload& w, const topology::Fabric& fabric,
                   const scenario::Calibration& cal, const SimOptions& options = {});

/// Whether simulate() tries steady-state extrapolation in micro-batches (/simulation/extrapolate and the
/// step's micro-batches): it then simulates fewer micro-batches, and needs the step's own programs only if
/// the extrapolation does not apply.
bool will_extrapolate(const scenario::Scenario& s, const SimOptions& options = {});

/// One job of a shared simulation: its scenario (its own /cluster is not used; its nodes are `nodes`), its
/// workload and the nodes of the shared fabric its ranks run on (its node k is the fabric's node nodes[k]).
struct SharedJob {
  const scenario::Scenario* scenario = nullptr;
  const workload::Workload* workload = nullptr;
  std::vector<int> nodes;
};

/// A fabric tier's load over a shared simulation (tiers as topology::LinkKind names).
struct TierLoad {
  std::string tier;
  long links = 0;          ///< the tier's links in the fabric
  double utilisation = 0;  ///< bytes carried / (both directions' capacity of all its links x simulated time)
  double busiest_link = 0; ///< the busiest link direction's mean load / its capacity
};

/// What simulate_shared returns: one SimResult per job (in order) and the tiers' load.
struct SharedResult {
  std::vector<SimResult> jobs;
  std::vector<TierLoad> tiers;
  double simulated_seconds = 0; ///< until the last job's last step
};

/// Several jobs at once on one fabric in one SimGrid simulation (docs/cluster.md, "Jobs sharing the
/// fabric"): every job's ranks run at full fidelity (no symmetry reduction: the jobs break it) on its nodes,
/// so its flows contend with the other jobs' on every link they share. Each job runs its own
/// /simulation/steps (fixed: automatic steps are not decided here). The jobs' nodes must be disjoint and
/// within the fabric; they all take the accelerator of `platform_scenario` (one pool). Reuse of identical
/// activities is off (another job's traffic can change any of them). Runs in a child process.
SharedResult simulate_shared(const std::vector<SharedJob>& jobs, const topology::Fabric& fabric,
                             const scenario::Scenario& platform_scenario, const scenario::Calibration& cal);

/// The fidelity a simulation of `s` with `options` uses, and why.
struct FidelityChoice {
  Fidelity fidelity = Fidelity::reduced;
  std::string reason;
};
/// The command line's choice, else the scenario's /simulation/fidelity, else (`auto`) reduced unless the
/// scenario is structurally asymmetric (then full up to full_fidelity_max_accelerators).
FidelityChoice choose_fidelity(const scenario::Scenario& s, const topology::Fabric& fabric, const SimOptions& options);

/// Collectives on a bare platform, for model tests: `kind` (a collective::CollectiveKind) over every
/// group at once with the named `algorithm` (collective registry); returns the simulated duration in seconds.
double simulate_collective(const scenario::Scenario& s, const topology::Fabric& fabric,
                           const scenario::Calibration& cal, const std::vector<std::vector<int>>& groups, int kind,
                           double bytes, bool aggregate, const std::string& algorithm = "ring");

} // namespace trainsim::sim
