#pragma once
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/sweep/Progress.hpp"
#include "trainsim/sweep/Sweep.hpp"

namespace trainsim::sweep {

/// What to minimise: one figure (time: time_to_train_s, energy: energy_mwh, carbon: carbon_tco2e, coal:
/// carbon_coal_tco2e, cost: cost_rmb) or a weighted mix "time=0.6,carbon=0.4", scored as the weighted geometric mean
/// prod f_i^w_i (that is, sum w_i ln f_i): unit-free, and monotone in every figure, so lower bounds carry over.
struct Objective {
  std::vector<std::pair<std::string, double>> terms; ///< figure name -> weight
  /// Throws UsageError for an unknown figure or a bad weight.
  static Objective parse(const std::string& text);
  bool mixed() const { return terms.size() > 1; }
  std::string describe() const;
};

/// The figures of the objective for one configuration (simulated, or their analytic lower bounds).
struct Figures {
  double time_to_train_s = 0, energy_mwh = 0, carbon_tco2e = 0, coal_tco2e = 0, cost_rmb = 0;
};
double score(const Objective& o, const Figures& f);

/// A bound on one figure that a plan must meet: "time_to_train<=60d", "energy<=5000" (MWh), "carbon<=3000"
/// (t CO2e), "coal<=2000", "cost<=1e8" (RMB). Times take a unit (s, h, d, ...); the others are in the report's
/// units, optionally written after the number ("5000MWh", "3000t", "1e8RMB").
struct Constraint {
  std::string figure; ///< time, energy, carbon, coal, cost
  double max = 0;
  std::string text;
  /// Throws UsageError naming the option and the valid forms.
  static Constraint parse(const std::string& text);
};

/// One dimension of the search space: a scenario path and the values worth trying, given the base scenario
/// (resolved) and the values chosen so far. Dimensions whose path the scenario parser does not know yet
/// (e.g. /parallelism/cp before context parallelism exists) are dropped when the search starts.
struct SearchDimension {
  std::string name;       ///< short name: tp, pp, ...
  std::string pointer;    ///< scenario path
  nlohmann::json neutral; ///< the value that means "not used" (probe for support)
  std::function<std::vector<nlohmann::json>(const nlohmann::json& resolved,
                                            const std::map<std::string, nlohmann::json>& chosen)>
      values;
};
/// The built-in space, in enumeration order: tp, cp, pp, dp (derived), vpp, ep, micro_batch_size,
/// zero_stage, recompute, sequence_parallel. Adding a parallelism key is one entry here.
std::vector<SearchDimension> default_search_space(int max_tp);
/// The plan's dimensions beyond parallelism, searched only when --space names them (otherwise the scenario's
/// value): site (a preset of platforms/sites.json), grid, power_cap, start_date, accelerator, nodes, fabric. They come
/// first in the enumeration, so the parallelism dimensions divide the accelerators of the chosen cluster.
std::vector<SearchDimension> plan_search_space();

/// Simulates the first scenario of a group whose members differ only in their site (grid, start date, prices:
/// what no simulated activity depends on) and returns the report of every member, in order: one simulation
/// serves them all. Called in a worker child process.
using EvaluateGroup = std::function<std::vector<nlohmann::ordered_json>(const std::vector<scenario::Scenario>&)>;

struct SearchOptions {
  Objective objective;
  int top = 5;
  int jobs = 0;
  bool exhaustive = false;        ///< simulate every configuration that fits (the reference)
  int max_tp = 0;                 ///< 0: accelerators per node (tensor parallelism within the scale-up domain)
  std::vector<std::string> fixed; ///< dimension names kept at the base scenario's value
  std::map<std::string, std::vector<nlohmann::json>> restrict; ///< dimension name -> only these values
  std::vector<Constraint> constraints;                         ///< every one must hold for a plan to rank
  Progress::Mode progress = Progress::Mode::off;
};

struct SearchResult {
  struct Entry {
    size_t candidate = 0;                         ///< enumeration index
    std::map<std::string, nlohmann::json> config; ///< dimension name -> value
    nlohmann::json scenario;
    double score = 0, lower_bound = 0;
    Figures figures;
    nlohmann::ordered_json report;
    bool meets = true; ///< every constraint holds
  };
  std::vector<Entry> top;              ///< best first (score, then enumeration order)
  std::vector<Entry> evaluated_plans;  ///< every evaluated plan, in enumeration order (without its scenario)
  std::vector<std::string> dimensions; ///< the names searched
  std::vector<std::string> dropped;    ///< dimensions the scenario format does not support yet
  size_t candidates = 0;               ///< configurations enumerated
  size_t invalid = 0;                  ///< rejected by the scenario parser (divisibility, unsupported values)
  std::string first_invalid;           ///< the parser's message for the first invalid configuration
  size_t no_fit = 0;                   ///< pruned by the memory model, not simulated
  size_t pruned = 0;                   ///< pruned by the lower bound, not simulated
  size_t constrained = 0;              ///< a lower bound already breaks a constraint: not simulated
  size_t violated = 0;                 ///< evaluated, but a figure breaks a constraint
  size_t simulated = 0;                ///< step simulations (one per group of plans differing only in site)
  size_t evaluated = 0;                ///< plans whose figures were computed (simulated, or from a group's simulation)
  size_t failed = 0;
  double max_bound_ratio = 0; ///< exhaustive only: largest lower bound / simulated (must be <= 1)
};

/// Finds the best configurations: enumerate the space, drop those the parser rejects and those that do
/// not fit in memory (without simulating), compute an analytic lower bound of the objective for each
/// (compute seconds of the busiest stage as the step time; idle power over that time plus peak-idle power
/// over each stage's compute for the energy), then simulate in order of increasing bound and stop when
/// the next bound exceeds the N-th best simulated score (branch and bound: the same top N as simulating
/// everything, since no bound exceeds its configuration's simulated score).
SearchResult search(const nlohmann::json& base, const scenario::Catalog& catalog, const SearchOptions& options,
                    const EvaluateGroup& evaluate);
/// The same with a per-scenario evaluation (each member of a group evaluated on its own).
SearchResult search(const nlohmann::json& base, const scenario::Catalog& catalog, const SearchOptions& options,
                    const Evaluate& evaluate);

} // namespace trainsim::sweep
