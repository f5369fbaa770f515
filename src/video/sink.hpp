// The output side: video encoder, conversion from RGB to the encoder's pixel format with
// the source's matrix and range, other streams copied or transcoded, and the muxer.
// Used from one thread after construction.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "video/audio.hpp"
#include "core/av.hpp"
#include "video/source.hpp"

namespace yamiro::video {
using namespace yamiro::av;  // libav owners and helpers (core)

class Sink {
 public:
  // Sets up every output stream and writes the container header to `path`.
  // `net_w` x `net_h` is the size of the RGB frames that will be given; the encoded size is
  // `out_w` x `out_h` (the conversion resizes with Lanczos when they differ).
  // Throws Error(Usage) for an unknown codec, pixel format, option or container,
  // Error(Io) when the file cannot be written.
  Sink(const std::string& path, const Source& source, const VideoOptions& options, int net_w, int net_h, int out_w, int out_h,
       VideoResult& result);
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Encodes one upscaled frame; `pts` is in the input video stream's time base.
  void write_video(const Image& rgb, std::int64_t pts, std::int64_t duration);
  // A packet of a non-video input stream (its input stream_index and time base).
  // Packets of unmapped streams are ignored.
  void write_other(AVPacket* packet);
  // Drains the encoders, writes the trailer and closes the file.
  void finish();

  // Seconds of input time of a packet of `input_stream` (for keeping streams interleaved).
  double seconds(const AVPacket* packet) const;

 private:
  void open_video(const Source& source, int out_w, int out_h);
  void map_streams(const Source& source);
  void encode(AVFrame* frame);
  void mux(AVPacket* packet, AVRational from, int out_index);

  std::string path_;
  const VideoOptions& options_;
  VideoResult& result_;
  const AVFormatContext* in_ = nullptr;
  OutputPtr out_;
  CodecPtr enc_;
  SwsPtr sws_;
  FramePtr frame_;
  PacketPtr pkt_;
  int net_w_ = 0, net_h_ = 0, depth_bytes_ = 1;
  AVRational in_tb_{1, 1};
  std::map<std::int64_t, std::int64_t> durations_;  // frame pts -> duration, for packets that lack one
  struct Mapping {
    int out_index = -1;
    std::unique_ptr<AacTranscoder> aac;  // null: copied as is
  };
  std::vector<Mapping> map_;  // by input stream index
};

// Encoders yamiro offers for --codec and which of them this FFmpeg has.
std::vector<std::string> known_encoders();

}  // namespace yamiro::video
