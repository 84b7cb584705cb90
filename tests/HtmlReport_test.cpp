#include <catch2/catch.hpp>

#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Html.hpp"
#include "trainsim/report/Listing.hpp"

using namespace trainsim;
using nlohmann::ordered_json;

TEST_CASE("the Pareto front keeps exactly the non-dominated points", "[report]")
{
  // (step time, energy): lower is better on both.
  std::vector<std::pair<double, double>> pts{{1, 10}, {2, 5}, {3, 6}, {4, 1}, {2, 5}, {5, 1}, {0.5, 20}};
  auto f = report::pareto_front(pts, false, false);
  CHECK(f == std::vector<size_t>{6, 0, 1, 4, 3});
  // Throughput (higher better) against energy (lower better).
  auto g = report::pareto_front({{100, 5}, {200, 6}, {150, 7}, {200, 8}}, true, false);
  CHECK(g == std::vector<size_t>{0, 1});
  CHECK(report::pareto_front({}, false, false).empty());
  CHECK(report::higher_is_better("tokens_per_s"));
  CHECK(report::higher_is_better("report.mfu"));
  CHECK_FALSE(report::higher_is_better("step_time_s"));
  CHECK_FALSE(report::higher_is_better("energy_mwh"));
}

TEST_CASE("the sweep page plots any two fields, nested ones by their last name", "[report]")
{
  std::vector<ordered_json> rows;
  for (int dp : {1, 2, 4, 8})
    rows.push_back({{"axes", {{"/parallelism/dp", dp}}},
                    {"report", {{"step_time_s", 10.0 / dp}, {"energy_mwh", 100.0 + dp * dp}, {"mfu", 0.4}}}});
  rows.push_back({{"axes", {{"/parallelism/dp", 16}}}, {"error", "out of memory"}});
  report::SweepPlot plot{"energy_mwh", "step_time_s", false, false, ""};
  const std::string page = report::sweep_to_html(rows, plot);
  CHECK(page.find("id=\"scatter\"") != std::string::npos);
  CHECK(page.find("id=\"pareto\"") != std::string::npos);
  CHECK(page.find("1 without both values") != std::string::npos);
  // Every configuration trades energy for time: all four are optimal.
  size_t optimal = 0;
  for (size_t p = page.find("class=\"pareto\""); p != std::string::npos; p = page.find("class=\"pareto\"", p + 1))
    ++optimal;
  CHECK(optimal == 4);
  CHECK(page.find("<script") == std::string::npos);
  report::SweepPlot bad{"energy", "step_time_s", false, false, ""};
  CHECK_THROWS_AS(report::sweep_to_html(rows, bad), core::UsageError);
  try {
    report::sweep_to_html(rows, bad);
  } catch (const core::UsageError& e) {
    CHECK(std::string(e.what()).find("report.energy_mwh") != std::string::npos);
  }
}

TEST_CASE("catalogue tables flatten fields and align columns", "[report]")
{
  nlohmann::json entries = {{"b-id", {{"power", {{"idle", "80W"}, {"peak", "400W"}}}, {"source", "datasheet"}}},
                            {"a-long-id", {{"power", {{"idle", "100W"}}}, {"fp8", nullptr}}}};
  auto t = report::catalogue_table("Things", entries);
  // nlohmann::json keeps keys sorted: a-long-id's fields first.
  CHECK(t.headers == std::vector<std::string>{"id", "fp8", "power.idle", "power.peak"});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.sources.size() == 1);
  const std::string text = report::render(t, false);
  CHECK(text.find("  id         fp8  power.idle  power.peak\n") != std::string::npos);
  CHECK(text.find("  a-long-id  –    100W\n") != std::string::npos);
  const std::string md = report::render(t, true);
  CHECK(md.find("| id | fp8 | power.idle | power.peak |") != std::string::npos);
  CHECK(md.find("| b-id |  | 80W | 400W |") != std::string::npos);
  CHECK(md.find("- **b-id**: datasheet") != std::string::npos);
}

#include <cstdlib>
#include <unistd.h>

#include "TestUtil.hpp"
#include "trainsim/cli/ReportOutputs.hpp"
#include "trainsim/report/Report.hpp"

TEST_CASE("colours only on a terminal and never with NO_COLOR", "[report]")
{
  auto s = test::scenario_with([](nlohmann::json&) {});
  metrics::RunMetrics m;
  m.step_time_s = 1;
  m.stages.resize(2);
  const std::string plain = report::to_console(s, m, false), coloured = report::to_console(s, m, true);
  CHECK(plain.find('\033') == std::string::npos);
  CHECK(coloured.find("\033[1m") != std::string::npos);
  CHECK(plain.find("per pipeline stage (ms per step)") != std::string::npos);
  // A pipe or file is not a terminal.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  CHECK_FALSE(cli::use_colour(fds[1]));
  close(fds[0]);
  close(fds[1]);
  const char* old = std::getenv("NO_COLOR");
  const std::string saved = old ? old : "";
  setenv("NO_COLOR", "1", 1);
  CHECK_FALSE(cli::use_colour(STDOUT_FILENO));
  if (old)
    setenv("NO_COLOR", saved.c_str(), 1);
  else
    unsetenv("NO_COLOR");
}
