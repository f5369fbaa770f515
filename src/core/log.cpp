#include "yamiro/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <streambuf>
#include <string>

namespace yamiro {
namespace {

// What C and C++ libraries print to stderr on their own (libpng, libjpeg and libtiff
// about a corrupt file, OpenCV's std::cerr messages and warnings) becomes debug lines of
// yamiro's log: an input that fails gives one error line, and -v still shows the detail.
class LineForwarder {
 public:
  void write(const char* data, std::size_t size) {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < size; ++i) {
      if (data[i] != '\n') {
        if (pending_.size() < 4096) pending_ += data[i];
        continue;
      }
      if (!pending_.empty()) spdlog::debug("{}", pending_);
      pending_.clear();
    }
  }

 private:
  std::mutex mutex_;
  std::string pending_;
};

class ForwardBuf : public std::streambuf {
 public:
  explicit ForwardBuf(LineForwarder& to) : to_(to) {}

 protected:
  int overflow(int c) override {
    if (c != traits_type::eof()) {
      const char ch = static_cast<char>(c);
      to_.write(&ch, 1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    to_.write(s, static_cast<std::size_t>(n));
    return n;
  }

 private:
  LineForwarder& to_;
};

// Never destroyed: libraries may print during exit; std::cerr gets its own back at exit.
LineForwarder* g_forwarder = nullptr;
FILE* g_cookie = nullptr;
std::streambuf* g_cerr = nullptr;
std::mutex g_scope_mutex;
int g_scopes = 0;
FILE* g_stderr = nullptr;

ssize_t cookie_write(void*, const char* data, std::size_t size) {
  g_forwarder->write(data, size);
  return static_cast<ssize_t>(size);
}

void restore_cerr() { std::cerr.rdbuf(g_cerr); }

// After the logger holds the real stderr. std::cerr (which yamiro's own code does not
// use) is forwarded for good; C stdio's `stderr` only inside LibraryOutputToLog scopes,
// because yamiro's progress line and bench tables are written there. Sanitizer and
// crash reports write to fd 2 directly and are never affected.
void capture_library_output() {
  g_forwarder = new LineForwarder;
  cookie_io_functions_t io{};
  io.write = cookie_write;
  g_cookie = fopencookie(nullptr, "w", io);
  if (g_cookie) setvbuf(g_cookie, nullptr, _IONBF, 0);
  g_cerr = std::cerr.rdbuf(new ForwardBuf(*g_forwarder));
  std::atexit(restore_cerr);
}

}  // namespace

void init_logging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("yamiro");
  logger->set_pattern("yamiro: %^%l%$: %v");
  logger->set_level(verbosity < 0 ? spdlog::level::err : verbosity == 0 ? spdlog::level::info : spdlog::level::debug);
  spdlog::set_default_logger(logger);
  capture_library_output();
}

LibraryOutputToLog::LibraryOutputToLog() {
  const std::lock_guard<std::mutex> lock(g_scope_mutex);
  if (!g_cookie || g_scopes++ > 0) return;
  g_stderr = stderr;
  stderr = g_cookie;  // glibc: stderr is an assignable variable
}

LibraryOutputToLog::~LibraryOutputToLog() {
  const std::lock_guard<std::mutex> lock(g_scope_mutex);
  if (!g_cookie || --g_scopes > 0) return;
  stderr = g_stderr;
}

}  // namespace yamiro
