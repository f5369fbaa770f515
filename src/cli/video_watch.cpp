#include "cli/video_watch.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "yamiro/error.hpp"

namespace yamiro::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

ProgressWatch::ProgressWatch(const VideoProgress& p, bool terminal, bool json_lines, bool live, nlohmann::json identity)
    : p_(p), terminal_(terminal), json_(json_lines), live_(live), identity_(std::move(identity)) {
  if (terminal_ || json_) thread_ = std::thread([this] { loop(); });
}

void ProgressWatch::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

void ProgressWatch::loop() {
  const auto start = Clock::now();
  auto next_json = start + std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [&] { return done_; })) {
    const auto now = Clock::now();
    const double secs = std::chrono::duration<double>(now - start).count();
    const auto done = p_.frames_done.load(), total = p_.frames_total.load();
    const double fps = secs > 0 ? done / secs : 0;
    // Live: a dropped frame is dealt with too, so the ETA counts it.
    const auto handled = done + (live_ ? p_.frames_dropped.load() : 0);
    const double rate = secs > 0 ? handled / secs : 0;
    const bool eta_known = total > 0 && rate > 0 && handled < total;
    const double eta = eta_known ? (total - handled) / rate : 0;
    if (terminal_) {
      std::string line = "frame " + std::to_string(done) + (total > 0 ? "/" + std::to_string(total) : "");
      char buf[96];
      std::snprintf(buf, sizeof buf, "  %.2f fps", fps);
      line += buf;
      if (eta_known) line += "  ETA " + clock_text(eta);
      if (live_) {
        std::snprintf(buf, sizeof buf, "  latency %.2f s  dropped %lld", p_.latency_s.load(),
                      static_cast<long long>(p_.frames_dropped.load()));
        line += buf;
      }
      std::fprintf(stderr, "\r%s\033[K", line.c_str());
      std::fflush(stderr);
    }
    if (json_ && now >= next_json) {
      while (next_json <= now) next_json += std::chrono::seconds(1);
      nlohmann::json j = identity_;
      j.update({{"progress", true}, {"status", "running"}, {"frames", done}, {"fps", fps}, {"seconds", secs}});
      if (total > 0) j["total"] = total;
      if (eta_known) j["eta"] = eta;
      if (live_) j.update({{"latency", p_.latency_s.load()}, {"dropped_frames", p_.frames_dropped.load()}});
      std::cout << j.dump() << std::endl;
    }
  }
}

InterruptDeadline::InterruptDeadline(const VideoProgress& p, const std::string& output) : p_(p), output_(output) {
  thread_ = std::thread([this] { loop(); });
}

InterruptDeadline::~InterruptDeadline() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void InterruptDeadline::set_temporary(const std::string& tmp) {
  std::lock_guard<std::mutex> lock(mutex_);
  tmp_ = tmp;
}

void InterruptDeadline::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return done_ || p_.cancel.load(); })) {
  }
  if (done_) return;
  if (cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return done_; })) return;
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r\033[K");  // the progress line
  spdlog::error("interrupted after {} frames: nothing written under {}", p_.frames_done.load(), output_);
  std::fflush(stderr);
  std::_Exit(kExitInterrupted);
}

}  // namespace yamiro::cli
