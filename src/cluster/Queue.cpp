#include "trainsim/cluster/Queue.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <random>
#include <set>
#include <tuple>

#include "trainsim/cluster/Scheduler.hpp"
#include "trainsim/core/Errors.hpp"

namespace trainsim::cluster {

namespace {

enum class Kind : int { job_end = 0, repair = 1, failure = 2, submit = 3 };

struct Event {
  double t = 0;
  Kind kind = Kind::submit;
  long seq = 0;    ///< insertion order: the last tie-break, so the order never depends on the heap
  int who = 0;     ///< job index (job_end, submit) or pool index (repair, failure)
  int version = 0; ///< job_end: the job's end estimate it belongs to (a later one makes it stale)
  bool operator>(const Event& o) const { return std::tie(t, kind, seq) > std::tie(o.t, o.kind, o.seq); }
};

/// A uniform draw in [0, 1) from the top 53 bits: the same on every standard library.
double uniform(std::mt19937_64& rng)
{
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

class QueueSim {
public:
  QueueSim(const std::vector<QueuePool>& pools, const std::vector<QueueJob>& jobs, const std::string& scheduler,
           double period_s, uint64_t seed, bool failures, long max_events, const ShareFn* share)
      : pools_(pools), jobs_(jobs), scheduler_(make_scheduler(scheduler)), period_(period_s), rng_(seed),
        failures_(failures), max_events_(max_events), share_(share), busy_(pools.size(), 0), down_(pools.size(), 0),
        pending_(pools.size()), running_(pools.size()), repairs_(pools.size()), held_(pools.size())
  {
    res_.start_s.assign(jobs.size(), -1);
    res_.end_s.assign(jobs.size(), -1);
    res_.nodes.resize(jobs.size());
    for (size_t p = 0; p < pools.size(); ++p) {
      held_[p].assign(static_cast<size_t>(pools[p].nodes), 0);
      topology_.push_back(pools[p].topology);
      if (topology_.back().leaf.size() != static_cast<size_t>(pools[p].nodes))
        topology_.back() = NodeTopology{std::vector<int>(held_[p].size(), 0), std::vector<int>(held_[p].size(), 0)};
    }
    end_at_.assign(jobs.size(), 0);
    factor_.assign(jobs.size(), 1.0);
    done_work_.assign(jobs.size(), 0);
    since_.assign(jobs.size(), 0);
    version_.assign(jobs.size(), 0);
    res_.failures.assign(pools.size(), 0);
    res_.pool_busy_node_s.assign(pools.size(), 0);
    res_.period_s = period_s;
  }

  QueueResult run()
  {
    for (size_t j = 0; j < jobs_.size(); ++j)
      push(jobs_[j].submit_s, Kind::submit, static_cast<int>(j));
    for (size_t p = 0; p < pools_.size(); ++p)
      next_failure(static_cast<int>(p), 0.0);
    double now = 0;
    sample(0.0);
    while (!events_.empty()) {
      const double t = events_.top().t;
      if (done_ == jobs_.size() && t > period_)
        break;
      integrate(now, t);
      now = t;
      while (!events_.empty() && events_.top().t == t) {
        const Event e = events_.top();
        events_.pop();
        handle(e);
        if (++handled_ > max_events_)
          stuck();
      }
      schedule(t);
      sample(t);
    }
    integrate(now, std::max(now, period_));
    return std::move(res_);
  }

private:
  /// A job that never finds its nodes up (it asks for nearly a whole pool that always has some in repair).
  [[noreturn]] void stuck() const
  {
    for (size_t p = 0; p < pending_.size(); ++p)
      if (!pending_[p].empty()) {
        const int j = pending_[p].front();
        throw core::ConfigError("/jobs/" + std::to_string(j) + "/nodes",
                                std::to_string(jobs_[j].nodes) + " nodes of pool \"" + pools_[p].name +
                                    "\" are never all up at once (failed nodes in repair); ask for fewer nodes");
      }
    throw core::InternalError("the queue did not drain (" __FILE__ ")");
  }

  void push(double t, Kind k, int who, int version = 0) { events_.push(Event{t, k, seq_++, who, version}); }

  void next_failure(int p, double from)
  {
    const double rate = pools_[p].failures_per_node_s * pools_[p].nodes;
    if (!failures_ || rate <= 0)
      return;
    push(from - std::log(1.0 - uniform(rng_)) / rate, Kind::failure, p);
  }

  void handle(const Event& e)
  {
    switch (e.kind) {
    case Kind::submit:
      pending_[jobs_[e.who].pool].push_back(e.who);
      break;
    case Kind::job_end: {
      if (e.version != version_[e.who])
        break; // an end estimate the set's change replaced
      const int p = jobs_[e.who].pool;
      busy_[p] -= jobs_[e.who].nodes;
      running_[p].erase(std::find(running_[p].begin(), running_[p].end(), e.who));
      for (int n : res_.nodes[e.who])
        held_[p][static_cast<size_t>(n)] = 0;
      changed_.insert(p);
      res_.end_s[e.who] = e.t;
      res_.makespan_s = std::max(res_.makespan_s, e.t);
      ++done_;
      break;
    }
    case Kind::repair:
      --down_[e.who];
      repairs_[e.who].erase(repairs_[e.who].find(e.t));
      break;
    case Kind::failure: {
      // Thinning: a failure lands on a uniformly drawn node; one already out for repair cannot fail again.
      const QueuePool& pool = pools_[e.who];
      const int up = pool.nodes - down_[e.who];
      if (uniform(rng_) * pool.nodes < up) {
        ++down_[e.who];
        ++res_.failures[e.who];
        push(e.t + pool.repair_s, Kind::repair, e.who);
        repairs_[e.who].insert(e.t + pool.repair_s);
      }
      next_failure(e.who, e.t);
      break;
    }
    }
  }

  void schedule(double now)
  {
    for (size_t p = 0; p < pools_.size(); ++p) {
      if (pending_[p].empty())
        continue;
      std::vector<PendingJob> pending;
      for (int j : pending_[p])
        pending.push_back({j, jobs_[j].submit_s, jobs_[j].nodes, jobs_[j].priority, jobs_[j].run_s});
      PoolView view{now, pools_[p].nodes - down_[p] - busy_[p], releases(static_cast<int>(p))};
      for (int j : scheduler_->pick(pending, view)) {
        TRAINSIM_ASSERT(jobs_[j].nodes <= pools_[p].nodes - down_[p] - busy_[p],
                        "scheduler started a job that does not fit");
        std::vector<char> free(held_[p].size());
        for (size_t n = 0; n < free.size(); ++n)
          free[n] = held_[p][n] ? 0 : 1;
        auto nodes = place_nodes(jobs_[j].placement, jobs_[j].nodes, free, topology_[p]);
        if (nodes.empty())
          continue; // its explicit nodes are held: it waits for them
        for (int n : nodes)
          held_[p][static_cast<size_t>(n)] = 1;
        res_.nodes[j] = std::move(nodes);
        busy_[p] += jobs_[j].nodes;
        running_[p].push_back(j);
        res_.start_s[j] = now;
        end_at_[j] = now + jobs_[j].run_s;
        since_[j] = now;
        push(end_at_[j], Kind::job_end, j, version_[j]);
        pending_[p].erase(std::find(pending_[p].begin(), pending_[p].end(), j));
        changed_.insert(static_cast<int>(p));
      }
    }
    reshare(now);
  }

  /// With a share function: the pools whose running set changed get their jobs' factors again, and every
  /// job whose factor changed a new end estimate (the work done so far at the old factor kept).
  void reshare(double now)
  {
    if (share_ != nullptr)
      for (int p : changed_) {
        std::vector<std::vector<int>> nodes;
        for (int j : running_[p])
          nodes.push_back(res_.nodes[j]);
        const std::vector<double> f = running_[p].empty() ? std::vector<double>() : (*share_)(p, running_[p], nodes);
        for (size_t k = 0; k < running_[p].size(); ++k) {
          const int j = running_[p][k];
          if (f.at(k) == factor_[j] || jobs_[j].run_s <= 0)
            continue;
          done_work_[j] += (now - since_[j]) / (jobs_[j].run_s * factor_[j]);
          since_[j] = now;
          factor_[j] = f.at(k);
          end_at_[j] = now + std::max(0.0, 1.0 - done_work_[j]) * jobs_[j].run_s * factor_[j];
          push(end_at_[j], Kind::job_end, j, ++version_[j]);
        }
      }
    changed_.clear();
  }

  /// When nodes of pool p come back: running jobs' ends and pending repairs.
  std::vector<PoolView::Release> releases(int p) const
  {
    std::vector<PoolView::Release> out;
    for (int j : running_[p])
      out.push_back({end_at_[j], jobs_[j].nodes});
    for (double t : repairs_[p])
      out.push_back({t, 1});
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at_s < b.at_s; });
    return out;
  }

  double power() const
  {
    double w = 0;
    for (size_t p = 0; p < pools_.size(); ++p) {
      for (int j : running_[p])
        w += jobs_[j].power_w;
      w += pools_[p].idle_node_w * std::max(0, pools_[p].nodes - down_[p] - busy_[p]);
    }
    return w;
  }

  long busy_accelerators() const
  {
    long a = 0;
    for (size_t p = 0; p < pools_.size(); ++p)
      a += static_cast<long>(std::min(busy_[p], pools_[p].nodes - down_[p])) * pools_[p].accelerators_per_node;
    return a;
  }

  void sample(double t)
  {
    QueueSample s;
    s.t_s = t;
    s.power_w = power();
    s.busy_accelerators = busy_accelerators();
    for (size_t p = 0; p < pools_.size(); ++p)
      s.up_accelerators += static_cast<long>(pools_[p].nodes - down_[p]) * pools_[p].accelerators_per_node;
    s.busy_nodes = busy_;
    s.down_nodes = down_;
    if (!res_.samples.empty() && res_.samples.back().t_s == t)
      res_.samples.back() = s;
    else
      res_.samples.push_back(s);
  }

  /// Adds the state of [a, b) clipped to the period.
  void integrate(double a, double b)
  {
    const double hi = std::min(b, period_);
    if (hi <= a)
      return;
    const double dt = hi - a;
    res_.energy_j += power() * dt;
    res_.busy_accelerator_s += static_cast<double>(busy_accelerators()) * dt;
    for (size_t p = 0; p < pools_.size(); ++p)
      res_.pool_busy_node_s[p] += std::min(busy_[p], pools_[p].nodes - down_[p]) * dt;
  }

  const std::vector<QueuePool>& pools_;
  const std::vector<QueueJob>& jobs_;
  std::unique_ptr<Scheduler> scheduler_;
  double period_;
  std::mt19937_64 rng_;
  bool failures_;
  long max_events_;
  const ShareFn* share_;
  std::vector<int> busy_, down_;
  std::vector<std::vector<int>> pending_, running_;
  std::vector<std::multiset<double>> repairs_; ///< per pool: when each node in repair returns
  std::vector<std::vector<char>> held_;        ///< per pool and node: held by a running job
  std::vector<NodeTopology> topology_;         ///< per pool
  std::set<int> changed_;                      ///< pools whose running set changed at this time
  /// Per job: the current end estimate, step-time factor, share of the run done until `since_`, and the
  /// version of its end event.
  std::vector<double> end_at_, factor_, done_work_, since_;
  std::vector<int> version_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  long seq_ = 0;
  long handled_ = 0;
  size_t done_ = 0;
  QueueResult res_;
};

} // namespace

QueueResult run_queue(const std::vector<QueuePool>& pools, const std::vector<QueueJob>& jobs,
                      const std::string& scheduler, double period_s, uint64_t seed, bool node_failures, long max_events,
                      const ShareFn* share)
{
  for (const auto& j : jobs)
    TRAINSIM_ASSERT(j.pool >= 0 && static_cast<size_t>(j.pool) < pools.size() && j.nodes <= pools[j.pool].nodes &&
                        j.run_s >= 0,
                    "a queue job does not fit its pool");
  return QueueSim(pools, jobs, scheduler, period_s, seed, node_failures, max_events, share).run();
}

} // namespace trainsim::cluster
