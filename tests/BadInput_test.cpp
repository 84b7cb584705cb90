// Bad-input tests: each case mutates ONE thing in the built-in default scenario and checks that the parser
// (or, for out-of-memory cases, build_workload) throws core::ConfigError whose message starts with the exact
// JSON pointer and carries the fix / valid-values text.
#include <catch2/catch.hpp>

#include <exception>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/core/Errors.hpp"
#include "trainsim/scenario/Catalog.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"
#include "trainsim/workload/Program.hpp"

namespace {

using nlohmann::json;
using trainsim::core::ConfigError;
using trainsim::scenario::Catalog;
using trainsim::scenario::Scenario;

json base()
{
  return json::parse(trainsim::scenario::default_scenario_text());
}

json::json_pointer ptr(const std::string& p)
{
  return json::json_pointer(p);
}

/// Default scenario with the value at `pointer` replaced (or added) by `value`.
json with(const std::string& pointer, const json& value)
{
  json doc = base();
  doc[ptr(pointer)] = value;
  return doc;
}

/// Default scenario without the key at `pointer`.
json without(const std::string& pointer)
{
  json doc = base();
  auto p = ptr(pointer);
  std::string key = p.back();
  p.pop_back();
  REQUIRE(doc[p].erase(key) == 1);
  return doc;
}

Scenario parse(const json& doc)
{
  return trainsim::scenario::parse_scenario(doc, Catalog::instance());
}

/// Checks a caught ConfigError: exact pointer, message "POINTER: ..." and every fragment present.
void check_error(const ConfigError& e, const std::string& pointer, const std::vector<std::string>& fragments)
{
  const std::string what = e.what();
  INFO("message: " << what);
  CHECK(e.pointer() == pointer);
  REQUIRE_THAT(what, Catch::StartsWith((pointer.empty() ? std::string("/") : pointer) + ": "));
  for (const auto& f : fragments)
    REQUIRE_THAT(what, Catch::Contains(f));
}

/// parse_scenario(doc) must throw ConfigError at `pointer` whose message contains every fragment.
void expect_parse_error(const json& doc, const std::string& pointer, const std::vector<std::string>& fragments)
{
  INFO("expected a ConfigError at \"" << pointer << "\"");
  try {
    parse(doc);
  } catch (const ConfigError& e) {
    check_error(e, pointer, fragments);
    return;
  } catch (const std::exception& e) {
    FAIL("threw a non-ConfigError exception (the CLI reports it as an internal error, exit 3): " << e.what());
  }
  FAIL("parse_scenario accepted the input");
}

/// parse_scenario(doc) succeeds; build_workload must throw ConfigError at `pointer`.
void expect_workload_error(const json& doc, const std::string& pointer, const std::vector<std::string>& fragments)
{
  Scenario s;
  REQUIRE_NOTHROW(s = parse(doc));
  INFO("expected a ConfigError at \"" << pointer << "\" from build_workload");
  try {
    trainsim::workload::build_workload(s, Catalog::instance().calibration());
  } catch (const ConfigError& e) {
    check_error(e, pointer, fragments);
    return;
  } catch (const std::exception& e) {
    FAIL("threw a non-ConfigError exception: " << e.what());
  }
  FAIL("build_workload accepted the input");
}

} // namespace

TEST_CASE("bad input: the unmodified default scenario parses and fits", "[badinput]")
{
  Scenario s;
  REQUIRE_NOTHROW(s = parse(base()));
  REQUIRE_NOTHROW(trainsim::workload::build_workload(s, Catalog::instance().calibration()));
}

// ---------------------------------------------------------------- unknown / misspelled keys

TEST_CASE("bad input: unknown top-level key", "[badinput]")
{
  expect_parse_error(with("/typo", 1), "/typo", {"unknown key", "valid keys here", "cluster", "parallelism"});
}

TEST_CASE("bad input: unknown nested key /cluster/fabric/typo", "[badinput]")
{
  expect_parse_error(with("/cluster/fabric/typo", "x"), "/cluster/fabric/typo",
                     {"unknown key", "nic_bandwidth", "oversubscription", "switch_radix"});
}

TEST_CASE("bad input: misspelled key /training/precison lists the right spelling", "[badinput]")
{
  json doc = without("/training/precision");
  doc["training"]["precison"] = "bf16";
  expect_parse_error(doc, "/training/precison", {"unknown key", "precision"});
}

TEST_CASE("bad input: misspelled optional key /cluster/scaleup lists scale_up", "[badinput]")
{
  // scale_up is a valid (optional) key of /cluster; the valid-keys list must name it.
  expect_parse_error(with("/cluster/scaleup", json{{"bandwidth", "900GB/s"}}), "/cluster/scaleup",
                     {"unknown key", "scale_up"});
}

TEST_CASE("bad input: misspelled optional top-level key /referense lists reference", "[badinput]")
{
  expect_parse_error(with("/referense", json{{"step_time_s", 10.0}, {"source", "x"}}), "/referense",
                     {"unknown key", "reference"});
}

TEST_CASE("bad input: unknown key with / and ~ is escaped in the pointer (RFC 6901)", "[badinput]")
{
  json doc = base();
  doc["a/b~c"] = 1;
  expect_parse_error(doc, "/a~1b~0c", {"unknown key"});
}

TEST_CASE("bad input: unknown key inside an inline accelerator object", "[badinput]")
{
  expect_parse_error(with("/cluster/accelerator", json{{"preset", "H800-SXM-80GB"}, {"typo", 1}}),
                     "/cluster/accelerator/typo", {"unknown key", "memory"});
}

// ---------------------------------------------------------------- wrong types

TEST_CASE("bad input: string for int (/cluster/nodes \"64\")", "[badinput]")
{
  expect_parse_error(with("/cluster/nodes", "64"), "/cluster/nodes", {"expected an integer", "string", "\"64\""});
}

TEST_CASE("bad input: int for string (/name 42)", "[badinput]")
{
  expect_parse_error(with("/name", 42), "/name", {"expected a string", "42"});
}

TEST_CASE("bad input: array for object (/cluster/fabric [])", "[badinput]")
{
  // The scenario schema has no array-valued keys, so the container mix-up tested is array-for-object.
  expect_parse_error(with("/cluster/fabric", json::array({1, 2})), "/cluster/fabric", {"expected an object", "array"});
}

TEST_CASE("bad input: object for string (/training/precision {})", "[badinput]")
{
  expect_parse_error(with("/training/precision", json::object({{"a", 1}})), "/training/precision",
                     {"expected a string", "object"});
}

TEST_CASE("bad input: bool for number (/site/pue true)", "[badinput]")
{
  expect_parse_error(with("/site/pue", true), "/site/pue", {"expected a number", "boolean"});
}

TEST_CASE("bad input: null for int (/parallelism/tp null)", "[badinput]")
{
  expect_parse_error(with("/parallelism/tp", nullptr), "/parallelism/tp", {"expected an integer", "null"});
}

TEST_CASE("bad input: document is not an object", "[badinput]")
{
  expect_parse_error(json::array({1}), "", {"expected an object", "array"});
}

TEST_CASE("bad input: accelerator is a number", "[badinput]")
{
  expect_parse_error(with("/cluster/accelerator", 7), "/cluster/accelerator",
                     {"expected a catalogue id", "H100-SXM-80GB"});
}

TEST_CASE("bad input: inline accelerator with a non-string name", "[badinput]")
{
  // An inline accelerator object whose "name" is not a string must be a ConfigError at its pointer,
  // not a nlohmann type_error (which the CLI reports as an internal error, exit 3).
  expect_parse_error(with("/cluster/accelerator", json{{"name", 5}}), "/cluster/accelerator/name",
                     {"expected a string", "5"});
}

// ---------------------------------------------------------------- missing keys

TEST_CASE("bad input: missing /name", "[badinput]")
{
  expect_parse_error(without("/name"), "/name", {"missing required key"});
}

TEST_CASE("bad input: missing /cluster/nodes", "[badinput]")
{
  expect_parse_error(without("/cluster/nodes"), "/cluster/nodes", {"missing required key"});
}

TEST_CASE("bad input: missing /training/tokens", "[badinput]")
{
  expect_parse_error(without("/training/tokens"), "/training/tokens", {"missing required key"});
}

TEST_CASE("bad input: missing /schema_version", "[badinput]")
{
  expect_parse_error(without("/schema_version"), "/schema_version", {"missing required key"});
}

TEST_CASE("bad input: missing /cluster/fabric object", "[badinput]")
{
  expect_parse_error(without("/cluster/fabric"), "/cluster/fabric", {"missing required key"});
}

// ---------------------------------------------------------------- negative and zero sizes

TEST_CASE("bad input: zero and negative node counts", "[badinput]")
{
  SECTION("0")
  {
    expect_parse_error(with("/cluster/nodes", 0), "/cluster/nodes", {"out of range", "valid: 1 to 1000000"});
  }
  SECTION("-8")
  {
    expect_parse_error(with("/cluster/nodes", -8), "/cluster/nodes", {"-8 is out of range", "valid: 1 to"});
  }
}

TEST_CASE("bad input: zero micro_batch_size", "[badinput]")
{
  expect_parse_error(with("/training/micro_batch_size", 0), "/training/micro_batch_size",
                     {"out of range", "valid: 1 to"});
}

TEST_CASE("bad input: zero and negative token counts", "[badinput]")
{
  SECTION("\"0\"")
  {
    expect_parse_error(with("/training/tokens", "0"), "/training/tokens", {"out of range", "above 0"});
  }
  SECTION("\"-5T\"")
  {
    expect_parse_error(with("/training/tokens", "-5T"), "/training/tokens", {"out of range", "above 0"});
  }
}

TEST_CASE("bad input: negative and zero bandwidth", "[badinput]")
{
  SECTION("-400Gbps")
  {
    expect_parse_error(with("/cluster/fabric/nic_bandwidth", "-400Gbps"), "/cluster/fabric/nic_bandwidth",
                       {"out of range", "above 0"});
  }
  SECTION("0Gbps")
  {
    expect_parse_error(with("/cluster/fabric/nic_bandwidth", "0Gbps"), "/cluster/fabric/nic_bandwidth",
                       {"out of range", "above 0"});
  }
}

TEST_CASE("bad input: zero gradient bucket size", "[badinput]")
{
  expect_parse_error(with("/parallelism/grad_bucket_size", "0MB"), "/parallelism/grad_bucket_size",
                     {"out of range", "above 0"});
}

TEST_CASE("bad input: negative fabric latency", "[badinput]")
{
  // A latency below zero is physically meaningless and must be rejected (not only below -1 s).
  expect_parse_error(with("/cluster/fabric/latency", "-5us"), "/cluster/fabric/latency", {"out of range"});
}

TEST_CASE("bad input: zero published reference step time", "[badinput]")
{
  // reproduce divides by the published step time; 0 must be rejected.
  expect_parse_error(with("/reference", json{{"step_time_s", 0}, {"source", "paper"}}), "/reference/step_time_s",
                     {"out of range"});
}

TEST_CASE("bad input: dropout out of range", "[badinput]")
{
  expect_parse_error(with("/model/dropout", 1.5), "/model/dropout", {"out of range", "valid: 0 to 0.99"});
}

TEST_CASE("bad input: negative CO2 intensity in an inline grid", "[badinput]")
{
  expect_parse_error(with("/site/grid", json{{"co2_kg_per_kwh", -0.5}}), "/site/grid/co2_kg_per_kwh",
                     {"out of range", "valid: 0 to 5"});
}

TEST_CASE("bad input: inline accelerator idle power above peak power", "[badinput]")
{
  expect_parse_error(
      with("/cluster/accelerator", json{{"preset", "H800-SXM-80GB"}, {"power", {{"idle", "900W"}, {"peak", "700W"}}}}),
      "/cluster/accelerator/power", {"idle power exceeds peak power", "at most peak"});
}

// ---------------------------------------------------------------- units

TEST_CASE("bad input: unknown unit 400Gbit", "[badinput]")
{
  expect_parse_error(with("/cluster/fabric/nic_bandwidth", "400Gbit"), "/cluster/fabric/nic_bandwidth",
                     {"unknown unit 'Gbit'", "write a number followed by one of", "Gbps"});
}

TEST_CASE("bad input: no number (\"fast\")", "[badinput]")
{
  expect_parse_error(with("/cluster/fabric/latency", "fast"), "/cluster/fabric/latency",
                     {"no number", "write a number followed by one of", "us"});
}

TEST_CASE("bad input: wrong dimension (tokens \"12parsecs\")", "[badinput]")
{
  expect_parse_error(with("/training/tokens", "12parsecs"), "/training/tokens",
                     {"unknown unit 'parsecs'", "write a number followed by one of", "T"});
}

TEST_CASE("bad input: unit of another dimension (latency \"400Gbps\")", "[badinput]")
{
  expect_parse_error(with("/cluster/fabric/latency", "400Gbps"), "/cluster/fabric/latency",
                     {"unknown unit 'Gbps'", "ns, us, ms"});
}

TEST_CASE("bad input: number string without unit", "[badinput]")
{
  expect_parse_error(with("/cluster/fabric/nic_bandwidth", "400"), "/cluster/fabric/nic_bandwidth",
                     {"missing unit", "Gbps"});
}

TEST_CASE("bad input: bare number where a unit string is required", "[badinput]")
{
  SECTION("nic_bandwidth 400")
  {
    expect_parse_error(with("/cluster/fabric/nic_bandwidth", 400), "/cluster/fabric/nic_bandwidth",
                       {"expected a string with a unit", "\"400Gbps\""});
  }
  SECTION("tokens 15.6e12")
  {
    expect_parse_error(with("/training/tokens", 15.6e12), "/training/tokens",
                       {"expected a string with a unit", "\"15.6T\""});
  }
}

// ---------------------------------------------------------------- catalogue ids and enums

TEST_CASE("bad input: unknown accelerator id lists valid ids", "[badinput]")
{
  expect_parse_error(with("/cluster/accelerator", "H100-PCIE-80GB"), "/cluster/accelerator",
                     {"unknown accelerator \"H100-PCIE-80GB\"", "valid:", "H100-SXM-80GB", "A100-SXM-80GB"});
}

TEST_CASE("bad input: unknown accelerator preset inside an object", "[badinput]")
{
  expect_parse_error(with("/cluster/accelerator", json{{"preset", "B200"}}), "/cluster/accelerator/preset",
                     {"unknown accelerator \"B200\"", "H800-SXM-80GB"});
}

TEST_CASE("bad input: unknown model preset", "[badinput]")
{
  expect_parse_error(with("/model/preset", "llama4-2t"), "/model/preset",
                     {"unknown model preset \"llama4-2t\"", "valid:", "llama3-70b", "gpt3-175b"});
}

TEST_CASE("bad input: unknown grid", "[badinput]")
{
  expect_parse_error(with("/site/grid", "mars-2050"), "/site/grid",
                     {"unknown grid \"mars-2050\"", "valid:", "cn-national-2023"});
}

TEST_CASE("bad input: unknown fabric type", "[badinput]")
{
  expect_parse_error(with("/cluster/fabric/type", "hypercube"), "/cluster/fabric/type",
                     {"\"hypercube\" is not valid", "valid: fat_tree, rail_optimized, dragonfly, torus, supernode"});
}

TEST_CASE("bad input: unknown precision", "[badinput]")
{
  expect_parse_error(with("/training/precision", "fp4"), "/training/precision",
                     {"\"fp4\" is not valid", "valid: bf16, fp16, fp8"});
}

// ---------------------------------------------------------------- consistency

TEST_CASE("bad input: tp does not divide attention heads", "[badinput]")
{
  json doc = base();
  doc["cluster"]["nodes"] = 24; // 192 accelerators = 3 * 4 * 16
  doc["parallelism"]["tp"] = 3;
  expect_parse_error(doc, "/parallelism/tp", {"3 does not divide attention_heads 64", "use a divisor"});
}

TEST_CASE("bad input: tp*pp*dp differs from the accelerator count", "[badinput]")
{
  expect_parse_error(with("/parallelism/dp", 8), "/parallelism",
                     {"tp*pp*dp = 8*4*8 = 256", "512 accelerators", "make tp*pp*dp equal nodes*accelerators_per_node"});
}

TEST_CASE("bad input: pp*vpp does not divide layers", "[badinput]")
{
  expect_parse_error(with("/parallelism/vpp", 3), "/parallelism/pp",
                     {"pp*vpp = 12 does not divide layers 80", "product divides the layer count"});
}

TEST_CASE("bad input: global batch not a multiple of dp*micro_batch_size", "[badinput]")
{
  expect_parse_error(with("/training/global_batch_size", 500), "/training/global_batch_size",
                     {"500 is not a multiple of dp*micro_batch_size = 16", "choose a multiple"});
}

TEST_CASE("bad input: vpp > 1 with micro-batches not a multiple of pp", "[badinput]")
{
  // 96 / 16 = 6 micro-batches per replica, not a multiple of pp = 4.
  expect_parse_error(with("/training/global_batch_size", 96), "/parallelism/vpp",
                     {"micro-batches per replica (6)", "multiple of pp (4)", "set vpp to 1"});
}

TEST_CASE("bad input: sequence_parallel with tp 1", "[badinput]")
{
  json doc = base();
  doc["parallelism"]["tp"] = 1;
  doc["parallelism"]["dp"] = 128;
  expect_parse_error(doc, "/parallelism/sequence_parallel", {"needs tp > 1", "set it to false or raise tp"});
}

TEST_CASE("bad input: fp8 on A100", "[badinput]")
{
  json doc = base();
  doc["cluster"]["accelerator"] = "A100-SXM-80GB";
  doc["training"]["precision"] = "fp8";
  expect_parse_error(doc, "/training/precision",
                     {"\"fp8\" is not supported by A100-SXM-80GB", "use one of its precisions"});
}

TEST_CASE("bad input: zero_stage 4, and fsdp contradicting zero_stage", "[badinput]")
{
  // ZeRO stages 0-3 are modelled (stage 3 used to be rejected as not supported yet).
  expect_parse_error(with("/parallelism/zero_stage", 4), "/parallelism/zero_stage", {"4 is out of range"});
  json doc = with("/parallelism/zero_stage", 2);
  doc["parallelism"]["fsdp"] = true;
  expect_parse_error(doc, "/parallelism/fsdp", {"contradicts zero_stage 2", "set fsdp to false"});
}

TEST_CASE("bad input: schema_version 2", "[badinput]")
{
  expect_parse_error(with("/schema_version", 2), "/schema_version", {"2 is out of range", "valid: 1 to 1"});
}

TEST_CASE("bad input: custom model whose heads do not divide hidden_size", "[badinput]")
{
  json model{{"name", "odd"},       {"layers", 80},       {"hidden_size", 1000}, {"attention_heads", 7},
             {"vocab_size", 32000}, {"seq_length", 2048}, {"activation", "gelu"}};
  expect_parse_error(with("/model", model), "/model/attention_heads",
                     {"7 does not divide hidden_size 1000", "hidden_size / heads is an integer"});
}

// ---------------------------------------------------------------- oversubscription

TEST_CASE("bad input: oversubscription that is not a ratio", "[badinput]")
{
  const std::string p = "/cluster/fabric/oversubscription";
  SECTION("fast")
  {
    expect_parse_error(with(p, "fast"), p, {"\"fast\" is not a ratio", "\"down:up\"", "at most 64:1"});
  }
  SECTION("3")
  {
    expect_parse_error(with(p, "3"), p, {"is not a ratio", "\"down:up\""});
  }
  SECTION("1:3 (undersubscribed)")
  {
    expect_parse_error(with(p, "1:3"), p, {"is not a ratio", "at least 1:1"});
  }
  SECTION("128:1")
  {
    expect_parse_error(with(p, "128:1"), p, {"is not a ratio", "at most 64:1"});
  }
  SECTION("NaN:1")
  {
    expect_parse_error(with(p, "NaN:1"), p, {"is not a ratio"});
  }
  SECTION("0.5 as a number")
  {
    expect_parse_error(with(p, 0.5), p, {"out of range", "valid: 1 to 64"});
  }
}

TEST_CASE("bad input: oversubscription with trailing garbage", "[badinput]")
{
  const std::string p = "/cluster/fabric/oversubscription";
  SECTION("2:1garbage")
  {
    expect_parse_error(with(p, "2:1garbage"), p, {"is not a ratio", "\"down:up\""});
  }
  SECTION("3:1:1")
  {
    expect_parse_error(with(p, "3:1:1"), p, {"is not a ratio", "\"down:up\""});
  }
}

// ---------------------------------------------------------------- huge numbers, overflow, NaN / Inf

TEST_CASE("bad input: 1e300 nodes", "[badinput]")
{
  expect_parse_error(with("/cluster/nodes", 1e300), "/cluster/nodes", {"expected an integer", "1e+300"});
}

TEST_CASE("bad input: integers that overflow int / long", "[badinput]")
{
  SECTION("nodes 2^32 + 8 (would wrap to 8 as int)")
  {
    expect_parse_error(with("/cluster/nodes", 4294967304LL), "/cluster/nodes", {"out of range", "valid: 1 to 1000000"});
  }
  SECTION("nodes 2^63 (unsigned, above LONG_MAX)")
  {
    expect_parse_error(with("/cluster/nodes", 9223372036854775808ULL), "/cluster/nodes",
                       {"9223372036854775808 is out of range"});
  }
  SECTION("global_batch_size 2^64 - 1")
  {
    expect_parse_error(with("/training/global_batch_size", 18446744073709551615ULL), "/training/global_batch_size",
                       {"out of range", "valid: 1 to 1099511627776"});
  }
  SECTION("seed -1")
  {
    expect_parse_error(with("/simulation/seed", -1), "/simulation/seed", {"out of range", "valid: 0 to"});
  }
  SECTION("accelerators_per_node 100000")
  {
    expect_parse_error(with("/cluster/accelerators_per_node", 100000), "/cluster/accelerators_per_node",
                       {"out of range", "valid: 1 to 1024"});
  }
}

TEST_CASE("bad input: tp*pp*dp that overflows 64 bits is reported correctly", "[badinput]")
{
  json doc = base();
  doc["parallelism"]["tp"] = 1 << 20;
  doc["parallelism"]["pp"] = 1 << 20;
  doc["parallelism"]["dp"] = 1 << 24; // product 2^64: must not be reported as 0 or a negative number
  try {
    parse(doc);
    FAIL("accepted tp*pp*dp = 2^64 on 512 accelerators");
  } catch (const ConfigError& e) {
    check_error(e, "/parallelism", {"but the cluster has 512 accelerators"});
    const std::string what = e.what();
    INFO("message: " << what);
    CHECK_THAT(what, !Catch::Contains("= 0 but"));
    CHECK_THAT(what, !Catch::Contains("= -"));
  }
}

TEST_CASE("bad input: micro-batches per replica beyond one simulated step", "[badinput]")
{
  expect_parse_error(with("/training/global_batch_size", 1L << 40), "/training/global_batch_size",
                     {"micro-batches per replica", "at most 1000000", "raise micro_batch_size or dp"});
}

TEST_CASE("bad input: NaN and Inf spelled as strings", "[badinput]")
{
  SECTION("tokens \"NaN\"")
  {
    expect_parse_error(with("/training/tokens", "NaN"), "/training/tokens", {"not finite", "write a number"});
  }
  SECTION("tokens \"inf\"")
  {
    expect_parse_error(with("/training/tokens", "inf"), "/training/tokens", {"not finite", "write a number"});
  }
  SECTION("nic_bandwidth \"InfinityGbps\"")
  {
    expect_parse_error(with("/cluster/fabric/nic_bandwidth", "InfinityGbps"), "/cluster/fabric/nic_bandwidth",
                       {"not finite", "Gbps"});
  }
  SECTION("nic_bandwidth \"1e400Gbps\" (overflows double)")
  {
    expect_parse_error(with("/cluster/fabric/nic_bandwidth", "1e400Gbps"), "/cluster/fabric/nic_bandwidth",
                       {"not finite"});
  }
  SECTION("pue \"NaN\"")
  {
    expect_parse_error(with("/site/pue", "NaN"), "/site/pue", {"expected a number", "string"});
  }
  SECTION("nodes \"Infinity\"")
  {
    expect_parse_error(with("/cluster/nodes", "Infinity"), "/cluster/nodes", {"expected an integer", "string"});
  }
}

// ---------------------------------------------------------------- memory

TEST_CASE("bad input: llama3-405b on 8 GPUs with tp 1 pp 1 is out of memory", "[badinput]")
{
  json doc = base();
  doc["cluster"]["nodes"] = 1;
  doc["model"]["preset"] = "llama3-405b";
  doc["parallelism"] = {{"tp", 1}, {"pp", 1}, {"dp", 8}, {"vpp", 1}, {"sequence_parallel", false}, {"zero_stage", 1}};
  expect_workload_error(doc, "/parallelism",
                        {"out of memory on pipeline stage 0", "weights", "gradients", "optimizer", "activations",
                         "workspace", "exceeds the usable", "H800-SXM-80GB", "raise tp or pp"});
}

TEST_CASE("accelerator preset overrides merge into the peak FLOP/s table", "[scenario]")
{
  auto doc = nlohmann::json::parse(trainsim::scenario::default_scenario_text());
  doc["cluster"]["accelerator"] = {{"preset", "H800-SXM-80GB"}, {"peak_flops", {{"fp8", nullptr}}}};
  auto s = trainsim::scenario::parse_scenario(doc, trainsim::scenario::Catalog::instance());
  CHECK(s.cluster.accelerator.peak(trainsim::scenario::Precision::bf16) > 9e14); // kept from the preset
  CHECK(s.cluster.accelerator.peak(trainsim::scenario::Precision::fp8) == 0);    // removed by null
}
