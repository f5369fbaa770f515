#include "core/av.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <new>

namespace yamiro::av {
namespace {

std::atomic<int> g_decoder_errors{0};

// With frame threading every decoding thread has its own copy of the codec context, so
// errors are attributed by kind (a video decoder) rather than by pointer. One video is
// decoded per process.
bool is_video_decoder(void* avcl) {
  if (!avcl || *static_cast<AVClass* const*>(avcl) != avcodec_get_class()) return false;
  const auto* ctx = static_cast<const AVCodecContext*>(avcl);
  return ctx->codec_type == AVMEDIA_TYPE_VIDEO && ctx->codec && av_codec_is_decoder(ctx->codec);
}

extern "C" void log_to_spdlog(void* avcl, int level, const char* fmt, va_list args) {
  if (level <= AV_LOG_ERROR && is_video_decoder(avcl)) g_decoder_errors.fetch_add(1);
  if (level > AV_LOG_WARNING || !spdlog::should_log(spdlog::level::debug)) return;
  char text[1024];
  std::vsnprintf(text, sizeof text, fmt, args);
  std::string line(text);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return;
  const char* who = "libav";
  if (avcl) {
    const AVClass* cls = *static_cast<AVClass* const*>(avcl);
    if (cls && cls->item_name) who = cls->item_name(avcl);
  }
  // libav's warnings are about the stream, not about yamiro: visible with -v.
  spdlog::debug("{}: {}", who, line);
}

}  // namespace

FramePtr make_frame() {
  AVFrame* f = av_frame_alloc();
  if (!f) throw std::bad_alloc();
  return FramePtr(f);
}

PacketPtr make_packet() {
  AVPacket* p = av_packet_alloc();
  if (!p) throw std::bad_alloc();
  return PacketPtr(p);
}

std::string av_error_text(int status) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(status, buf, sizeof buf);
  return buf;
}

int check(int status, ErrorKind kind, const std::string& what) {
  if (status < 0) throw Error(kind, what + ": " + av_error_text(status));
  return status;
}

void route_av_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(log_to_spdlog); });
}

int take_decoder_errors() { return g_decoder_errors.exchange(0); }

}  // namespace yamiro::av
