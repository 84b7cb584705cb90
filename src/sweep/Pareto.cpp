#include <algorithm>
#include <map>

#include "trainsim/core/Errors.hpp"
#include "trainsim/sweep/ResultStore.hpp"

namespace trainsim::sweep {

namespace {

const std::map<std::string, std::string>& pareto_aliases()
{
  static const std::map<std::string, std::string> a{
      {"time", "/time_to_train_s"},
      {"step", "/step_time_s"},
      {"energy", "/energy_mwh"},
      {"carbon", "/carbon_tco2e"},
      {"throughput", "/tokens_per_s"},
      {"mfu", "/mfu"},
      {"memory", "/memory_gib_per_accelerator"},
  };
  return a;
}

bool larger_is_better(const std::string& pointer)
{
  for (const char* p : {"/tokens_per_s", "/mfu", "/hfu", "/tflops_per_accelerator", "/hw_tflops_per_accelerator"})
    if (pointer == p)
      return true;
  return false;
}

} // namespace

std::vector<ParetoField> parse_pareto(const std::string& spec, const std::vector<std::string>& columns)
{
  std::vector<ParetoField> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    const size_t comma = spec.find(',', pos);
    std::string name = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    ParetoField f;
    int direction = 0;
    if (name.rfind("min:", 0) == 0 || name.rfind("max:", 0) == 0) {
      direction = name[1] == 'i' ? -1 : 1;
      name = name.substr(4);
    }
    f.name = name;
    if (std::find(columns.begin(), columns.end(), name) != columns.end()) {
      f.pointer = name;
      f.axis = true;
    } else if (auto a = pareto_aliases().find(name); a != pareto_aliases().end()) {
      f.pointer = a->second;
    } else if (!name.empty() && name[0] == '/') {
      f.pointer = name;
    } else if (!name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.") == std::string::npos) {
      f.pointer = "/" + name;
      std::replace(f.pointer.begin(), f.pointer.end(), '.', '/');
    } else {
      throw core::UsageError(
          "--pareto: \"" + name +
          "\" is not a report field; use e.g. time, step, energy, carbon, "
          "throughput, mfu, memory, a report field such as step_time_s or breakdown.dp_comm_exposed_s, "
          "or a swept path");
    }
    if (!f.axis) {
      bool known = false;
      for (const auto& p : csv_metric_pointers())
        known = known || p == f.pointer;
      if (!known && f.pointer.find('/', 1) == std::string::npos)
        throw core::UsageError(
            "--pareto: \"" + name +
            "\" is not a report field; numeric fields: time, step, energy, "
            "carbon, throughput, mfu, memory or any CSV metric column (step_time_s, energy_mwh, ...)");
    }
    f.minimize = direction == 0 ? !(!f.axis && larger_is_better(f.pointer)) : direction < 0;
    out.push_back(f);
  }
  if (out.size() < 2)
    throw core::UsageError("--pareto needs at least two fields separated by a comma, e.g. --pareto time,carbon");
  return out;
}

void mark_pareto(std::vector<Record>& records, const std::vector<ParetoField>& fields)
{
  std::vector<std::vector<double>> v(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    auto& r = records[i];
    r.pareto = false;
    if (r.status != Status::ok)
      continue;
    for (const auto& f : fields) {
      const nlohmann::ordered_json* x = nullptr;
      if (f.axis && r.axes.contains(f.pointer))
        x = &r.axes.at(f.pointer);
      else if (!f.axis && r.report.contains(nlohmann::ordered_json::json_pointer(f.pointer)))
        x = &r.report.at(nlohmann::ordered_json::json_pointer(f.pointer));
      if (!x || !x->is_number())
        throw core::UsageError("--pareto: point " + std::to_string(r.point) + " has no number at " + f.pointer +
                               "; choose numeric report fields");
      v[i].push_back(f.minimize ? x->get<double>() : -x->get<double>());
    }
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].status != Status::ok)
      continue;
    bool dominated = false;
    for (size_t j = 0; j < records.size() && !dominated; ++j) {
      if (j == i || records[j].status != Status::ok)
        continue;
      bool all_le = true, one_lt = false;
      for (size_t k = 0; k < fields.size(); ++k) {
        all_le = all_le && v[j][k] <= v[i][k];
        one_lt = one_lt || v[j][k] < v[i][k];
      }
      dominated = all_le && one_lt;
    }
    records[i].pareto = !dominated;
  }
}

} // namespace trainsim::sweep
