#pragma once
#include <string>

namespace trainsim::core {

/// Writes `content` to `path` atomically: a temporary file beside it, fsync, then rename.
/// Readers see the old file or the whole new one, never a half-written one. Throws IoError.
void write_file_atomically(const std::string& path, const std::string& content);

/// Reads a whole file; throws IoError naming the path when it cannot (missing, directory, unreadable).
std::string read_file(const std::string& path);

} // namespace trainsim::core
