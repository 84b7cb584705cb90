#include "trainsim/core/Units.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace trainsim::core {

namespace {

struct Unit {
  const char* name;
  double factor;
};

const std::vector<Unit>& units_of(Dimension dim)
{
  static const std::vector<Unit> bandwidth{
      {"bps", 1.0 / 8}, {"Kbps", 1e3 / 8}, {"Mbps", 1e6 / 8}, {"Gbps", 1e9 / 8},      {"Tbps", 1e12 / 8}, {"B/s", 1},
      {"KB/s", 1e3},    {"MB/s", 1e6},     {"GB/s", 1e9},     {"TB/s", 1e12},         {"Bps", 1},         {"KBps", 1e3},
      {"MBps", 1e6},    {"GBps", 1e9},     {"TBps", 1e12},    {"GiB/s", 1073741824.0}};
  static const std::vector<Unit> time{{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1},
                                      {"min", 60},  {"h", 3600},  {"d", 86400}};
  static const std::vector<Unit> power{{"W", 1}, {"kW", 1e3}, {"MW", 1e6}};
  static const std::vector<Unit> energy{{"J", 1},       {"kJ", 1e3},    {"MJ", 1e6},    {"Wh", 3600},
                                        {"kWh", 3.6e6}, {"MWh", 3.6e9}, {"GWh", 3.6e12}};
  static const std::vector<Unit> bytes{{"B", 1},           {"KB", 1e3},           {"MB", 1e6},
                                       {"GB", 1e9},        {"TB", 1e12},          {"KiB", 1024.0},
                                       {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
  static const std::vector<Unit> flop_rate{{"FLOPS", 1}, {"GFLOPS", 1e9}, {"TFLOPS", 1e12}, {"PFLOPS", 1e15}};
  static const std::vector<Unit> count{{"", 1}, {"K", 1e3}, {"M", 1e6}, {"B", 1e9}, {"G", 1e9}, {"T", 1e12}};
  static const std::vector<Unit> temperature{{"C", 1}};
  switch (dim) {
  case Dimension::bandwidth:
    return bandwidth;
  case Dimension::time:
    return time;
  case Dimension::power:
    return power;
  case Dimension::energy:
    return energy;
  case Dimension::bytes:
    return bytes;
  case Dimension::flop_rate:
    return flop_rate;
  case Dimension::count:
    return count;
  case Dimension::temperature:
    return temperature;
  }
  return count;
}

} // namespace

const char* dimension_name(Dimension d)
{
  switch (d) {
  case Dimension::bandwidth:
    return "bandwidth";
  case Dimension::time:
    return "time";
  case Dimension::power:
    return "power";
  case Dimension::energy:
    return "energy";
  case Dimension::bytes:
    return "size";
  case Dimension::flop_rate:
    return "FLOP rate";
  case Dimension::count:
    return "count";
  case Dimension::temperature:
    return "temperature";
  }
  return "quantity";
}

std::string valid_units(Dimension dim)
{
  std::string out;
  for (const auto& u : units_of(dim)) {
    if (u.name[0] == '\0')
      continue;
    if (!out.empty())
      out += ", ";
    out += u.name;
  }
  return out;
}

double parse_quantity(std::string_view text, Dimension dim)
{
  std::string s(text);
  const char* begin = s.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  // A count may also be a plain number ("1000000"): the sentence says so, not only the suffixes.
  const bool unitless_ok = !units_of(dim).empty() && units_of(dim).front().name[0] == '\0';
  auto fail = [&](const std::string& why) {
    throw core::InvalidArgument("\"" + s + "\" is not a " + dimension_name(dim) + " (" + why + "); " +
                                (unitless_ok ? "write a plain number such as 1000000, or " : "") +
                                "write a number followed by one of: " + valid_units(dim));
  };
  if (end == begin)
    fail("no number");
  if (!std::isfinite(value))
    fail("not finite");
  std::string unit(end);
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(unit.begin());
  for (const auto& u : units_of(dim))
    if (unit == u.name) {
      double v = value * u.factor;
      if (!std::isfinite(v))
        fail("out of range");
      return v;
    }
  fail(unit.empty() ? "missing unit" : "unknown unit '" + unit + "'");
  return 0;
}

std::string format_seconds(double s)
{
  char buf[64];
  if (s >= 86400 * 2)
    std::snprintf(buf, sizeof buf, "%.2f d", s / 86400);
  else if (s >= 1)
    std::snprintf(buf, sizeof buf, "%.3f s", s);
  else if (s >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.3f ms", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3f us", s * 1e6);
  return buf;
}

std::string format_bytes(double b)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
  return buf;
}

} // namespace trainsim::core
