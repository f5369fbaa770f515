#include "video/live.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace yamiro::video {
namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

Clock::time_point after(Clock::time_point t, double seconds) {
  return t + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Scheduling slack: a frame written this much past the bound is not counted late.
constexpr double kSlackS = 0.05;

}  // namespace

LiveQueue::LiveQueue(double max_latency_s, std::size_t max_bytes) : bound_s_(max_latency_s), max_bytes_(max_bytes) {}

bool LiveQueue::stale(const TimedFrame& f, Clock::time_point now, double extra_s) const {
  return seconds_between(f.arrival, now) + extra_s > bound_s_;
}

bool LiveQueue::push(TimedFrame item) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return false;
  const auto now = Clock::now();
  const std::size_t size = item.frame.rgb.data.size();
  while (!items_.empty() && (stale(items_.front(), now, 0) || bytes_ + size > max_bytes_)) {
    bytes_ -= items_.front().frame.rgb.data.size();
    items_.pop_front();
    ++dropped_;
  }
  bytes_ += size;
  items_.push_back(std::move(item));
  not_empty_.notify_one();
  return true;
}

std::optional<TimedFrame> LiveQueue::pop(double expected_s) {
  std::unique_lock<std::mutex> lock(mutex_);
  not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
  if (items_.empty()) return std::nullopt;
  const auto now = Clock::now();
  while (items_.size() > 1 && stale(items_.front(), now, expected_s)) {
    bytes_ -= items_.front().frame.rgb.data.size();
    items_.pop_front();
    ++dropped_;
  }
  TimedFrame item = std::move(items_.front());
  items_.pop_front();
  bytes_ -= item.frame.rgb.data.size();
  item.taken = now;
  return item;
}

void LiveQueue::close(bool discard) {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  if (discard) {
    items_.clear();
    bytes_ = 0;
  }
  not_empty_.notify_all();
}

std::int64_t LiveQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

Clock::time_point Pacer::due(std::int64_t pts, Clock::time_point arrival) {
  const auto now = Clock::now();
  const auto cap = after(arrival, bound_s_);
  if (!anchored_) {
    anchored_ = true;
    anchor_wall_ = now;
    anchor_pts_ = pts;
    return now;
  }
  const auto paced = after(anchor_wall_, (pts - anchor_pts_) * tick_s_);
  if (paced <= cap) return paced;
  // Held back by the bound: the pace restarts from this frame.
  const auto at = std::max(now, cap);
  anchor_wall_ = at;
  anchor_pts_ = pts;
  return at;
}

bool sleep_until(Clock::time_point t, const std::function<bool()>& stop) {
  for (;;) {
    if (stop()) return false;
    const auto now = Clock::now();
    if (now >= t) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(t - now, std::chrono::milliseconds(20)));
  }
}

void LiveFigures::written(double latency_s) {
  ++count_;
  sum_ += latency_s;
  max_ = std::max(max_, latency_s);
  if (latency_s > bound_s_ + kSlackS) ++late_;
}

void LiveFigures::log_drops(std::int64_t dropped, const std::string& input, double latency_s) {
  if (dropped <= logged_) return;
  const auto now = Clock::now();
  if (logged_ == 0) {
    spdlog::warn("{}: the network is slower than the stream: dropping frames oldest-first to hold the latency under {:.3g} s "
                 "(--max-latency)", input, bound_s_);
  } else if (seconds_between(last_log_, now) < 10) {
    return;
  } else {
    spdlog::info("{}: {} frames dropped so far (latency now {:.2f} s)", input, dropped, latency_s);
  }
  logged_ = dropped;
  last_log_ = now;
}

}  // namespace yamiro::video
