// The output side: video encoder, conversion from RGB to the encoder's pixel format with
// the source's matrix and range, other streams copied or transcoded, and the muxer.
// Used from one thread after construction.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "video/audio.hpp"
#include "core/av.hpp"
#include "video/source.hpp"

namespace yamiro::video {
using namespace yamiro::av;  // libav owners and helpers (core)

struct StreamMapping {
  int out_index = -1;
  std::unique_ptr<AacTranscoder> aac;  // null: copied as is
};

// Output streams for the audio, subtitle and attachment streams of `in` (all but
// `video_index`), copied where `out`'s container takes them, audio else transcoded to AAC
// (options.audio), else dropped with a warning; counted in `result`. By input stream index.
std::vector<StreamMapping> map_other_streams(const AVFormatContext* in, int video_index, const std::string& in_path,
                                            AVFormatContext* out, const std::string& out_path, const VideoOptions& options,
                                            VideoResult& result);
// The muxer for `path`: `format` by name (ffmpeg's -f), else from the extension.
// Throws Error(Usage) for an unknown muxer or a name that says none.
OutputPtr alloc_output(const std::string& path, const std::string& format);
// Opens `path` (file, pipe:1 or URL; protocol options from options.muxer_opts) and writes
// the header (muxer options from the same list; one neither took is Error(Usage)).
void open_and_write_header(AVFormatContext* out, const std::string& path, const VideoOptions& options);
// Metadata, dispositions and side data (rotation, HDR, stereo) of a stream.
void copy_stream_info(const AVStream* in, AVStream* out);
// The chapters of `in`, with their metadata, into `out` (before the header).
void copy_chapters(const AVFormatContext* in, AVFormatContext* out);

class Sink {
 public:
  // Sets up every output stream (only the video for a piece, options.segment_index >= 0);
  // start() then writes the header to `path`.
  // `net_w` x `net_h` is the size of the RGB frames that will be given; the encoded size is
  // `out_w` x `out_h` (the conversion resizes with Lanczos when they differ).
  // Throws Error(Usage) for an unknown codec, pixel format, option or container,
  // Error(Io) when the file cannot be written.
  Sink(const std::string& path, const Source& source, const VideoOptions& options, int net_w, int net_h, int out_w, int out_h,
       VideoResult& result);
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Opens the output and writes the container header, with `tags` added to its metadata.
  void start(const std::vector<std::pair<std::string, std::string>>& tags = {});
  // Encodes one upscaled frame; `pts` is in the input video stream's time base.
  void write_video(const Image& rgb, std::int64_t pts, std::int64_t duration);
  // A packet of a non-video input stream (its input stream_index and time base).
  // Packets of unmapped streams are ignored.
  void write_other(AVPacket* packet);
  // Drains the encoders, writes the trailer and closes the file.
  void finish();

  // The smallest pts step (input time base) that stays a step in the output's time base
  // once the header is written (90 kHz input into Matroska's 1 ms: 90).
  std::int64_t min_pts_step() const;

  // Seconds of input time of a packet of `input_stream` (for keeping streams interleaved).
  double seconds(const AVPacket* packet) const;

 private:
  void open_video(const Source& source, int out_w, int out_h);
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
  std::vector<StreamMapping> map_;  // by input stream index
};

// Encoders yamiro offers for --codec and which of them this FFmpeg has.
std::vector<std::string> known_encoders();

}  // namespace yamiro::video
