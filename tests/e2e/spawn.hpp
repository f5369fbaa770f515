// Runs the real binary without a shell (e2e tests): argv as given, stdout and stderr
// to files, optional resource limits in the child, and several children at a time.
#pragma once
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace e2e {

struct Spawned {
  std::vector<std::string> argv;
  std::string out_path, err_path;  // where the child's stdout / stderr go
  long fsize_limit = -1;           // RLIMIT_FSIZE in bytes for the child; -1: unchanged
  int status = 0;                  // wait status once finished
  bool signaled() const { return WIFSIGNALED(status); }
  int code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  std::string err() const {
    std::ifstream f(err_path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  std::string out() const {
    std::ifstream f(out_path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
};

inline pid_t start(const Spawned& s) {
  std::vector<char*> args;
  for (const auto& a : s.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int out = ::open(s.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open(s.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(125);
  if (s.fsize_limit >= 0) {
    const rlimit r{static_cast<rlim_t>(s.fsize_limit), static_cast<rlim_t>(s.fsize_limit)};
    if (::setrlimit(RLIMIT_FSIZE, &r) != 0) ::_exit(125);
  }
  ::execv(args[0], args.data());
  ::_exit(127);
}

// Runs every job, at most `parallel` at a time; fills in each job's status.
inline void run_all(std::vector<Spawned>& jobs, int parallel) {
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && static_cast<int>(running.size()) < parallel) {
      running[start(jobs[next])] = next;
      ++next;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) break;
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    jobs[it->second].status = status;
    running.erase(it);
  }
}

inline Spawned run_one(Spawned s) {
  std::vector<Spawned> one{std::move(s)};
  run_all(one, 1);
  return one[0];
}

}  // namespace e2e
