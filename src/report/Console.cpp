#include <cstdio>

#include "trainsim/report/Listing.hpp"
#include "trainsim/report/Report.hpp"

namespace trainsim::report {

std::string stage_table(const scenario::Scenario& s, const metrics::RunMetrics& m)
{
  Table t;
  t.title = "  per pipeline stage (ms per step)";
  t.headers = {"stage"};
  std::vector<const result::Part*> shown;
  for (const auto& part : result::parts) // the parts this scenario has (result/Breakdown.hpp)
    if (result::shown(part, s.model.moe.enabled(), s.parallelism.cp > 1)) {
      shown.push_back(&part);
      t.headers.emplace_back(part.column);
    }
  t.headers.emplace_back("energy (kJ)");
  auto ms = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", x * 1e3);
    return std::string(buf);
  };
  for (size_t i = 0; i < m.stages.size(); ++i) {
    const auto& st = m.stages[i];
    std::vector<std::string> cells{std::to_string(i)};
    for (const auto* part : shown)
      cells.push_back(ms(st.*part->field));
    char kj[32];
    std::snprintf(kj, sizeof kj, "%.2f", st.energy_j / 1e3);
    cells.emplace_back(kj);
    t.rows.push_back(std::move(cells));
  }
  return render(t, false);
}

} // namespace trainsim::report
