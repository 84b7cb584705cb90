#pragma once
#include <cstdint>
#include <string>

namespace trainsim::core {

/// Writes `content` to `path` atomically: a temporary file beside it, fsync, then rename.
/// Readers see the old file or the whole new one, never a half-written one. Throws IoError.
void write_file_atomically(const std::string& path, const std::string& content);
/// Throws IoError when `path` cannot be written (no such directory, a directory itself, not writable):
/// commands call it before long work, so that a bad output path fails at once.
void check_output_path(const std::string& path);

/// Largest input file read_file accepts (scenarios and catalogue files are kilobytes).
inline constexpr std::uintmax_t max_input_bytes = 64u << 20;

/// Reads a whole file; throws IoError naming the path when it cannot (missing, directory, not a regular
/// file, larger than max_input_bytes, unreadable).
std::string read_file(const std::string& path);

} // namespace trainsim::core
