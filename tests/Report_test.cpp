#include <catch2/catch.hpp>

#include "TestUtil.hpp"
#include "trainsim/report/Report.hpp"

using namespace trainsim;

namespace {
metrics::RunMetrics sample()
{
  metrics::RunMetrics m;
  m.scenario = "a,b";
  m.accelerators = 8;
  m.step_time_s = 2.0;
  m.tokens_per_s = 1000;
  m.mfu = 0.4;
  m.breakdown.compute = 1.5;
  m.breakdown.bubble = 0.5;
  m.stages.resize(2);
  return m;
}
} // namespace

TEST_CASE("the JSON report carries the fixed field names", "[report]")
{
  auto s = test::scenario_with([](nlohmann::json&) {});
  auto j = report::to_json(s, sample());
  for (const char* key :
       {"report_version", "step_time_s", "tokens_per_s", "mfu", "tflops_per_accelerator", "hw_tflops_per_accelerator",
        "time_to_train_s", "energy_mwh", "carbon_tco2e", "memory_gib_per_accelerator", "breakdown",
        "energy_breakdown_mwh", "stages", "resolved_scenario"})
    CHECK(j.contains(key));
  for (const char* key :
       {"compute_s", "tp_comm_exposed_s", "pp_comm_exposed_s", "dp_comm_exposed_s", "pipeline_bubble_s", "optimizer_s"})
    CHECK(j["breakdown"].contains(key));
  CHECK(j["report_version"] == report::report_version);
  CHECK(j["stages"].size() == 2);
  CHECK_FALSE(j.contains("reference"));
}

TEST_CASE("CSV quotes names and has as many fields as its header", "[report]")
{
  auto header = report::csv_header();
  auto row = report::csv_row(sample());
  CHECK(row.rfind("\"a,b\",", 0) == 0);
  auto fields = [](const std::string& line) {
    int n = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted)
        ++n;
    }
    return n;
  };
  CHECK(fields(header) == fields(row));
}

TEST_CASE("MAPE of the reproduce table", "[report]")
{
  std::vector<report::ReproduceRow> rows{{"a", "a", 11, 10, 0.4, ""}, {"b", "b", 9, 10, 0.4, ""}};
  CHECK(report::mean_absolute_percentage_error(rows) == Approx(10.0));
  CHECK_THAT(report::reproduce_table(rows, true), Catch::Contains("MAPE over 2 cases: 10.00%"));
}
