#include <cstdio>

#include "trainsim/report/Listing.hpp"
#include "trainsim/report/Report.hpp"

namespace trainsim::report {

std::string stage_table(const metrics::RunMetrics& m)
{
  Table t;
  t.title = "  per pipeline stage (ms per step)";
  t.headers = {"stage", "compute", "TP exposed", "PP exposed", "DP exposed", "bubble", "optimizer", "energy (kJ)"};
  auto ms = [](double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s * 1e3);
    return std::string(buf);
  };
  for (size_t i = 0; i < m.stages.size(); ++i) {
    const auto& st = m.stages[i];
    char kj[32];
    std::snprintf(kj, sizeof kj, "%.2f", st.energy_j / 1e3);
    t.rows.push_back({std::to_string(i), ms(st.compute), ms(st.tp_comm), ms(st.pp_comm), ms(st.dp_comm), ms(st.bubble),
                      ms(st.optimizer), kj});
  }
  return render(t, false);
}

} // namespace trainsim::report
