#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace trainsim::core {

/// Writes `content` to `path` atomically: a temporary file beside it, fsync, then rename.
/// Readers see the old file or the whole new one, never a half-written one. Refuses to replace anything
/// that is not a regular file (a device, a pipe, a socket): as root the rename would replace /dev/full.
/// Throws IoError.
void write_file_atomically(const std::string& path, const std::string& content);
/// Throws IoError when `path` cannot be written (no such directory, a directory itself, not writable, an
/// existing file that is not a regular file): commands call it before long work, so that a bad output path
/// fails at once.
void check_output_path(const std::string& path);

/// A path a command reads or writes, with the option or argument that named it (for the message).
struct NamedPath {
  std::string option; ///< "--json", "scenario", "-o", ...
  std::string path;   ///< empty: not given (skipped)
};

/// The one output-path check of every command that writes files: each output passes check_output_path and
/// is neither one of the inputs nor another output. Paths are compared by device and inode where the file
/// exists, else by the resolved path (realpath of the directory + the name), so "./r.json", "r.json" and a
/// hard link or symlink to it are the same file. Throws IoError naming both options.
void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

/// Several output files written all or nothing: add() writes each to a temporary file beside its target
/// (fsync), commit() renames them all into place at the end; a failure before commit, or the destructor of
/// an uncommitted set, removes every temporary, so that a failed run leaves no output behind.
class OutputFiles {
public:
  OutputFiles() = default;
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;
  ~OutputFiles();
  /// Writes `content` to a temporary beside `path` (an empty path is skipped). Throws IoError.
  void add(const std::string& path, const std::string& content);
  /// Renames every temporary into place. Throws IoError (the temporaries not yet renamed are removed).
  void commit();

private:
  struct Staged {
    std::string path, tmp;
  };
  std::vector<Staged> staged_;
};

/// Largest input file read_file accepts (scenarios and catalogue files are kilobytes).
inline constexpr std::uintmax_t max_input_bytes = 64u << 20;

/// Reads a whole file; throws IoError naming the path when it cannot (missing, directory, not a regular
/// file, larger than max_input_bytes, unreadable).
std::string read_file(const std::string& path);

/// An exclusive, non-blocking flock on a lock file `path` (created if missing, removed on release): a second
/// command on the same output finds it held and fails at once with an IoError naming `what`, instead of both
/// running and mixing their files. The lock ends with the process, however it ends.
class FileLock {
public:
  FileLock(const std::string& path, const std::string& what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  std::string path_;
  int fd_ = -1;
};

} // namespace trainsim::core
