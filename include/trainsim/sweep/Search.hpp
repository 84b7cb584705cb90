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

/// What to minimise: one figure (time: time_to_train_s, energy: energy_mwh, carbon: carbon_tco2e) or a
/// weighted mix "time=0.6,carbon=0.4", scored as the weighted geometric mean prod f_i^w_i (that is,
/// sum w_i ln f_i): unit-free, and monotone in every figure, so lower bounds carry over.
struct Objective {
  std::vector<std::pair<std::string, double>> terms; ///< figure name -> weight
  /// Throws UsageError for an unknown figure or a bad weight.
  static Objective parse(const std::string& text);
  bool mixed() const { return terms.size() > 1; }
  std::string describe() const;
};

/// The figures of the objective for one configuration (simulated, or their analytic lower bounds).
struct Figures {
  double time_to_train_s = 0, energy_mwh = 0, carbon_tco2e = 0;
};
double score(const Objective& o, const Figures& f);

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

struct SearchOptions {
  Objective objective;
  int top = 5;
  int jobs = 0;
  bool exhaustive = false;        ///< simulate every configuration that fits (the reference)
  int max_tp = 0;                 ///< 0: accelerators per node (tensor parallelism within the scale-up domain)
  std::vector<std::string> fixed; ///< dimension names kept at the base scenario's value
  std::map<std::string, std::vector<nlohmann::json>> restrict; ///< dimension name -> only these values
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
  };
  std::vector<Entry> top;              ///< best first (score, then enumeration order)
  std::vector<std::string> dimensions; ///< the names searched
  std::vector<std::string> dropped;    ///< dimensions the scenario format does not support yet
  size_t candidates = 0;               ///< configurations enumerated
  size_t invalid = 0;                  ///< rejected by the scenario parser (divisibility, unsupported values)
  std::string first_invalid;           ///< the parser's message for the first invalid configuration
  size_t no_fit = 0;                   ///< pruned by the memory model, not simulated
  size_t pruned = 0;                   ///< pruned by the lower bound, not simulated
  size_t simulated = 0;
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
                    const Evaluate& evaluate);

} // namespace trainsim::sweep
