#pragma once
#include "trainsim/core/Errors.hpp"

#include <string>
#include <string_view>

namespace trainsim::core {

/// Physical dimension of a quantity written as a string with a unit ("400Gbps", "2us").
enum class Dimension { bandwidth, time, power, energy, bytes, flop_rate, count, temperature };

const char* dimension_name(Dimension d);

/// Parses "400Gbps" / "50GB/s" / "2us" / "700W" / "80GiB" / "312TFLOPS" / "15.6T" into SI units
/// (bytes per second, seconds, watts, joules, bytes, FLOP/s, plain count).
/// Throws core::InvalidArgument with a message listing the valid units.
double parse_quantity(std::string_view text, Dimension dim);

/// Units accepted for a dimension, for error messages.
std::string valid_units(Dimension dim);

/// Human-readable formatting with an SI prefix ("1.23 TFLOP/s", "4.5 ms").
std::string format_seconds(double s);
std::string format_bytes(double b);

} // namespace trainsim::core
