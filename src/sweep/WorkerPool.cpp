#include "trainsim/sweep/WorkerPool.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trainsim/core/Errors.hpp"

namespace trainsim::sweep {

const char* to_string(Status s)
{
  switch (s) {
  case Status::ok:
    return "ok";
  case Status::infeasible:
    return "infeasible";
  case Status::invalid:
    return "invalid";
  case Status::failed:
    return "failed";
  }
  return "failed";
}

Status status_from_string(const std::string& s, const std::string& pointer)
{
  for (Status x : {Status::ok, Status::infeasible, Status::invalid, Status::failed})
    if (s == to_string(x))
      return x;
  throw core::ConfigError(pointer, "\"" + s + "\" is no status; valid: ok, infeasible, invalid, failed");
}

int available_cores()
{
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return std::max(1, CPU_COUNT(&set));
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

namespace {

struct Child {
  size_t id = 0;
  pid_t pid = -1;
  int fd = -1;
  std::string text;
};

std::string one_line(std::string s)
{
  for (char& c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  return s;
}

/// In the child: run the work and write {"status", "error"|"result"} to fd; never returns.
[[noreturn]] void child_main(const Task& task, int fd, pid_t parent)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) // the parent died before prctl took effect
    _exit(5);
  nlohmann::ordered_json out;
  try {
    out = {{"status", "ok"}, {"result", task.work()}};
  } catch (const core::InfeasibleError& e) {
    out = {{"status", "infeasible"}, {"error", one_line(e.what())}};
  } catch (const core::ConfigError& e) {
    out = {{"status", "invalid"}, {"error", one_line(e.what())}};
  } catch (const std::exception& e) {
    out = {{"status", "failed"}, {"error", one_line(e.what())}};
  }
  const std::string text = out.dump();
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      _exit(4);
    p += n;
    left -= static_cast<size_t>(n);
  }
  close(fd);
  _exit(0);
}

Outcome finish_child(Child& c)
{
  close(c.fd);
  int status = 0;
  while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  Outcome o;
  o.status = Status::failed;
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    o.error = "the worker process died with signal " + std::to_string(sig) + " (" + strsignal(sig) + ")" +
              (sig == SIGKILL ? "; killed from outside, often by the host's out-of-memory killer" : "");
    return o;
  }
  try {
    auto j = nlohmann::ordered_json::parse(c.text);
    o.status = status_from_string(j.at("status").get<std::string>(), "");
    if (o.status == Status::ok)
      o.result = std::move(j.at("result"));
    else
      o.error = j.at("error").get<std::string>();
  } catch (const std::exception&) {
    o.status = Status::failed;
    o.error = "the worker process exited with status " + std::to_string(WEXITSTATUS(status)) + " without a result";
  }
  return o;
}

} // namespace

void run_pool(int jobs, const std::function<std::optional<Task>()>& next,
              const std::function<void(size_t id, Outcome outcome)>& done)
{
  jobs = std::max(1, jobs);
  std::vector<Child> running;
  const pid_t self = getpid();
  for (;;) {
    // Fill the free slots; `next` saying "none now" ends this round.
    while (static_cast<int>(running.size()) < jobs) {
      auto task = next();
      if (!task)
        break;
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) != 0)
        throw core::Error(std::string("internal: pipe failed: ") + std::strerror(errno));
      std::fflush(nullptr);
      const pid_t pid = fork();
      if (pid < 0)
        throw core::Error(std::string("internal: fork failed: ") + std::strerror(errno));
      if (pid == 0) {
        close(fds[0]);
        for (const auto& c : running)
          close(c.fd);
        child_main(*task, fds[1], self);
      }
      close(fds[1]);
      running.push_back({task->id, pid, fds[0], {}});
    }
    if (running.empty())
      return;
    std::vector<pollfd> pfds;
    for (const auto& c : running)
      pfds.push_back({c.fd, POLLIN, 0});
    if (poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR)
        continue;
      throw core::Error(std::string("internal: poll failed: ") + std::strerror(errno));
    }
    for (size_t i = pfds.size(); i-- > 0;) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      Child& c = running[i];
      char buf[65536];
      const ssize_t n = read(c.fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n > 0) {
        c.text.append(buf, static_cast<size_t>(n));
        continue;
      }
      Outcome o = finish_child(c);
      const size_t id = c.id;
      running.erase(running.begin() + static_cast<long>(i));
      done(id, std::move(o));
    }
  }
}

} // namespace trainsim::sweep
