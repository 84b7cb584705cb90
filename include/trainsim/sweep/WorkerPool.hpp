#pragma once
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace trainsim::sweep {

/// How a point ended. `infeasible`: well-formed but cannot run (does not fit in memory); `invalid`: the
/// scenario is rejected by the parser; `failed`: the run crashed, was killed (e.g. by the host's
/// out-of-memory killer) or hit an internal error.
enum class Status { ok, infeasible, invalid, failed };
const char* to_string(Status s);
/// Throws core::ConfigError for an unknown name.
Status status_from_string(const std::string& s, const std::string& pointer);

struct Outcome {
  Status status = Status::ok;
  std::string error;             ///< one line, for every status but ok
  nlohmann::ordered_json result; ///< what the work returned (ok only)
};

/// A unit of work run in a forked child process: returns JSON, or throws (core::InfeasibleError ->
/// infeasible, other core::ConfigError -> invalid, anything else -> failed).
struct Task {
  size_t id = 0;
  std::function<nlohmann::ordered_json()> work;
};

/// Runs tasks in up to `jobs` child processes at a time (fork: each child is a copy of this process, so
/// a crash, an abort or an out-of-memory kill in one task is recorded and the others go on). `next` is
/// asked for a task whenever a slot is free; std::nullopt means "none now" (it is asked again after the
/// next task finishes) and the pool returns once it gave nullopt with nothing running. `done` is called in
/// this process, in completion order. Children die with this process (PR_SET_PDEATHSIG).
void run_pool(int jobs, const std::function<std::optional<Task>()>& next,
              const std::function<void(size_t id, Outcome outcome)>& done);

/// Number of processors this process may use (sched_getaffinity), at least 1.
int available_cores();

} // namespace trainsim::sweep
