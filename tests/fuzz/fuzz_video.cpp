// libFuzzer target: a video file opened and decoded the way `yamiro video` does it,
// through yamiro's own input side (video::Source: demuxer with probe-size, pixel and
// interrupt limits, threaded decoder drained at the end, damage accounting, conversion of
// every frame to RGB with the stream's matrix and range). The bytes are handed over as an
// in-memory file (memfd), so the path-based open is the real one. FFmpeg itself is not
// instrumented; Source's code is, and every exit from it must be a yamiro::Error or a
// normal end, never a crash or a sanitizer report.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <spdlog/spdlog.h>

#include "video/source.hpp"
#include "yamiro/error.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  yamiro::video::route_av_log();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create("fuzz-video", MFD_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  yamiro::VideoOptions options;
  options.max_pixels = 1024 * 1024;  // what a header may make the decoder allocate
  options.max_frames = 16;
  options.probe_size = 1 << 20;
  options.io_timeout_s = 5;
  options.strict = size % 2 == 1;  // both ways of meeting damage
  try {
    yamiro::video::Source source("/proc/self/fd/" + std::to_string(fd), options, [] { return false; });
    yamiro::video::DecodedFrame frame;
    std::size_t others = 0;
    while (source.next(frame, [&](AVPacket*) { ++others; })) {
      if (frame.rgb.width != source.width() || frame.rgb.height != source.height()) __builtin_trap();
    }
  } catch (const yamiro::Error&) {
  }
  ::close(fd);
  return 0;
}
