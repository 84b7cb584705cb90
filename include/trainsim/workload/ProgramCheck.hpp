#pragma once
#include <string>

#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/Program.hpp"

namespace trainsim::workload {

/// A program that breaks what the simulator relies on. It is a bug in trainsim, never bad input: the
/// CLI reports it as an internal error (exit 3) naming the stage, the op and the source line of the check.
class ProgramError : public core::Error {
public:
  using core::Error::Error;
};

/// The invariants of the per-rank programs, checked after build_workload builds them (and so by `run`,
/// `validate`, `sweep`, `search` and the fuzzer) before anything reaches SimGrid:
/// - one program per pipeline stage, in order; figures finite and non-negative;
/// - every wait has its stream (StreamPlan) and something to wait for; every handed job is waited;
/// - every collective has its group members (tp, cp, ep, dp*cp, expert-data-parallel groups of >= 2);
/// - every receive has exactly one send of the same bytes from the stage it names, to another stage,
///   and the stages' programs can all run to their end (no receive waits for a send that never comes).
/// Throws ProgramError on the first violation.
void check_programs(const scenario::Scenario& s, const Workload& w);

/// The op as a message names it: kind, tag, pass, micro-batch, chunk.
std::string describe(const Op& op);
const char* to_string(OpKind kind);

} // namespace trainsim::workload
