#include "trainsim/core/ChildProcess.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trainsim/core/Errors.hpp"

namespace trainsim::core {

nlohmann::json run_in_child(const std::function<nlohmann::json()>& body, const std::string& what)
{
  int fds[2];
  if (pipe(fds) != 0)
    throw Error(std::string("internal: pipe failed: ") + std::strerror(errno));
  std::fflush(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    throw Error(std::string("internal: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // The child dies with its parent: a SIGTERM, SIGINT or SIGKILL to trainsim must not leave a simulation
    // running under init. The parent may have died between fork and prctl: then leave at once.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(5);
    close(fds[0]);
    std::string out;
    int code = 0;
    try {
      out = body().dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"error", e.what()}}.dump();
      code = 3;
    }
    const char* p = out.data();
    size_t left = out.size();
    while (left > 0) {
      ssize_t n = write(fds[1], p, left);
      if (n <= 0)
        _exit(4);
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    throw Error("internal: " + what + " died with signal " + std::to_string(WTERMSIG(status)));
  if (text.empty())
    throw Error("internal: " + what + " returned nothing (exit " + std::to_string(WEXITSTATUS(status)) + ")");
  return nlohmann::json::parse(text);
}

} // namespace trainsim::core
