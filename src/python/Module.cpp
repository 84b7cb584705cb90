// The Python module `trainsim` (issue 18): the CLI's pipeline behind run(), validate() and sweep().
// Scenarios are parsed in the calling process, so a bad input raises trainsim.Error with the JSON pointer
// before anything is simulated; the simulation itself runs in a forked child (SimGrid's engine is a
// process-wide singleton, as for the CLI's sweep workers), so run() can be called any number of times.
#include <pybind11/pybind11.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "trainsim/cli/Runner.hpp"
#include "trainsim/core/ChildProcess.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Report.hpp"
#include "trainsim/scenario/JsonReader.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/sweep/Sweep.hpp"
#include "trainsim/sweep/SweepSpec.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/workload/Program.hpp"
#include "trainsim/workload/ResourceGuard.hpp"

namespace py = pybind11;
using namespace trainsim;

namespace {

/// A scenario given as a dict (or list, ...) goes through Python's own json module, so that what the parser
/// reads is exactly the JSON a user would have written to a file; a str is a path to a scenario file.
scenario::Scenario parse_argument(const py::object& scenario_arg, const scenario::Catalog& cat)
{
  if (py::isinstance<py::str>(scenario_arg) || py::hasattr(scenario_arg, "__fspath__")) {
    const std::string path = py::str(py::module_::import("os").attr("fspath")(scenario_arg));
    return scenario::load_scenario_file(path, cat);
  }
  const std::string text = py::str(py::module_::import("json").attr("dumps")(scenario_arg));
  return scenario::parse_scenario_text(text, "<dict>", cat);
}

/// What `validate` decides, decided here, before anything is simulated: the error carries its JSON pointer.
void check_runnable(const scenario::Scenario& s, const scenario::Catalog& cat)
{
  workload::check_resources(s, workload::limits_of(s));
  topology::Fabric::build(s.cluster);
  workload::build_workload(s, cat.calibration());
}

/// The JSON report, byte for byte what `trainsim run SCENARIO --json FILE` writes.
std::string run_text(const py::object& scenario_arg, const std::string& fidelity)
{
  const auto& cat = scenario::Catalog::instance();
  const auto s = parse_argument(scenario_arg, cat);
  sim::SimOptions options;
  options.fidelity = cli::parse_fidelity(fidelity);
  check_runnable(s, cat);
  nlohmann::json out;
  {
    py::gil_scoped_release unlocked;
    out = core::run_in_child(
        [&] {
          return nlohmann::json{{"text", report::to_json_text(s, cli::run_scenario(s, cat, options).metrics)}};
        },
        "the simulation process");
  }
  if (out.contains("error"))
    throw core::Error(out.at("error").get<std::string>());
  return out.at("text").get<std::string>();
}

py::object from_json_text(const std::string& text)
{
  return py::module_::import("json").attr("loads")(text);
}

std::string read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs a sweep (a dict in the sweep-file format, or a path) and returns its result rows, in point order.
py::list run_sweep_rows(const py::object& spec_arg, int jobs, const std::string& out)
{
  const auto& cat = scenario::Catalog::instance();
  sweep::SweepSpec spec;
  if (py::isinstance<py::str>(spec_arg) || py::hasattr(spec_arg, "__fspath__")) {
    spec = sweep::SweepSpec::load(py::str(py::module_::import("os").attr("fspath")(spec_arg)));
  } else {
    const std::string text = py::str(py::module_::import("json").attr("dumps")(spec_arg));
    spec = sweep::SweepSpec::parse(scenario::parse_ordered_json_strict(text, "<dict>"), ".");
  }
  namespace fs = std::filesystem;
  const bool temporary = out.empty();
  fs::path dir;
  sweep::SweepOptions o;
  o.jobs = jobs;
  if (temporary) {
    std::string tmpl = (fs::temp_directory_path() / "trainsim-sweep-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
      throw core::IoError("cannot create a temporary directory for the sweep's result files");
    dir = tmpl;
    o.out_prefix = (dir / "results").string();
  } else {
    o.out_prefix = out;
    o.overwrite = true;
  }
  sweep::SweepSummary sum;
  try {
    py::gil_scoped_release unlocked;
    sum = sweep::run_sweep(
        spec, cat, o,
        [&cat](const scenario::Scenario& s) { return report::to_json(s, cli::run_scenario(s, cat).metrics); },
        [&cat](const std::vector<scenario::Scenario>& group) { return cli::site_group_reports(group, cat); });
  } catch (...) {
    if (temporary)
      fs::remove_all(dir);
    throw;
  }
  py::list rows;
  std::istringstream lines(read_file(o.out_prefix + ".jsonl"));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty())
      rows.append(from_json_text(line));
  if (temporary)
    fs::remove_all(dir);
  if (sum.exit_code() == static_cast<int>(core::ExitCode::bad_input))
    throw core::ConfigError("", "every point of the sweep is invalid, e.g.: " + sum.first_invalid);
  return rows;
}

} // namespace

PYBIND11_MODULE(trainsim, m)
{
  m.doc() = "trainsim: time, energy and carbon of LLM training on large accelerator clusters (docs/python.md)";
  static py::exception<core::Error> error(m, "Error");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const core::Error& e) {
      py::object instance = py::reinterpret_borrow<py::object>(error)(py::str(e.what()));
      const auto* c = dynamic_cast<const core::ConfigError*>(&e);
      instance.attr("pointer") = c ? py::object(py::str(c->pointer())) : py::none();
      instance.attr("exit_code") = static_cast<int>(e.exit_code());
      PyErr_SetObject(error.ptr(), instance.ptr());
    }
  });
  m.def("run_json", &run_text, py::arg("scenario"), py::arg("fidelity") = "auto",
        "Simulate a scenario (a dict, or a path to a scenario file) and return the JSON report as text, "
        "byte-identical to `trainsim run SCENARIO --json FILE`.");
  m.def(
      "run", [](const py::object& s, const std::string& f) { return from_json_text(run_text(s, f)); },
      py::arg("scenario"), py::arg("fidelity") = "auto",
      "Simulate a scenario (a dict, or a path) and return the report as a dict.");
  m.def(
      "validate",
      [](const py::object& s) {
        const auto& cat = scenario::Catalog::instance();
        const auto parsed = parse_argument(s, cat);
        check_runnable(parsed, cat);
        return from_json_text(scenario::to_json(parsed).dump());
      },
      py::arg("scenario"), "Check a scenario and return it resolved (what `trainsim validate --dump` prints).");
  m.def("sweep", &run_sweep_rows, py::arg("sweep"), py::arg("jobs") = 0, py::arg("out") = "",
        "Run a sweep (a dict in the sweep-file format, or a path) and return its result rows in point order; "
        "with out=PREFIX the result files are kept as PREFIX.csv/.jsonl.");
  m.attr("__version__") = "0.1.0";
}
