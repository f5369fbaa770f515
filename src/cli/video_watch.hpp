// What watches a running `yamiro video`: the progress line on stderr, progress as JSON lines
// on stdout (--json), and the deadline that ends the process after a Ctrl-C the pipeline
// cannot unwind from in time. Each runs its own thread and reads VideoProgress only.
#pragma once
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "yamiro/video.hpp"

namespace yamiro::cli {

// Every 250 ms, `frame 120/270  0.21 fps  ETA 11:54` (live: `latency 0.84 s  dropped 12`)
// redrawn on stderr when `terminal`; every second, when `json_lines`, one JSON line on
// stdout: `identity` plus progress: true, status: "running", frames, total (when known),
// fps, eta (seconds, when known), seconds, and in live mode latency and dropped_frames.
class ProgressWatch {
 public:
  ProgressWatch(const VideoProgress& p, bool terminal, bool json_lines, bool live, nlohmann::json identity);
  ~ProgressWatch() { stop(); }
  // Stops the thread and erases the line; no JSON line is printed after it returns.
  void stop();

 private:
  void loop();

  const VideoProgress& p_;
  bool terminal_, json_, live_;
  nlohmann::json identity_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

// Ctrl-C must end the run within a second, but one tile of a big model on a slow CPU can
// take longer than that and the engine only stops between tiles. Once progress.cancel is
// set, the pipeline gets half a second to unwind cleanly; after that the temporary file is
// removed here and the process exits 130 without waiting for the forward pass to finish.
class InterruptDeadline {
 public:
  InterruptDeadline(const VideoProgress& p, const std::string& output);
  ~InterruptDeadline();
  void set_temporary(const std::string& tmp);

 private:
  void loop();

  const VideoProgress& p_;
  std::string output_;
  std::string tmp_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace yamiro::cli
