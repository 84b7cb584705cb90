#include "trainsim/core/AtomicFile.hpp"

#include "trainsim/core/Errors.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trainsim::core {

namespace {

namespace fs = std::filesystem;

fs::path directory_of(const fs::path& target)
{
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

/// The same file, however it is named: device and inode where it exists, else the resolved path.
std::string identity(const std::string& path)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return "inode " + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  std::error_code ec;
  const fs::path target(path);
  const auto dir = fs::weakly_canonical(fs::absolute(directory_of(target), ec), ec);
  return "path " + (dir / target.filename()).lexically_normal().string();
}

void write_all(int fd, const std::string& content, const std::string& path, const std::string& tmp)
{
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw IoError(path + ": write failed (" + std::strerror(err) + ")");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw IoError(path + ": write failed (" + std::strerror(err) + ")");
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(path + ": write failed (" + std::strerror(err) + ")");
  }
}

} // namespace

void check_output_path(const std::string& path)
{
  if (path.empty())
    throw IoError("\"\": empty output path; name a file");
  fs::path target(path);
  fs::path dir = directory_of(target);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IoError(path + ": cannot write, directory " + dir.string() + " does not exist");
  if (fs::is_directory(target, ec))
    throw IoError(path + ": cannot write, it is a directory; name a file");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw IoError(path + ": cannot write, not a regular file (a device, pipe or socket); name a regular file");
  if (::stat(path.c_str(), &st) != 0 && errno == ELOOP)
    throw IoError(path + ": cannot write, too many levels of symbolic links; fix or remove the link");
  if (::access(dir.c_str(), W_OK) != 0)
    throw IoError(path + ": cannot write in directory " + dir.string() + " (" + std::strerror(errno) + ")");
}

void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs)
{
  struct Seen {
    std::string id;
    const NamedPath* who;
    bool input;
  };
  std::vector<Seen> seen;
  for (const auto& in : inputs)
    if (!in.path.empty())
      seen.push_back({identity(in.path), &in, true});
  for (const auto& out : outputs) {
    if (out.path.empty())
      continue;
    check_output_path(out.path);
    const auto id = identity(out.path);
    for (const auto& other : seen)
      if (other.id == id)
        throw IoError(out.option + " " + out.path + ": is the same file as " + other.who->option + " " +
                      other.who->path + (other.input ? " (an input; writing would destroy it)" : " (another output)") +
                      "; name a different file");
    seen.push_back({id, &out, false});
  }
}

OutputFiles::~OutputFiles()
{
  for (const auto& s : staged_)
    ::unlink(s.tmp.c_str());
}

void OutputFiles::add(const std::string& path, const std::string& content)
{
  if (path.empty())
    return;
  check_output_path(path);
  const fs::path target(path);
  const std::string tmp = (directory_of(target) / ("." + target.filename().string() + ".tmp." +
                                                   std::to_string(::getpid()) + "." + std::to_string(staged_.size())))
                              .string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw IoError(path + ": cannot write (" + std::strerror(errno) + ")");
  staged_.push_back({path, tmp});
  write_all(fd, content, path, tmp);
}

void OutputFiles::commit()
{
  while (!staged_.empty()) {
    const Staged s = staged_.front();
    struct stat st {};
    // Re-checked at the rename: the path may have become a device or pipe meanwhile.
    if (::stat(s.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw IoError(s.path + ": cannot write, not a regular file (a device, pipe or socket); name a regular file");
    if (std::rename(s.tmp.c_str(), s.path.c_str()) != 0) {
      int err = errno;
      throw IoError(s.path + ": cannot rename into place (" + std::strerror(err) + ")");
    }
    staged_.erase(staged_.begin());
  }
}

void write_file_atomically(const std::string& path, const std::string& content)
{
  OutputFiles files;
  files.add(path, content);
  files.commit();
}

FileLock::FileLock(const std::string& path, const std::string& what) : path_(path)
{
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw IoError(path + ": cannot create the lock file (" + std::strerror(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      if (err == EWOULDBLOCK)
        throw IoError(what + ": another trainsim is writing there (it holds " + path +
                      "); wait for it to finish or choose another output");
      throw IoError(path + ": cannot lock (" + std::strerror(err) + ")");
    }
    // The holder before us may have removed the file after we opened it: then lock the new one.
    struct stat held {
    }, now{};
    if (::fstat(fd_, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino)
      return;
    ::close(fd_);
    fd_ = -1;
  }
  throw IoError(path + ": cannot lock (the lock file keeps changing)");
}

FileLock::~FileLock()
{
  if (fd_ >= 0) {
    ::unlink(path_.c_str());
    ::close(fd_);
  }
}

std::string read_file(const std::string& path)
{
  if (path.empty())
    throw IoError("\"\": empty path; name a file");
  std::error_code ec;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ELOOP)
      throw IoError(path + ": too many levels of symbolic links; fix the link or name the file itself");
    if (errno == ENOENT || errno == ENOTDIR)
      throw IoError(path + ": no such file; check the path");
    throw IoError(path + ": cannot read (" + std::strerror(errno) + "); check the path and its permissions");
  }
  if (S_ISDIR(st.st_mode))
    throw IoError(path + ": is a directory; name a scenario file");
  // Devices, pipes and sockets could block forever (a FIFO without a writer) or never end (/dev/zero).
  if (!S_ISREG(st.st_mode))
    throw IoError(path + ": not a regular file (a device, pipe or socket); save the content to a file and name that");
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size > max_input_bytes)
    throw IoError(path + ": " + std::to_string(size) + " bytes, larger than the " + std::to_string(max_input_bytes) +
                  " bytes an input file may have; name the right file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError(path + ": cannot read (" + std::strerror(errno) + "); check its permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    throw IoError(path + ": read failed");
  return ss.str();
}

} // namespace trainsim::core
