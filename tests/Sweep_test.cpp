// Unit tests of the sweep module (no simulation): expressions, sweep files, result files, Pareto fronts,
// objectives, regression verdicts.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include <unistd.h>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/sweep/Regress.hpp"
#include "trainsim/sweep/ResultStore.hpp"
#include "trainsim/sweep/Search.hpp"
#include "trainsim/sweep/Slurm.hpp"
#include "trainsim/sweep/Sweep.hpp"

using namespace trainsim;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

json lookup_doc()
{
  return {{"parallelism", {{"tp", 4}, {"pp", 2}, {"dp", 8}}},
          {"cluster", {{"nodes", 8}, {"accelerators_per_node", 8}}},
          {"training", {{"recompute", "full"}}},
          {"site", {{"pue", 1.25}}}};
}

sweep::Value eval(const std::string& text)
{
  const json doc = lookup_doc();
  return sweep::Expr::parse(text, "/constraints/0").eval([&](const std::string& p) {
    const json::json_pointer jp(p);
    return doc.contains(jp) ? doc.at(jp) : json();
  });
}

std::string error_of(const std::function<void()>& f)
{
  try {
    f();
  } catch (const core::Error& e) {
    return e.what();
  }
  return "";
}

ordered_json spec_doc()
{
  return ordered_json::parse(R"JSON({
    "base": {"schema_version": 1, "name": "t",
             "cluster": {"accelerator": "Ascend-910B", "nodes": 8, "accelerators_per_node": 8,
                         "fabric": {"type": "fat_tree", "nic_bandwidth": "200Gbps", "tiers": 2, "latency": "2us"}},
             "model": {"preset": "llama3-8b"},
             "training": {"global_batch_size": 256, "micro_batch_size": 1, "tokens": "2T", "precision": "fp16"},
             "parallelism": {"tp": 2, "pp": 2, "dp": 16}},
    "axes": {"/parallelism/tp": [1, 2, 4, 8, 3], "/parallelism/pp": {"from": 1, "to": 4, "times": 2}},
    "zip": [{"/site/pue": [1.1, 1.3], "/site/grid": ["cn-national-2023", "cn-national-2023"]}],
    "derived": {"/parallelism/dp": "accelerators / (tp * pp)"},
    "constraints": ["divides(tp * pp, accelerators)", "tp <= 4"]
  })JSON");
}

} // namespace

TEST_CASE("sweep expressions: arithmetic, comparisons, aliases, paths and functions")
{
  CHECK(std::get<double>(eval("tp * pp * dp")) == 64);
  CHECK(std::get<bool>(eval("tp * pp * dp == accelerators")));
  CHECK(std::get<bool>(eval("divides(tp, 8) && !divides(3, tp)")));
  CHECK(std::get<bool>(eval("recompute == 'full' || tp > 100")));
  CHECK(std::get<double>(eval("{/site/pue} * 4")) == 5);
  CHECK(std::get<double>(eval("-2 + 10 % 4 * (1 + 2)")) == 4);
  CHECK(std::get<double>(eval("max(tp, pp) - min(tp, pp)")) == 2);
  CHECK(std::get<bool>(eval("pow2(dp) && !pow2(6)")));
  CHECK(sweep::to_json(eval("accelerators / (tp * pp)")) == json(8));
}

TEST_CASE("sweep expressions: errors name the pointer and the fault")
{
  CHECK(error_of([] { eval("tp *"); }).rfind("/constraints/0:", 0) == 0);
  CHECK(error_of([] { eval("tpp == 2"); }).find("unknown name tpp") != std::string::npos);
  CHECK(error_of([] { eval("frob(tp)"); }).find("unknown function frob") != std::string::npos);
  CHECK(error_of([] { eval("{/site/power_cap} > 1"); }).find("/site/power_cap is not set") != std::string::npos);
  CHECK(error_of([] { eval("tp / (pp - 2)"); }).find("division by zero") != std::string::npos);
  CHECK(error_of([] { eval("recompute + 1"); }).find("a number was expected") != std::string::npos);
  CHECK(error_of([] {
          sweep::Expr::parse("tp + 1", "/constraints/3").eval_bool([](const std::string&) { return json(2); });
        }).find("is not a condition") != std::string::npos);
}

TEST_CASE("sweep file: product, zip, ranges, derived values and constraints")
{
  const auto spec = sweep::SweepSpec::parse(spec_doc(), ".");
  CHECK(spec.product_size() == 5 * 3 * 2);
  CHECK(spec.columns() ==
        std::vector<std::string>{"/parallelism/tp", "/parallelism/pp", "/site/pue", "/site/grid", "/parallelism/dp"});
  const auto ex = sweep::expand(spec, scenario::Catalog::instance());
  // tp=8 and tp=3 are removed by the constraints: 3 tp values x 3 pp x 2 zipped = 18 points.
  REQUIRE(ex.size() == 18);
  CHECK(ex.skipped == 12);
  const auto p = ex.point(5); // tp=1 (outermost), pp=4, second zip entry
  CHECK(p.index == 5);
  CHECK(
      p.axes.dump() ==
      R"({"/parallelism/tp":1,"/parallelism/pp":4,"/site/pue":1.3,"/site/grid":"cn-national-2023","/parallelism/dp":16})");
  CHECK(p.scenario["parallelism"]["dp"] == 16);
  CHECK(p.scenario["site"]["pue"] == 1.3);
  CHECK_NOTHROW(scenario::parse_scenario(p.scenario, scenario::Catalog::instance()));
  // The fingerprint is stable and changes with the sweep.
  auto other = spec_doc();
  other["axes"]["/parallelism/tp"] = {1, 2};
  CHECK(spec.fingerprint() == sweep::SweepSpec::parse(spec_doc(), ".").fingerprint());
  CHECK(spec.fingerprint() != sweep::SweepSpec::parse(other, ".").fingerprint());
  // The self-contained form round-trips to the same sweep.
  CHECK(sweep::SweepSpec::parse(spec.to_json(), "/nonexistent").fingerprint() == spec.fingerprint());
}

TEST_CASE("sweep file: bad input names the JSON pointer")
{
  auto bad = [](const std::function<void(ordered_json&)>& edit) {
    auto d = spec_doc();
    edit(d);
    return error_of([&] { sweep::SweepSpec::parse(d, "."); });
  };
  CHECK(bad([](auto& d) { d["axis"] = 1; }).rfind("/axis: unknown key", 0) == 0);
  CHECK(bad([](auto& d) { d["axes"]["parallelism/tp"] = {1}; }).rfind("/axes/parallelism~1tp:", 0) == 0);
  CHECK(bad([](auto& d) { d["axes"]["/parallelism/tp"] = ordered_json::array(); }).find("no values") !=
        std::string::npos);
  CHECK(bad([](auto& d) {
          d["axes"]["/parallelism/pp"] = {{"from", 1}, {"to", 4}};
        }).rfind("/axes/~1parallelism~1pp:", 0) == 0);
  CHECK(bad([](auto& d) { d["zip"][0]["/site/pue"] = {1.1}; }).find("same length") != std::string::npos);
  CHECK(bad([](auto& d) { d["constraints"][1] = "tp <="; }).rfind("/constraints/1:", 0) == 0);
  CHECK(bad([](auto& d) { d.erase("base"); }).rfind("/base:", 0) == 0);
  CHECK(bad([](auto& d) { d["axes"]["/parallelism/dp"] = {1}; }).find("twice") != std::string::npos);
}

TEST_CASE("sweep: invalid and out-of-memory points are told apart before anything runs")
{
  const auto spec = sweep::SweepSpec::parse(spec_doc(), ".");
  auto doc = spec.base;
  doc["training"]["recompute"] = "selective";
  doc["parallelism"]["sequence_parallel"] = true;
  scenario::Scenario s;
  CHECK_FALSE(sweep::precheck(doc, scenario::Catalog::instance(), &s).has_value());
  doc["parallelism"]["tp"] = 3;
  auto o = sweep::precheck(doc, scenario::Catalog::instance(), &s);
  REQUIRE(o.has_value());
  CHECK(o->status == sweep::Status::invalid);
  doc["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 64}};
  o = sweep::precheck(doc, scenario::Catalog::instance(), &s);
  REQUIRE(o.has_value());
  CHECK(o->status == sweep::Status::infeasible);
  CHECK(o->error.find("out of memory") != std::string::npos);
}

TEST_CASE("result files: whole lines, a torn last line is dropped, a damaged middle line is an error")
{
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("trainsim_sweep_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "r.jsonl").string();
  sweep::Record a;
  a.point = 0;
  a.axes = {{"/parallelism/tp", 2}};
  a.report = {{"step_time_s", 1.5}, {"carbon_tco2e", 10.0}};
  sweep::Record b = a;
  b.point = 1;
  b.status = sweep::Status::infeasible;
  b.error = "out of memory";
  sweep::ResultLayout layout{{"/parallelism/tp"}, false};
  core::write_file_atomically(path, layout.jsonl_line(a) + layout.jsonl_line(b) + "{\"point\":2,\"ax");
  size_t torn = 0;
  auto rs = sweep::read_jsonl(path, &torn);
  REQUIRE(rs.size() == 2);
  CHECK(torn == 1);
  CHECK(rs[1].status == sweep::Status::infeasible);
  CHECK(rs[0].to_json(false) == a.to_json(false));
  // A complete line without its newline is also a torn write.
  core::write_file_atomically(path,
                              layout.jsonl_line(a) + layout.jsonl_line(b).substr(0, layout.jsonl_line(b).size() - 1));
  CHECK(sweep::read_jsonl(path, &torn).size() == 1);
  core::write_file_atomically(path, layout.jsonl_line(a) + "garbage\n" + layout.jsonl_line(b));
  CHECK(error_of([&] { sweep::read_jsonl(path); }).find("r.jsonl:2") != std::string::npos);
  // CSV: axis columns, status, metrics, error; quoted when needed.
  CHECK(layout.csv_header().rfind("point,/parallelism/tp,status,accelerators,step_time_s,", 0) == 0);
  b.error = "a, \"quoted\" message";
  const auto line = layout.csv_line(b, true);
  CHECK(line.rfind("1,2,infeasible,", 0) == 0);
  CHECK(line.find("\"a, \"\"quoted\"\" message\"\n") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("Pareto marks: non-dominated ok rows, directions and aliases")
{
  auto rec = [](size_t i, double t, double c, double mfu) {
    sweep::Record r;
    r.point = i;
    r.axes = {{"/parallelism/tp", static_cast<int>(i)}};
    r.report = {{"time_to_train_s", t}, {"carbon_tco2e", c}, {"mfu", mfu}};
    return r;
  };
  std::vector<sweep::Record> rs{rec(0, 10, 5, 0.5), rec(1, 8, 6, 0.4), rec(2, 11, 6, 0.6), rec(3, 12, 4, 0.3),
                                rec(4, 10, 5, 0.5)};
  sweep::Record bad;
  bad.point = 5;
  bad.status = sweep::Status::failed;
  rs.push_back(bad);
  sweep::mark_pareto(rs, sweep::parse_pareto("time,carbon", {"/parallelism/tp"}));
  CHECK(rs[0].pareto);
  CHECK(rs[1].pareto);
  CHECK_FALSE(rs[2].pareto); // dominated by 0
  CHECK(rs[3].pareto);
  CHECK(rs[4].pareto); // ties do not dominate
  CHECK_FALSE(rs[5].pareto);
  sweep::mark_pareto(rs, sweep::parse_pareto("time,mfu", {}));
  CHECK(rs[2].pareto); // best MFU (maximised)
  CHECK_FALSE(rs[3].pareto);
  CHECK_THROWS_AS(sweep::parse_pareto("time", {}), core::UsageError);
  CHECK_THROWS_AS(sweep::parse_pareto("time,colour", {}), core::UsageError);
  CHECK(sweep::parse_pareto("min:mfu,/parallelism/tp", {"/parallelism/tp"})[1].axis);
}

TEST_CASE("search objectives: single figures and the weighted geometric mean")
{
  sweep::Figures f{100, 4, 2};
  CHECK(sweep::score(sweep::Objective::parse("time"), f) == 100);
  CHECK(sweep::score(sweep::Objective::parse("carbon"), f) == 2);
  CHECK(sweep::score(sweep::Objective::parse("time=1,energy=1"), f) == Approx(20));
  CHECK_THROWS_AS(sweep::Objective::parse("speed"), core::UsageError);
  CHECK_THROWS_AS(sweep::Objective::parse("time=-1,carbon=1"), core::UsageError);
  CHECK_THROWS_AS(sweep::Objective::parse("time,time"), core::UsageError);
  // The default space lists the parallelism keys in enumeration order; dp follows from the others.
  std::vector<std::string> names;
  for (const auto& d : sweep::default_search_space(8))
    names.push_back(d.name);
  CHECK(names == std::vector<std::string>{"tp", "cp", "pp", "dp", "vpp", "ep", "micro_batch_size", "zero_stage",
                                          "recompute", "sequence_parallel"});
}

TEST_CASE("regress: verdicts, the diff table and exit codes")
{
  sweep::RegressOptions o{0.02, false};
  const sweep::BaselineEntry base{1000, 10, 2};
  CHECK(sweep::compare("a.json", base, {990, 10.1, 2}, o).verdict() == sweep::Verdict::ok);
  CHECK(sweep::compare("a.json", base, {970, 10, 2}, o).verdict() == sweep::Verdict::regressed);
  CHECK(sweep::compare("a.json", base, {1000, 10.5, 2}, o).verdict() == sweep::Verdict::regressed);
  CHECK(sweep::compare("a.json", base, {1100, 9, 2}, o).verdict() == sweep::Verdict::improved);
  CHECK(sweep::compare("a.json", base, {1100, 9, 2}, {0.02, true}).verdict() == sweep::Verdict::regressed);
  std::vector<sweep::RegressRow> rows{sweep::compare("a.json", base, {990, 10, 2}, o)};
  CHECK(sweep::regress_exit_code(rows, false) == 0);
  rows.push_back(sweep::compare("b.json", std::nullopt, {990, 10, 2}, o));
  CHECK(sweep::regress_exit_code(rows, false) == 2);
  CHECK(sweep::regress_exit_code(rows, true) == 0);
  rows.push_back(sweep::compare("c.json", base, {900, 10, 2}, o));
  CHECK(sweep::regress_exit_code(rows, true) == 1);
  const auto table = sweep::regress_table(rows, o);
  CHECK(table.find("c.json    tokens_per_s") != std::string::npos);
  CHECK(table.find("-10%  REGRESSED") != std::string::npos);
  CHECK(table.find("not in baseline") != std::string::npos);
  // Baseline files: round trip, strict keys.
  sweep::Baseline b;
  b.scenarios["x.json"] = base;
  namespace fs = std::filesystem;
  const auto path =
      (fs::temp_directory_path() / ("trainsim_baseline_" + std::to_string(::getpid()) + ".json")).string();
  core::write_file_atomically(path, b.to_text());
  CHECK(sweep::Baseline::load(path).to_text() == b.to_text());
  core::write_file_atomically(
      path,
      R"({"trainsim_regress_baseline": 1, "scenarios": {"x.json": {"tokens_per_s": 1, "energy_mwh": 1, "step_time_s": 1, "mfu": 0.5}}})");
  CHECK(error_of([&] { sweep::Baseline::load(path); }).rfind("/scenarios/x.json/mfu", 0) == 0);
  fs::remove(path);
}

TEST_CASE("Slurm job array script")
{
  namespace fs = std::filesystem;
  const auto spec = sweep::SweepSpec::parse(spec_doc(), ".");
  const auto dir = fs::temp_directory_path() / ("trainsim_slurm_test_" + std::to_string(::getpid()));
  sweep::SlurmOptions o{dir.string(), 4, 2, "00:10:00", "debug", "", {"--mem=2G"}, "/opt/train sim/trainsim"};
  const auto job = sweep::write_slurm_job(spec, 18, o);
  CHECK(job.shards == 4);
  const std::string s = core::read_file(job.script);
  CHECK(s.find("#SBATCH --array=1-4\n") != std::string::npos);
  CHECK(s.find("#SBATCH --cpus-per-task=2\n") != std::string::npos);
  CHECK(s.find("#SBATCH --time=00:10:00\n") != std::string::npos);
  CHECK(s.find("#SBATCH --partition=debug\n") != std::string::npos);
  CHECK(s.find("#SBATCH --mem=2G\n") != std::string::npos);
  CHECK(s.find("exec '/opt/train sim/trainsim' sweep") != std::string::npos);
  CHECK(s.find("--shard \"$i/4\"") != std::string::npos);
  CHECK(sweep::SweepSpec::load((dir / "sweep.json").string()).fingerprint() == spec.fingerprint());
  o.shards = 19;
  CHECK_THROWS_AS(sweep::write_slurm_job(spec, 18, o), core::UsageError);
  fs::remove_all(dir);
  CHECK(sweep::shell_quote("it's") == "'it'\\''s'");
}

TEST_CASE("strict JSON loader: duplicate keys, 1e400, nesting, in linear time", "[inputs]")
{
  CHECK(error_of([] {
          scenario::parse_json_strict(R"({"a": {"b": 1, "b": 2}})", "f.json");
        }).rfind("/a/b: duplicate key", 0) == 0);
  CHECK(error_of([] {
          scenario::parse_ordered_json_strict(R"({"a": [1, {"x~/": 1, "x~/": 1}]})", "f.json");
        }).rfind("/a/1/x~0~1: duplicate key", 0) == 0);
  CHECK(error_of([] {
          scenario::parse_json_strict(R"({"a": [0, 1e400]})", "f.json");
        }).rfind("/a/1: number overflow parsing '1e400' in f.json", 0) == 0);
  CHECK(error_of([] { scenario::parse_json_strict(R"({"a": 1,})", "f.json"); }).find("f.json: malformed JSON") !=
        std::string::npos);
  CHECK(error_of([] {
          scenario::parse_json_strict(std::string(300, '[') + std::string(300, ']'), "f.json");
        }).find("nested deeper than 200 levels") != std::string::npos);
  // Order kept, values as the DOM parser builds them.
  const auto o = scenario::parse_ordered_json_strict(R"({"z": 1, "a": [true, null, "s", -2, 3.5, {}]})", "f");
  CHECK(o.dump() == R"({"z":1,"a":[true,null,"s",-2,3.5,{}]})");
  CHECK(scenario::parse_json_strict(o.dump(), "f") == json::parse(o.dump()));
  // 200 000 objects in one array: linear (the callback parser took quadratic time).
  std::string big = "[";
  for (int i = 0; i < 200000; ++i)
    big += (i ? ",{\"a\":" : "{\"a\":") + std::to_string(i) + "}";
  big += "]";
  const auto t0 = std::chrono::steady_clock::now();
  const auto parsed = scenario::parse_ordered_json_strict(big, "big.json");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(parsed.size() == 200000);
  CHECK(parsed[199999]["a"] == 199999);
  CHECK(s < 5.0);
}

TEST_CASE("sweep expressions: depth and length limits instead of a stack overflow", "[inputs]")
{
  CHECK(error_of([] {
          eval(std::string(100, '(') + "tp" + std::string(100, ')'));
        }).find("nested deeper than 64 levels") != std::string::npos);
  CHECK(error_of([] { eval(std::string(100000, '!') + "true"); }).find("characters; at most 1000") !=
        std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 300; ++i)
    chain += "+1";
  CHECK(error_of([&] { eval(chain); }).find("nested deeper than 128 operations") != std::string::npos);
  std::string ok = "1";
  for (int i = 0; i < 100; ++i)
    ok += "+1";
  CHECK(std::get<double>(eval(ok)) == 101);
  CHECK(std::get<double>(eval(std::string(60, '(') + "tp" + std::string(60, ')'))) == 4);
}

TEST_CASE("sweep file: range caps, checked grid size, integral bounds", "[inputs]")
{
  auto bad = [](const ordered_json& axis) {
    auto d = spec_doc();
    d["axes"]["/parallelism/tp"] = axis;
    return error_of([&] { sweep::SweepSpec::parse(d, "."); });
  };
  CHECK(bad({{"from", 1}, {"to", 1e6}, {"times", 1.0000001}}).find("geometric range has more than 100000") !=
        std::string::npos);
  CHECK(bad({{"from", 1}, {"to", 1e19}, {"step", 1e18}}).find("2^53") != std::string::npos);
  CHECK(bad({{"from", 0.5}, {"to", 2}, {"step", 1e-12}}).find("more than 100000 values") != std::string::npos);
  CHECK(bad({{"from", 1}, {"to", 64}, {"times", 2}}).empty());
  // Five axes of 100 000 values: 10^25 points saturate instead of wrapping to a small number.
  auto d = spec_doc();
  for (int i = 0; i < 5; ++i)
    d["axes"]["/x" + std::to_string(i)] = {{"from", 1}, {"to", 100000}, {"step", 1}};
  const auto spec = sweep::SweepSpec::parse(d, ".");
  CHECK(spec.product_size() == std::numeric_limits<size_t>::max());
  CHECK(error_of([&] { sweep::expand(spec, scenario::Catalog::instance()); }).find("more than 10^19 points") !=
        std::string::npos);
}

TEST_CASE("sweep: the expansion is lazy and rebuilds each point exactly", "[inputs]")
{
  auto d = spec_doc();
  d["axes"]["/simulation/seed"] = {{"from", 1}, {"to", 100}, {"step", 1}}; // 100 values: 1 800 points
  const auto spec = sweep::SweepSpec::parse(d, ".");
  const auto ex = sweep::expand(spec, scenario::Catalog::instance());
  REQUIRE(ex.size() == 1800);
  CHECK(ex.kept.size() == ex.size()); // one product index per point, no scenario kept
  const auto a = ex.point(1234), b = ex.point(1234);
  CHECK(a.index == 1234);
  CHECK(a.scenario == b.scenario);
  CHECK(a.axes == b.axes);
  CHECK(a.scenario["parallelism"]["dp"] == a.axes["/parallelism/dp"]);
  CHECK_THROWS_AS(ex.point(1800), core::UsageError);
}

TEST_CASE("search objectives: extreme weights are normalised, bad ones refused", "[inputs]")
{
  sweep::Figures f{100, 4, 2};
  const double s = sweep::score(sweep::Objective::parse("time=1e308,energy=1e308"), f);
  CHECK(std::isfinite(s));
  CHECK(s == Approx(20));
  CHECK(sweep::score(sweep::Objective::parse("time=1e-300,energy=1e-300"), f) == Approx(20));
  CHECK_THROWS_AS(sweep::Objective::parse("time=inf,carbon=1"), core::UsageError);
  CHECK_THROWS_AS(sweep::Objective::parse("time=nan,carbon=1"), core::UsageError);
  CHECK_THROWS_AS(sweep::Objective::parse("time=1e400,carbon=1"), core::UsageError);
  CHECK_THROWS_AS(sweep::Objective::parse("time=0,carbon=0"), core::UsageError);
  CHECK(error_of([] { sweep::Objective::parse("time=1e300,carbon=1e-300"); }).find("negligible") != std::string::npos);
}

TEST_CASE("sweep merge: the job file is read strictly and checked against the disk", "[inputs]")
{
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("trainsim_merge_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto d = spec_doc();
  const auto spec = sweep::SweepSpec::parse(d, ".");
  const auto& cat = scenario::Catalog::instance();
  const size_t points = sweep::expand(spec, cat).size();
  core::write_file_atomically((dir / "sweep.json").string(), spec.to_json().dump(2));
  auto job = [&](const std::string& text) {
    core::write_file_atomically((dir / "job.json").string(), text);
    return error_of([&] { sweep::merge_shards(dir.string(), (dir / "r").string(), "", cat); });
  };
  const std::string fp = "\"fingerprint\": \"" + spec.fingerprint() + "\"";
  const std::string n = std::to_string(points);
  CHECK(job("{\"trainsim_slurm_job\": 1, " + fp + ", \"points\": " + n + ", \"shards\": 1000000000}")
            .find("job.json: 1000000000 is out of range; valid: 1 to " + n) != std::string::npos);
  CHECK(job("{\"trainsim_slurm_job\": 1, " + fp + ", \"points\": 3, \"shards\": 1}").find("3 points instead of") !=
        std::string::npos);
  CHECK(job("{\"trainsim_slurm_job\": 1, " + fp + ", \"points\": " + n + ", \"shards\": 2, \"shards\": 2}")
            .find("/shards: duplicate key") != std::string::npos);
  core::write_file_atomically((dir / "shard-0001-of-0004.jsonl").string(), "");
  CHECK(job("{\"trainsim_slurm_job\": 1, " + fp + ", \"points\": " + n + ", \"shards\": 2}")
            .find("is a shard of 4 but job.json says 2 shards") != std::string::npos);
  fs::remove(dir / "shard-0001-of-0004.jsonl");
  CHECK(job("{\"trainsim_slurm_job\": 1, " + fp + ", \"points\": " + n + ", \"shards\": 2}").find("have no result") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("sweep: points that differ only in their site run as one task; a failed group reruns point by point")
{
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("trainsim_site_group_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto spec = sweep::SweepSpec::parse(spec_doc(), ".");
  sweep::SweepOptions o;
  o.out_prefix = (dir / "r").string();
  o.jobs = 2;
  const sweep::Evaluate single = [](const scenario::Scenario& s) {
    return ordered_json{{"by", "single"}, {"tp", s.parallelism.tp}, {"pue", s.site.pue}};
  };
  // Runs in the worker child: fails for tp 2, so those groups must come back point by point.
  const sweep::EvaluateSiteGroup group = [](const std::vector<scenario::Scenario>& members) {
    std::vector<ordered_json> out;
    for (const auto& s : members) {
      if (s.parallelism.tp == 2)
        throw core::Error("internal: a group that fails");
      out.push_back({{"by", "group"}, {"tp", s.parallelism.tp}, {"pue", s.site.pue}, {"size", members.size()}});
    }
    return out;
  };
  const auto sum = sweep::run_sweep(spec, scenario::Catalog::instance(), o, single, group);
  std::ifstream in(o.out_prefix + ".jsonl");
  std::string line;
  size_t rows = 0, grouped = 0;
  while (std::getline(in, line)) {
    const auto r = json::parse(line);
    if (r.at("status") != "ok")
      continue;
    ++rows;
    const auto& rep = r.at("report");
    CHECK(rep.at("pue") == r.at("axes").at("/site/pue")); // each point got its own report
    if (rep.at("tp") == 2) {
      CHECK(rep.at("by") == "single");
    } else {
      CHECK(rep.at("by") == "group");
      CHECK(rep.at("size") == 2); // the two site values of the zip
      ++grouped;
    }
  }
  CHECK(rows == sum.counts.at(sweep::Status::ok));
  CHECK(grouped > 0);
  CHECK(grouped < rows);
  fs::remove_all(dir);
}
