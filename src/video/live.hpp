// Live mode (--live): the queue that drops frames oldest-first to hold a latency bound, the
// pacing of the output at the stream's timestamps within that bound, and the figures.
// Latency is the wall time from a frame's decoding (its "arrival") to its encoding.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "video/source.hpp"

namespace yamiro::video {

using Clock = std::chrono::steady_clock;

// A decoded frame and when it came out of the decoder.
struct TimedFrame {
  DecodedFrame frame;
  Clock::time_point arrival{};
  Clock::time_point taken{};  // when the network took it
};

// Between the reader and the network in live mode. Thread-safe (one pusher, one popper).
class LiveQueue {
 public:
  // `max_bytes`: frames beyond it are dropped oldest-first whatever their age (memory).
  LiveQueue(double max_latency_s, std::size_t max_bytes);

  // Never blocks. Frames at the front already older than the bound are dropped first
  // (the pushed one replaces them). Returns false once the queue is closed.
  bool push(TimedFrame item);

  // Blocks while empty; nullopt once closed and drained. Drops from the front every frame
  // that has a newer one behind it and would reach the encoder later than the bound if
  // it took `expected_s` from now; the newest frame is never dropped here.
  std::optional<TimedFrame> pop(double expected_s);

  // No more pushes; with `discard`, what is left is dropped (not counted).
  void close(bool discard = false);

  std::int64_t dropped() const;

 private:
  bool stale(const TimedFrame& f, Clock::time_point now, double extra_s) const;

  double bound_s_;
  std::size_t max_bytes_, bytes_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::deque<TimedFrame> items_;
  bool closed_ = false;
  std::int64_t dropped_ = 0;
};

// When the writer writes each frame: at the stream's pace (frame gaps as their timestamps
// say, from an anchor) but never later than arrival + bound; a frame the cap holds back
// re-anchors the pace at itself (a timestamp jump, a source faster than real time).
// Used from the writer thread only.
class Pacer {
 public:
  Pacer(double max_latency_s, double seconds_per_tick) : bound_s_(max_latency_s), tick_s_(seconds_per_tick) {}
  Clock::time_point due(std::int64_t pts, Clock::time_point arrival);

 private:
  double bound_s_, tick_s_;
  bool anchored_ = false;
  Clock::time_point anchor_wall_{};
  std::int64_t anchor_pts_ = 0;
};

// Sleeps until `t` in short slices; false as soon as `stop()` is true.
bool sleep_until(Clock::time_point t, const std::function<bool()>& stop);

// Latency figures (written() and the getters from the writer thread) and the drop log
// (log_drops() from the network thread); the two halves share nothing.
class LiveFigures {
 public:
  explicit LiveFigures(double max_latency_s) : bound_s_(max_latency_s) {}
  void written(double latency_s);
  // Logs the first drop as a warning, then how many so far at most every 10 s.
  void log_drops(std::int64_t dropped, const std::string& input, double latency_s);
  std::int64_t late() const { return late_; }
  double max() const { return max_; }
  double mean() const { return count_ ? sum_ / count_ : 0; }

 private:
  double bound_s_;
  std::int64_t count_ = 0, late_ = 0, logged_ = 0;
  double sum_ = 0, max_ = 0;
  Clock::time_point last_log_{};
};

}  // namespace yamiro::video
