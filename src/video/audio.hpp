// Audio to AAC, for containers that refuse the input's audio codec (or --audio aac).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/av.hpp"

namespace yamiro::video {
using namespace yamiro::av;  // libav owners and helpers (core)

class AacTranscoder {
 public:
  // Opens a decoder for `in` and an AAC encoder whose parameters go into `out`.
  // Throws Error(Input) when the audio cannot be decoded, Error(Usage) when the build has
  // no AAC encoder.
  AacTranscoder(const std::string& path, const AVStream* in, AVStream* out, bool global_header);
  AacTranscoder(const AacTranscoder&) = delete;
  AacTranscoder& operator=(const AacTranscoder&) = delete;

  // Packets come out in the encoder's time base (time_base()). A packet the decoder rejects
  // is skipped and counted.
  using Write = std::function<void(AVPacket*)>;
  void feed(const AVPacket* packet, const Write& write);
  void flush(const Write& write);
  AVRational time_base() const { return enc_->time_base; }
  std::int64_t broken_packets() const { return broken_; }

 private:
  void encode_from_fifo(bool final, const Write& write);
  void send(AVFrame* frame, const Write& write);

  std::string path_;
  CodecPtr dec_, enc_;
  SwrPtr swr_;
  FifoPtr fifo_;
  FramePtr decoded_, chunk_;
  PacketPtr out_;
  std::int64_t next_pts_ = AV_NOPTS_VALUE;
  std::int64_t broken_ = 0;
};

}  // namespace yamiro::video
