// RAII owners for libav handles and the one helper that turns a libav status into an error.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

#include "yamiro/error.hpp"

namespace yamiro::av {

struct InputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct OutputCloser {  // closes the file (if opened) and frees the muxer
  void operator()(AVFormatContext* c) const {
    if (c && c->pb && !(c->oformat->flags & AVFMT_NOFILE)) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct SwrFree {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
struct FifoFree {
  void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};
struct DictFree {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};
struct AvioCloser {
  void operator()(AVIOContext* c) const { avio_closep(&c); }
};

using InputPtr = std::unique_ptr<AVFormatContext, InputCloser>;
using OutputPtr = std::unique_ptr<AVFormatContext, OutputCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFree>;
using SwrPtr = std::unique_ptr<SwrContext, SwrFree>;
using FifoPtr = std::unique_ptr<AVAudioFifo, FifoFree>;
using AvioPtr = std::unique_ptr<AVIOContext, AvioCloser>;

// Allocation failures are bad_alloc, as for the rest of the program.
FramePtr make_frame();
PacketPtr make_packet();

// av_strerror as a string.
std::string av_error_text(int status);

// Throws Error(kind) "<what>: <libav's reason>" when status < 0; returns status otherwise.
int check(int status, ErrorKind kind, const std::string& what);

// Routes av_log into spdlog once per process (warnings and errors at info/debug level:
// decoders complain about every damaged macroblock; yamiro counts and reports instead).
// Error-level messages of video decoders are counted (see take_decoder_errors).
void route_av_log();
// Error-level messages video decoders logged since the last call.
int take_decoder_errors();

}  // namespace yamiro::av
