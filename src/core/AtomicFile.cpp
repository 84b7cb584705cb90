#include "trainsim/core/AtomicFile.hpp"

#include "trainsim/core/Errors.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace trainsim::core {

void check_output_path(const std::string& path)
{
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IoError(path + ": cannot write, directory " + dir.string() + " does not exist");
  if (fs::is_directory(target, ec))
    throw IoError(path + ": cannot write, it is a directory; name a file");
  if (::access(dir.c_str(), W_OK) != 0)
    throw IoError(path + ": cannot write in directory " + dir.string() + " (" + std::strerror(errno) + ")");
}

void write_file_atomically(const std::string& path, const std::string& content)
{
  namespace fs = std::filesystem;
  check_output_path(path);
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw IoError(path + ": cannot write (" + std::strerror(errno) + ")");
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
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw IoError(path + ": write failed (" + std::strerror(errno) + ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(path + ": cannot rename into place (" + std::strerror(err) + ")");
  }
}

std::string read_file(const std::string& path)
{
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw IoError(path + ": no such file; check the path");
  if (fs::is_directory(path, ec))
    throw IoError(path + ": is a directory; name a scenario file");
  // Devices, pipes and sockets could block forever (a FIFO without a writer) or never end (/dev/zero).
  if (!fs::is_regular_file(path, ec))
    throw IoError(path + ": not a regular file (a device, pipe or socket); save the content to a file and name that");
  const auto size = fs::file_size(path, ec);
  if (!ec && size > max_input_bytes)
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
