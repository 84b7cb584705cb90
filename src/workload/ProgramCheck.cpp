#include "trainsim/workload/ProgramCheck.hpp"

#include <cmath>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace trainsim::workload {

const char* to_string(OpKind kind)
{
  switch (kind) {
  case OpKind::compute:
    return "compute";
  case OpKind::tp_comm:
    return "tp_comm";
  case OpKind::recv:
    return "recv";
  case OpKind::send:
    return "send";
  case OpKind::grad_bucket:
    return "grad_bucket";
  case OpKind::grad_wait:
    return "grad_wait";
  case OpKind::optimizer:
    return "optimizer";
  case OpKind::ep_comm:
    return "ep_comm";
  case OpKind::param_prefetch:
    return "param_prefetch";
  case OpKind::param_wait:
    return "param_wait";
  case OpKind::param_gather:
    return "param_gather";
  case OpKind::cp_comm:
    return "cp_comm";
  }
  return "unknown op";
}

std::string describe(const Op& op)
{
  std::string out = to_string(op.kind);
  if (!op.tag.empty())
    out += " " + op.tag;
  out += op.pass == Pass::forward ? " (forward" : op.pass == Pass::backward ? " (backward" : " (step";
  if (op.microbatch >= 0)
    out += ", micro-batch " + std::to_string(op.microbatch);
  out += ", chunk " + std::to_string(op.chunk);
  if (op.expert)
    out += ", experts";
  return out + ")";
}

namespace {

/// Where a check sits (std::source_location is not usable with clang 14 and libstdc++ 12, the fuzz tree's).
struct SourceLoc {
  const char* file = "";
  unsigned ln = 0;
  static constexpr SourceLoc current(const char* f = __builtin_FILE(), unsigned l = __builtin_LINE()) { return {f, l}; }
  const char* file_name() const { return file; }
  unsigned line() const { return ln; }
};

/// Throws the ProgramError of a failed check: where (stage and op), what, and the check's source line.
[[noreturn]] void fail(const std::string& where, const std::string& what, const SourceLoc& loc)
{
  std::string file = loc.file_name();
  if (const auto slash = file.find_last_of('/'); slash != std::string::npos)
    file = file.substr(slash + 1);
  throw ProgramError("internal: workload program check failed at " + where + ": " + what + " (" + file + ":" +
                     std::to_string(loc.line()) + "); please report this scenario");
}

/// Checks the workload as a whole (TRAINSIM_ASSERT-style: the message is built only on failure).
void require(bool ok, const char* what, const SourceLoc loc = SourceLoc::current())
{
  if (!ok)
    fail("the workload", what, loc);
}

bool finite_nonnegative(double x)
{
  return std::isfinite(x) && x >= 0;
}

std::string where(int stage, size_t index, const StageProgram& prog)
{
  return "stage " + std::to_string(stage) + ", op " + std::to_string(index) + " of " + std::to_string(prog.ops.size()) +
         ", " + describe(prog.ops[index]);
}

/// The ops of one stage, one by one: figures, the groups and streams each op needs, waits.
class StageChecker {
public:
  StageChecker(const scenario::Scenario& s, const Workload& w, int stage)
      : s_(s), w_(w), stage_(stage), prog_(w.stages[static_cast<size_t>(stage)])
  {
  }

  void run()
  {
    if (!finite_nonnegative(prog_.compute_s))
      fail("stage " + std::to_string(stage_), "compute seconds not finite and non-negative", SourceLoc::current());
    for (i_ = 0; i_ < prog_.ops.size(); ++i_)
      check(prog_.ops[i_]);
    i_ = prog_.ops.empty() ? 0 : prog_.ops.size() - 1;
    if (prog_.ops.empty())
      fail("stage " + std::to_string(stage_), "empty program (no optimizer step)", SourceLoc::current());
    expect(!unwaited_bucket_, "a gradient bucket is handed to the data-parallel stream after the last grad_wait");
    expect(waited_ == issued_, "a parameter all-gather is prefetched but never waited");
  }

private:
  void expect(bool ok, const char* what, const SourceLoc loc = SourceLoc::current()) const
  {
    if (!ok)
      fail(where(stage_, i_, prog_), what, loc);
  }

  void check(const Op& op)
  {
    const auto& p = s_.parallelism;
    expect(finite_nonnegative(op.seconds), "seconds not finite and non-negative");
    expect(finite_nonnegative(op.bytes), "bytes not finite and non-negative");
    expect(op.steps >= 0, "negative step count");
    expect(op.chunk >= 0 && op.chunk < p.chunks(), "chunk outside 0..chunks-1");
    expect(op.microbatch >= -1 && op.microbatch < w_.microbatches, "micro-batch outside the step's");
    expect(!op.expert || op.kind == OpKind::grad_bucket || op.kind == OpKind::param_gather,
           "only gradient buckets and parameter all-gathers run over the expert-data-parallel groups");
    switch (op.kind) {
    case OpKind::compute:
      break;
    case OpKind::optimizer:
      expect(!unwaited_bucket_,
             "optimizer step before the gradient buckets handed before it are reduced (no grad_wait)");
      break;
    case OpKind::tp_comm:
      expect(p.tp >= 2, "tensor-parallel traffic without a tensor-parallel group (tp 1)");
      break;
    case OpKind::ep_comm:
      expect(p.ep >= 2, "expert-parallel all-to-all without an expert-parallel group (ep 1)");
      break;
    case OpKind::cp_comm:
      expect(p.cp >= 2, "context-parallel ring traffic without a context-parallel group (cp 1)");
      expect(op.steps >= 1, "context-parallel ring traffic over no ring steps");
      break;
    case OpKind::send:
    case OpKind::recv:
      check_p2p(op);
      break;
    default:
      check_stream_op(op);
      break;
    }
  }

  void check_p2p(const Op& op) const
  {
    expect(op.peer >= 0 && op.peer < s_.parallelism.pp, "pipeline peer outside 0..pp-1");
    expect(op.peer != stage_, "pipeline message to its own stage (no route from a rank to itself)");
    expect(!op.tag.empty(), "pipeline message without a tag");
  }

  /// The data-parallel and parameter streams: each op needs its stream, and each wait something to wait for.
  void check_stream_op(const Op& op)
  {
    const auto& streams = w_.streams;
    if (op.expert)
      expect(streams.expert_dp > 1, "expert job without an expert-data-parallel group of two or more members");
    if (op.group != DpGroup::all)
      expect(op.kind == OpKind::grad_bucket && streams.shard > 1, "HSDP shard/replica job without HSDP shard groups");
    switch (op.kind) {
    case OpKind::grad_bucket:
      expect(streams.grad, "gradient bucket without a data-parallel stream");
      unwaited_bucket_ = true;
      break;
    case OpKind::grad_wait:
      expect(streams.grad, "grad_wait without a data-parallel stream");
      unwaited_bucket_ = false;
      break;
    case OpKind::param_gather:
      expect(streams.grad, "parameter all-gather without a data-parallel stream");
      expect(op.steps == 0 || op.steps == 1, "param_gather steps is neither 0 (waited) nor 1 (overlapped)");
      if (op.steps == 0)
        unwaited_bucket_ = false; // it waits for every job handed before it
      break;
    case OpKind::param_prefetch:
      expect(streams.params, "parameter prefetch without a parameter all-gather stream");
      ++issued_;
      break;
    case OpKind::param_wait:
      expect(streams.params, "param_wait without a parameter all-gather stream");
      expect(op.steps >= 1 && op.steps <= issued_, "param_wait for an all-gather not prefetched before it");
      expect(op.steps >= waited_, "param_wait for fewer all-gathers than an earlier wait");
      waited_ = op.steps;
      break;
    default:
      expect(false, "unknown op kind");
    }
  }

  const scenario::Scenario& s_;
  const Workload& w_;
  int stage_;
  const StageProgram& prog_;
  size_t i_ = 0;
  bool unwaited_bucket_ = false;
  int issued_ = 0, waited_ = 0;
};

struct Message {
  int from_stage = 0;
  size_t op = 0;
  bool received = false;
};

/// Sends by tag; the keys view the programs' tags (the programs outlive the check).
using Sends = std::unordered_map<std::string_view, Message>;

/// Every receive has exactly one send of its bytes from the stage it names, sent to it.
Sends match_messages(const Workload& w)
{
  Sends sends;
  size_t count = 0;
  for (const auto& st : w.stages)
    for (const auto& op : st.ops)
      count += op.kind == OpKind::send ? 1 : 0;
  sends.reserve(count);
  const auto here = SourceLoc::current();
  for (size_t st = 0; st < w.stages.size(); ++st)
    for (size_t i = 0; i < w.stages[st].ops.size(); ++i)
      if (w.stages[st].ops[i].kind == OpKind::send &&
          !sends.emplace(w.stages[st].ops[i].tag, Message{static_cast<int>(st), i}).second)
        fail(where(static_cast<int>(st), i, w.stages[st]), "a second send of the same tag", here);
  for (size_t st = 0; st < w.stages.size(); ++st)
    for (size_t i = 0; i < w.stages[st].ops.size(); ++i) {
      const Op& r = w.stages[st].ops[i];
      if (r.kind != OpKind::recv)
        continue;
      const auto at = [&] { return where(static_cast<int>(st), i, w.stages[st]); };
      auto it = sends.find(r.tag);
      if (it == sends.end())
        fail(at(), "a receive that no stage sends", here);
      Message& m = it->second;
      const Op& snd = w.stages[static_cast<size_t>(m.from_stage)].ops[m.op];
      if (m.received)
        fail(at(), "a second receive of the same tag", here);
      if (snd.peer != static_cast<int>(st) || r.peer != m.from_stage)
        fail(at(),
             "sender and receiver do not name each other (sent by stage " + std::to_string(m.from_stage) +
                 " to stage " + std::to_string(snd.peer) + ")",
             here);
      if (snd.bytes != r.bytes)
        fail(at(), "receives " + std::to_string(r.bytes) + " bytes but " + std::to_string(snd.bytes) + " are sent",
             here);
      m.received = true;
    }
  for (size_t st = 0; st < w.stages.size(); ++st) // in program order: the same first failure every time
    for (size_t i = 0; i < w.stages[st].ops.size(); ++i)
      if (w.stages[st].ops[i].kind == OpKind::send && !sends.at(w.stages[st].ops[i].tag).received)
        fail(where(static_cast<int>(st), i, w.stages[st]), "a send that no stage receives", here);
  return sends;
}

/// Runs the programs abstractly (a receive blocks until its send was issued; a send returns at once, or, when
/// blocking, once its receive is posted): every stage must reach its end, or the simulation would deadlock.
void check_progress(const Workload& w, Sends& sends)
{
  for (auto& [tag, m] : sends)
    m.received = false; // from here: issued
  std::vector<size_t> pos(w.stages.size(), 0);
  std::unordered_map<std::string_view, int> blocked; // tag -> stage waiting for it
  std::unordered_map<std::string_view, int> senders; // tag -> stage whose blocking send waits for its receiver
  std::deque<int> ready;
  for (size_t st = 0; st < w.stages.size(); ++st)
    ready.push_back(static_cast<int>(st));
  while (!ready.empty()) {
    const int st = ready.front();
    ready.pop_front();
    const auto& ops = w.stages[static_cast<size_t>(st)].ops;
    for (size_t& k = pos[static_cast<size_t>(st)]; k < ops.size(); ++k) {
      const Op& op = ops[k];
      if (op.kind == OpKind::send) {
        const bool issued = sends.at(op.tag).received;
        sends.at(op.tag).received = true;
        if (auto b = blocked.find(op.tag); b != blocked.end()) {
          ready.push_back(b->second);
          blocked.erase(b);
        } else if (op.blocking && !issued) { // waits here until its receiver takes it (pipeline_p2p)
          senders.emplace(op.tag, st);
          break;
        }
      } else if (op.kind == OpKind::recv && !sends.at(op.tag).received) {
        blocked.emplace(op.tag, st);
        break;
      } else if (op.kind == OpKind::recv) {
        if (auto b = senders.find(op.tag); b != senders.end()) {
          ready.push_back(b->second); // the blocked sender's send now completes: it resumes after it
          ++pos[static_cast<size_t>(b->second)];
          senders.erase(b);
        }
      }
    }
  }
  for (size_t st = 0; st < w.stages.size(); ++st)
    if (pos[st] < w.stages[st].ops.size())
      fail(where(static_cast<int>(st), pos[st], w.stages[st]),
           "waits for a message whose send comes after a receive that waits for this stage (deadlock)",
           SourceLoc::current());
}

void check_plan(const scenario::Scenario& s, const Workload& w)
{
  const auto& p = s.parallelism;
  require(static_cast<long>(w.stages.size()) == p.pp, "one program per pipeline stage");
  for (size_t st = 0; st < w.stages.size(); ++st)
    require(w.stages[st].stage == static_cast<int>(st), "programs in stage order");
  require(static_cast<double>(p.tp) * p.cp * p.dp * p.pp == static_cast<double>(s.cluster.total_accelerators()),
          "tp*cp*dp*pp ranks on as many accelerators");
  require(w.microbatches >= 1, "at least one micro-batch per step");
  require(finite_nonnegative(w.model_flops_per_step) && finite_nonnegative(w.hardware_flops_per_step),
          "FLOPs per step finite and non-negative");
  require(w.hardware_flops_per_step >= w.model_flops_per_step, "hardware FLOPs at least the model FLOPs");
  require(finite_nonnegative(w.memory.total()), "memory footprint finite and non-negative");
  require(std::isfinite(w.clock) && w.clock > 0 && w.clock <= 1, "compute clock in (0, 1]");
  require(finite_nonnegative(w.compute_activity), "compute activity finite and non-negative");
  const auto& streams = w.streams;
  require(!streams.grad || s.grad_replicas() >= 2, "a data-parallel stream needs dp*cp >= 2 members");
  require(!streams.params || streams.grad, "a parameter stream runs over the data-parallel group");
  require(streams.expert_dp >= 1 && static_cast<long>(streams.expert_dp) * p.ep == s.grad_replicas(),
          "expert-data-parallel groups of dp*cp/ep members");
}

} // namespace

void check_programs(const scenario::Scenario& s, const Workload& w)
{
  check_plan(s, w);
  for (int st = 0; st < static_cast<int>(w.stages.size()); ++st)
    StageChecker(s, w, st).run();
  auto sends = match_messages(w);
  check_progress(w, sends);
}

} // namespace trainsim::workload
