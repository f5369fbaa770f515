// The progress line on stderr: files done and tiles of the current file.
// Thread-safe (the network thread reports tiles, the writer thread files).
#pragma once
#include <cstdio>
#include <mutex>
#include <string>

namespace yamiro::cli {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}

  void set_total(int total) { total_ = total; }

  void tiles(const std::string& name, int done, int total) {
    std::lock_guard<std::mutex> lock(mutex_);
    name_ = name;
    tile_done_ = done;
    tile_total_ = total;
    draw();
  }

  void files(int done) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_done_ = done;
    draw();
  }

  // Erases the line (before a log message, and at the end).
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  void draw() {
    if (!enabled_) return;
    std::string text = "[" + std::to_string(files_done_) + "/" + std::to_string(total_) + "]";
    if (tile_total_ > 1 && tile_done_ < tile_total_)
      text += " " + name_ + ": tile " + std::to_string(tile_done_) + "/" + std::to_string(tile_total_);
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

  bool enabled_;
  std::mutex mutex_;
  std::string name_;
  int total_ = 0, files_done_ = 0, tile_done_ = 0, tile_total_ = 0;
  bool drawn_ = false;
};

}  // namespace yamiro::cli
