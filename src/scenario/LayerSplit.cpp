#include "LayerSplit.hpp"

#include <algorithm>
#include <numeric>

#include "trainsim/core/Errors.hpp"
#include "trainsim/workload/ModelShape.hpp"
#include "trainsim/workload/PipelineSchedule.hpp"

namespace trainsim::scenario {

using core::ConfigError;

namespace {

const char* split_keys = "first_stage_layers / last_stage_layers or layer_split";

/// Greedy fill under a bottleneck per part: part k is closed when the next item would take it over `limits[k]`,
/// or when only as many items are left as parts still to fill. Empty when it needs more than limits.size()
/// parts, or, with `check_last`, when the last part ends over its limit.
std::vector<int> fill_parts(const std::vector<double>& w, const std::vector<double>& limits, bool check_last)
{
  std::vector<int> out;
  double sum = 0;
  int count = 0;
  const int n = static_cast<int>(w.size()), parts = static_cast<int>(limits.size());
  if (parts < 1)
    return out;
  for (int i = 0; i < n; ++i) {
    const int parts_left = parts - static_cast<int>(out.size()); // including the open one
    const bool must_close = n - i <= parts_left - 1;             // the rest must leave an item for every part
    if (count > 0 && (sum + w[static_cast<size_t>(i)] > limits[out.size()] || must_close)) {
      out.push_back(count);
      sum = 0;
      count = 0;
      if (static_cast<int>(out.size()) == parts)
        return {};
    }
    sum += w[static_cast<size_t>(i)];
    ++count;
  }
  out.push_back(count);
  const bool last_fits = !check_last || sum <= limits.back() * (1 + 1e-12);
  return static_cast<int>(out.size()) == parts && last_fits ? out : std::vector<int>{};
}

/// One bottleneck for every part.
std::vector<int> fill(const std::vector<double>& w, int parts, double limit)
{
  return fill_parts(w, std::vector<double>(static_cast<size_t>(parts), limit), false);
}

/// A bottleneck per part (mixed pools), the last part held to its limit too.
std::vector<int> fill_limits(const std::vector<double>& w, const std::vector<double>& limits)
{
  return fill_parts(w, limits, true);
}

} // namespace

std::vector<int> partition_by_speed(const std::vector<double>& weights, const std::vector<double>& speeds)
{
  const int parts = static_cast<int>(speeds.size());
  if (parts < 1 || static_cast<int>(weights.size()) < parts)
    return {};
  auto limits = [&](double t) {
    std::vector<double> l;
    for (double v : speeds)
      l.push_back(t * v);
    return l;
  };
  double lo = 0,
         hi = std::accumulate(weights.begin(), weights.end(), 0.0) / *std::min_element(speeds.begin(), speeds.end());
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (fill_limits(weights, limits(mid)).empty())
      lo = mid;
    else
      hi = mid;
  }
  return fill_limits(weights, limits(hi));
}

std::vector<int> partition_balanced(const std::vector<double>& weights, int parts)
{
  if (parts < 1 || static_cast<int>(weights.size()) < parts)
    return {};
  double lo = *std::max_element(weights.begin(), weights.end());
  double hi = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (fill(weights, parts, lo).size() == static_cast<size_t>(parts))
    return fill(weights, parts, lo);
  for (int it = 0; it < 100 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (fill(weights, parts, mid).empty())
      lo = mid;
    else
      hi = mid;
  }
  return fill(weights, parts, hi);
}

void parse_pipeline_keys(JsonReader& r, Parallelism& p)
{
  p.schedule_given = r.has("schedule");
  if (p.schedule_given)
    p.schedule = r.key_choice("schedule");
  else
    p.schedule = p.vpp > 1 ? "interleaved" : "1f1b";
  p.pipeline_p2p = r.key_choice("pipeline_p2p");
  if (!r.has("layer_split"))
    return;
  const auto& v = r.raw("layer_split");
  if (v.is_string()) {
    p.split = r.get_enum("layer_split", {"even", "balanced"});
    return;
  }
  if (!v.is_array() || v.empty())
    throw ConfigError(r.pointer_of("layer_split"),
                      "must be \"even\", \"balanced\" or a list of layers per virtual stage; use one of them");
  for (size_t i = 0; i < v.size(); ++i) {
    const bool end = i == 0 || i + 1 == v.size(); // may hold only the embedding / the output layer
    if (!v[i].is_number_integer() || v[i].get<long>() < (end ? 0 : 1) || v[i].get<long>() > 1'000'000)
      throw ConfigError(r.pointer_of("layer_split") + "/" + std::to_string(i),
                        std::string("must be a whole number of layers from ") + (end ? "0" : "1") +
                            " to 1000000; give every virtual stage at least one layer (only the first and the "
                            "last may have none: the embedding or the output layer alone)");
    p.layer_split.push_back(v[i].get<int>());
  }
  p.split = "list";
}

namespace {

void check_schedule(const Scenario& s)
{
  const auto& p = s.parallelism;
  const std::string ptr = "/parallelism/schedule";
  const std::string name = "\"" + p.schedule + "\"";
  if (p.pipeline_p2p == "blocking" && p.schedule != "1f1b") // DeepSpeed's pipeline engine has only TrainSchedule
    throw ConfigError(
        "/parallelism/pipeline_p2p",
        "\"blocking\" (DeepSpeed's pipeline engine) runs its TrainSchedule, a 1F1B, but the schedule is " + name +
            "; set schedule to \"1f1b\" (vpp 1) or pipeline_p2p to \"async\"");
  if ((p.schedule == "1f1b" || p.schedule == "zb-h1") && p.vpp != 1)
    throw ConfigError(ptr, name + " runs one model chunk per stage, but vpp is " + std::to_string(p.vpp) +
                               "; set vpp to 1 or use \"interleaved\"");
  if (p.schedule == "dualpipe") {
    // DeepSeek-V3's DualPipe (deepseek-ai/DualPipe): pp even, an even count of at least 2 pp micro-batches.
    if (p.vpp != 1)
      throw ConfigError(ptr, name + " places two model chunks per stage itself (one per direction), but vpp is " +
                                 std::to_string(p.vpp) + "; set vpp to 1");
    if (p.pp < 2 || p.pp % 2 != 0)
      throw ConfigError(ptr, name +
                                 " needs an even pp of at least 2 (the two directions meet in the middle), but "
                                 "pp is " +
                                 std::to_string(p.pp) + "; choose an even pp or another schedule");
    const long m = s.micro_batches_per_replica();
    if (m < 2L * p.pp || m % 2 != 0)
      throw ConfigError(ptr, name + " needs an even number of micro-batches per replica of at least 2*pp = " +
                                 std::to_string(2 * p.pp) + ", but there are " + std::to_string(m) +
                                 "; change global_batch_size, micro_batch_size or dp, or use another schedule");
  }
  if (p.schedule == "zb-v") {
    // Qi et al. 2024's ZB-V: two chunks per rank in a V; its order starts with 2 pp - 1 forwards on rank 0.
    if (p.vpp != 2)
      throw ConfigError(ptr, name + " places two model chunks per rank in a V, but vpp is " + std::to_string(p.vpp) +
                                 "; set vpp to 2");
    if (p.pp < 2)
      throw ConfigError(ptr, name + " needs pp >= 2, but pp is 1; raise pp or drop the schedule");
    const long m = s.micro_batches_per_replica();
    if (m < 2L * p.pp - 1)
      throw ConfigError(ptr, name + " needs at least 2*pp - 1 = " + std::to_string(2 * p.pp - 1) +
                                 " micro-batches per replica (its warm-up), but there are " + std::to_string(m) +
                                 "; change global_batch_size, micro_batch_size or dp, or use another schedule");
  }
  if (p.schedule == "interleaved" && p.vpp < 2)
    throw ConfigError(ptr, name + " needs vpp > 1 (model chunks per stage), but vpp is 1; raise vpp or use \"1f1b\"");
  if (workload::splits_backward(p.schedule) && p.zero_stage == 3)
    throw ConfigError(ptr,
                      name + " with zero_stage 3 / fsdp is not modelled; use zero_stage 0 to 2 or schedule \"1f1b\"");
}

/// Layers per pipeline stage from first/last_stage_layers (Megatron-core: the other stages split the rest
/// evenly; with vpp, every count is split evenly over the stage's chunks).
std::vector<int> uneven_stage_layers(const Scenario& s)
{
  const auto& p = s.parallelism;
  const int L = s.model.layers;
  const std::string ptr =
      p.first_stage_layers > 0 ? "/parallelism/first_stage_layers" : "/parallelism/last_stage_layers";
  if (p.pp < 2)
    throw ConfigError(ptr, "an uneven pipeline split needs pp >= 2; drop it or raise pp");
  if (p.split != "even")
    throw ConfigError("/parallelism/layer_split",
                      "contradicts first_stage_layers / last_stage_layers; give one of them");
  const int fixed = (p.first_stage_layers > 0 ? 1 : 0) + (p.last_stage_layers > 0 ? 1 : 0);
  const int rest = L - p.first_stage_layers - p.last_stage_layers, others = p.pp - fixed;
  if (rest < 0 || (others == 0 && rest != 0) || (others > 0 && (rest < others || rest % others != 0)))
    throw ConfigError(ptr, "leaves " + std::to_string(rest) + " of the " + std::to_string(L) + " layers for " +
                               std::to_string(others) +
                               " other stages; choose it so that the rest splits evenly, at least one layer each");
  const int mid = others > 0 ? rest / others : 0;
  std::vector<int> per(static_cast<size_t>(p.pp), mid);
  if (p.first_stage_layers > 0)
    per.front() = p.first_stage_layers;
  if (p.last_stage_layers > 0)
    per.back() = p.last_stage_layers;
  for (int st = 0; st < p.pp; ++st) {
    const int n = per[static_cast<size_t>(st)];
    if (n % p.vpp != 0) {
      const std::string key = st == 0 && p.first_stage_layers > 0         ? "/parallelism/first_stage_layers"
                              : st == p.pp - 1 && p.last_stage_layers > 0 ? "/parallelism/last_stage_layers"
                                                                          : ptr;
      throw ConfigError(key, "gives stage " + std::to_string(st) + " " + std::to_string(n) + " layers, which its vpp " +
                                 std::to_string(p.vpp) +
                                 " model chunks cannot share evenly; choose first_stage_layers / last_stage_layers so "
                                 "that every stage's count is a multiple of vpp, or set layer_split");
    }
  }
  return per;
}

/// DeepSpeed's partitioner over the layers' parameters, the embedding and the (tied) output layer
/// counted as work of the first and the last virtual stage (PipelineModule partition_method "parameters").
std::vector<int> balanced_split(const Scenario& s)
{
  const auto& p = s.parallelism;
  const auto shape = workload::ModelShape::of(s.model);
  const int V = p.pp * p.vpp;
  std::vector<double> w;
  for (int l = 0; l < s.model.layers; ++l)
    w.push_back(s.model.is_moe_layer(l) ? shape.moe_layer_params : shape.layer_params);
  w.front() += shape.embedding_params;
  if (p.pp > 1)
    w.back() += shape.embedding_params;
  std::vector<double> speeds; // mixed pools: each virtual stage at its pool's peak (Scenario::stage_accelerator)
  for (int v = 0; s.cluster.mixed() && v < V; ++v)
    speeds.push_back(s.stage_accelerator(s.stage_of_virtual(v)).peak(s.training.precision));
  const bool by_speed = !speeds.empty() && *std::min_element(speeds.begin(), speeds.end()) > 0; // else: the
  // precision check names the pool that lacks the precision
  auto parts = by_speed ? partition_by_speed(w, speeds) : partition_balanced(w, V);
  if (parts.empty())
    throw ConfigError("/parallelism/layer_split",
                      "\"balanced\" needs at least one layer per virtual stage, but pp*vpp = " + std::to_string(V) +
                          " exceeds layers " + std::to_string(s.model.layers) + "; lower pp or vpp");
  return parts;
}

} // namespace

void resolve_pipeline(Scenario& s)
{
  auto& p = s.parallelism;
  const int L = s.model.layers, V = p.pp * p.vpp;
  check_schedule(s);
  const bool uneven = p.first_stage_layers > 0 || p.last_stage_layers > 0;
  if (p.split == "list") {
    if (static_cast<int>(p.layer_split.size()) != V)
      throw ConfigError("/parallelism/layer_split", "lists " + std::to_string(p.layer_split.size()) +
                                                        " virtual stages, but pp*vpp is " + std::to_string(V) +
                                                        "; give one layer count per virtual stage");
    if (uneven)
      throw ConfigError("/parallelism/layer_split",
                        "contradicts first_stage_layers / last_stage_layers; give one of them");
    const int sum = std::accumulate(p.layer_split.begin(), p.layer_split.end(), 0);
    if (sum != L)
      throw ConfigError("/parallelism/layer_split", "adds up to " + std::to_string(sum) +
                                                        " layers, but the model has " + std::to_string(L) +
                                                        "; make the counts sum to the layer count");
  } else if (uneven) {
    const auto per = uneven_stage_layers(s);
    p.layer_split.assign(static_cast<size_t>(V), 0);
    for (int v = 0; v < V; ++v)
      p.layer_split[static_cast<size_t>(v)] = per[static_cast<size_t>(p.stage_of_virtual(v))] / p.vpp;
  } else if (p.split == "balanced") {
    p.layer_split = balanced_split(s);
  } else if (L % V != 0) {
    throw ConfigError("/parallelism/pp", "pp*vpp = " + std::to_string(V) + " does not divide layers " +
                                             std::to_string(L) +
                                             "; choose pp and vpp whose product divides the layer count, or set " +
                                             split_keys + " (\"balanced\" or a list per virtual stage)");
  }
}

} // namespace trainsim::scenario
