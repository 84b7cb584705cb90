#pragma once

namespace trainsim::cli {

/// Parses the command line and runs the command; returns the process exit code
/// (0 ok, 1 regression found, 2 bad input, 3 internal error). Never calls exit().
int main_entry(int argc, char** argv);

} // namespace trainsim::cli
