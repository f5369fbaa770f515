// Runs `yamiro serve --port 0` as a child process and talks to it over HTTP.
#pragma once
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "e2e/harness.hpp"

namespace e2e {

class ServeProcess {
 public:
  // Starts the server with `args` (a shell fragment after `serve --port 0`); stderr goes to
  // `stderr_path`. Waits for the "listening on http://127.0.0.1:PORT/" line.
  ServeProcess(const std::string& args, const std::string& stderr_path) : stderr_path_(stderr_path) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    const std::string cmd = "exec " + kBin + " serve --port 0 " + args + " 2> " + stderr_path;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;  // the server exited
      line.append(buf, static_cast<std::size_t>(n));
    }
    close(out[0]);
    // "listening on http://HOST:PORT/", HOST the address bound (127.0.0.1, [::1]).
    const std::string lead = "listening on http://";
    const auto at = line.find(lead);
    const auto colon = line.rfind(':');
    if (at == std::string::npos || colon == std::string::npos || colon < at + lead.size()) {
      stop(SIGKILL);
      throw std::runtime_error("yamiro serve did not start: '" + line + "'; stderr: " + read_text(stderr_path));
    }
    host_ = line.substr(at + lead.size(), colon - at - lead.size());
    if (host_.size() > 2 && host_.front() == '[') host_ = host_.substr(1, host_.size() - 2);
    port_ = std::stoi(line.substr(colon + 1));
  }

  ~ServeProcess() {
    if (pid_ > 0) stop(SIGKILL);
  }

  int port() const { return port_; }
  // The bound address as printed: "127.0.0.1", "::1".
  const std::string& host() const { return host_; }
  httplib::Client client() const {
    httplib::Client c(host_, port_);
    c.set_read_timeout(60, 0);
    c.set_write_timeout(60, 0);
    return c;
  }

  // Sends `sig` and waits up to `timeout` for the exit; returns the exit code (-1: killed
  // by a signal or still running after the timeout, then killed).
  int stop(int sig = SIGINT, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string err() const { return read_text(stderr_path_); }

  static std::string read_text(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string host_ = "127.0.0.1";
  std::string stderr_path_;
};

inline std::string file_bytes(const std::string& path) { return ServeProcess::read_text(path); }

inline nlohmann::json parse(const httplib::Result& r) {
  if (!r) return nlohmann::json();
  return nlohmann::json::parse(r->body, nullptr, false);
}

}  // namespace e2e
