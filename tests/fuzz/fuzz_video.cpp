// libFuzzer target: container demuxing and video decoding through libavformat and
// libavcodec, reading the fuzz buffer through a custom AVIOContext (no file, no
// network), the way an input video is opened. FFmpeg itself is not instrumented: this
// checks that opening, probing, reading and draining a hostile file ends cleanly within
// bounds. The video branch's own demux/decode wrappers are the better target once
// merged; this one needs nothing from them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

namespace {

struct Buffer {
  const std::uint8_t* data;
  std::size_t size, pos;
};

int read_packet(void* opaque, std::uint8_t* out, int size) {
  auto* b = static_cast<Buffer*>(opaque);
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(size), b->size - b->pos);
  if (n == 0) return AVERROR_EOF;
  std::memcpy(out, b->data + b->pos, n);
  b->pos += n;
  return static_cast<int>(n);
}

std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
  auto* b = static_cast<Buffer*>(opaque);
  if (whence & AVSEEK_SIZE) return static_cast<std::int64_t>(b->size);
  std::int64_t to = offset;
  if ((whence & 3) == SEEK_CUR) to += static_cast<std::int64_t>(b->pos);
  if ((whence & 3) == SEEK_END) to += static_cast<std::int64_t>(b->size);
  if (to < 0 || to > static_cast<std::int64_t>(b->size)) return -1;
  b->pos = static_cast<std::size_t>(to);
  return to;
}

void decode(AVFormatContext* fmt) {
  const int index = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) return;
  const AVCodec* codec = avcodec_find_decoder(fmt->streams[index]->codecpar->codec_id);
  if (!codec) return;
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  ctx->thread_count = 1;
  ctx->max_pixels = 4096 * 4096;  // what a header may ask the decoder to allocate
  if (ctx && pkt && frame && avcodec_parameters_to_context(ctx, fmt->streams[index]->codecpar) >= 0 &&
      avcodec_open2(ctx, codec, nullptr) >= 0) {
    for (int packets = 0; packets < 64 && av_read_frame(fmt, pkt) >= 0; ++packets) {
      if (pkt->stream_index == index && avcodec_send_packet(ctx, pkt) >= 0)
        while (avcodec_receive_frame(ctx, frame) >= 0) av_frame_unref(frame);
      av_packet_unref(pkt);
    }
    avcodec_send_packet(ctx, nullptr);  // drain
    while (avcodec_receive_frame(ctx, frame) >= 0) av_frame_unref(frame);
  }
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&ctx);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Buffer buffer{data, size, 0};
  constexpr int kIoSize = 4096;
  auto* io_buffer = static_cast<std::uint8_t*>(av_malloc(kIoSize));
  AVIOContext* io = avio_alloc_context(io_buffer, kIoSize, 0, &buffer, read_packet, nullptr, seek);
  AVFormatContext* fmt = avformat_alloc_context();
  if (!io || !fmt) {
    if (io) av_freep(&io->buffer);
    avio_context_free(&io);
    avformat_free_context(fmt);
    return 0;
  }
  fmt->pb = io;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  fmt->probesize = 1 << 20;
  fmt->max_analyze_duration = 5 * AV_TIME_BASE;
  if (avformat_open_input(&fmt, nullptr, nullptr, nullptr) >= 0) {  // frees fmt on failure
    if (avformat_find_stream_info(fmt, nullptr) >= 0) decode(fmt);
    avformat_close_input(&fmt);
  }
  av_freep(&io->buffer);
  avio_context_free(&io);
  return 0;
}
