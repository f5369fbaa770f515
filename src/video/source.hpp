// The input side: demuxer, threaded video decoder (drained at the end) and conversion of
// each frame to RGB with the stream's own matrix and range.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "core/av.hpp"
#include "yamiro/image.hpp"
#include "yamiro/video.hpp"

namespace yamiro::video {
using namespace yamiro::av;  // libav owners and helpers (core)

struct DecodedFrame {
  std::int64_t index = 0;
  std::int64_t pts = 0;       // in the video stream's time base
  std::int64_t duration = 0;  // same (0 = unknown)
  bool damaged = false;
  Image rgb;
};

// The matrix and range used to turn the video's YUV into RGB (and back on output).
struct ColourInfo {
  AVColorSpace space = AVCOL_SPC_UNSPECIFIED;   // resolved: never unspecified for YUV input
  AVColorRange range = AVCOL_RANGE_MPEG;        // resolved
  bool guessed = false;                         // untagged stream: 709 for HD, 601 for SD
};

// The colour a stream is decoded with: its tags, else BT.709 from 720 lines up and BT.601
// below, limited range unless the pixel format is a full-range (yuvj) one.
ColourInfo resolve_colour(AVColorSpace space, AVColorRange range, AVPixelFormat fmt, int height);

// True for demuxers whose video packets carry decode times only (AVI: each chunk is one
// frame slot in decode order; any pts libavformat reports there is a parser's guess). Their
// frames are stamped in output order with the packets' times (see Source::next), and the
// piece plan uses the same times.
bool decode_times_only(const AVFormatContext* format);

class Source {
 public:
  // Opens and probes `path`; throws Error(Input) naming it when it cannot be read, is not
  // a video, or its frames are larger than options.max_pixels. `stop` is polled by the
  // demuxer's interrupt callback and between packets.
  Source(const std::string& path, const VideoOptions& options, std::function<bool()> stop);
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  // Decodes the next video frame into `out` (RGB, 8-bit, or 16-bit for deeper sources).
  // Packets of other streams are handed to `other` as they are read. Returns false once
  // the decoder is drained (or options.max_frames frames came out).
  // Throws Error(Input) for a damaged stream with options.strict, Error(Interrupted) when stopped.
  bool next(DecodedFrame& out, const std::function<void(AVPacket*)>& other);

  // Only the frames with start <= pts < end (stream time base; AV_NOPTS_VALUE = open),
  // after seeking to the keyframe at `start`. Throws Error(Input) when seeking fails.
  void set_range(std::int64_t start, std::int64_t end);

  AVFormatContext* format() const { return fmt_.get(); }
  AVStream* stream() const { return fmt_->streams[video_index_]; }
  int video_index() const { return video_index_; }
  int width() const { return width_; }
  int height() const { return height_; }
  int depth_bytes() const { return depth_bytes_; }
  AVPixelFormat pix_fmt() const { return static_cast<AVPixelFormat>(stream()->codecpar->format); }
  const ColourInfo& colour() const { return colour_; }
  std::int64_t estimated_frames() const;
  std::int64_t broken_packets() const { return broken_packets_; }
  std::int64_t damaged_frames() const { return damaged_frames_; }
  const std::string& path() const { return path_; }

  // Called by the demuxer (interrupt callback).
  bool interrupted() const;

 private:
  void open_decoder();
  void damage(const std::string& what, bool frame_lost);
  void to_rgb(const AVFrame& frame, Image& rgb);

  std::string path_;
  VideoOptions options_;
  std::function<bool()> stop_;
  std::chrono::steady_clock::time_point deadline_;
  InputPtr fmt_;
  CodecPtr dec_;
  PacketPtr pkt_;
  FramePtr frame_;
  SwsPtr sws_;
  int sws_w_ = 0, sws_h_ = 0, sws_fmt_ = -1;
  int video_index_ = -1;
  int width_ = 0, height_ = 0, depth_bytes_ = 1;
  ColourInfo colour_;
  bool draining_ = false;
  bool done_ = false;
  std::int64_t frames_out_ = 0;
  std::int64_t last_pts_ = AV_NOPTS_VALUE, last_duration_ = 0;
  std::int64_t broken_packets_ = 0, damaged_frames_ = 0;
  int read_errors_in_a_row_ = 0;
  std::int64_t range_start_ = AV_NOPTS_VALUE, range_end_ = AV_NOPTS_VALUE;
  // decode_times_only(): the times of the packets sent to the decoder and not yet matched
  // by a frame, in rising order (decode order is time order there).
  bool stamp_in_order_ = false;
  std::deque<std::int64_t> packet_times_;
};

}  // namespace yamiro::video
