// Video upscaling inside the process: demux -> decode -> RGB -> engine -> encoder's pixel
// format -> encode -> mux, on three threads joined by bounded queues. FFmpeg stays behind
// this header: no libav types here.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "yamiro/engine.hpp"

namespace yamiro {

enum class AudioMode { Copy, Aac, None };  // copy falls back to AAC where the container refuses

struct VideoOptions {
  std::string codec = "libx264";
  int crf = -1;                 // -1 = the encoder's default
  std::string preset;           // "" = the encoder's default
  std::string pix_fmt;          // "" = the encoder's closest format to the input's
  std::vector<std::pair<std::string, std::string>> encoder_opts;  // --encoder-opt key=value
  AudioMode audio = AudioMode::Copy;
  double outscale = 0;          // 0 = the model's scale
  std::int64_t max_frames = 0;  // 0 = all
  bool strict = false;          // a damaged packet or frame is fatal
  std::int64_t max_pixels = 8192LL * 8192LL;  // per input frame, checked before decoding
  std::int64_t probe_size = 5'000'000;        // bytes the demuxer may read to probe streams
  double io_timeout_s = 30;     // a blocking read that makes no progress this long is aborted
  int queue_frames = 3;         // frames waiting between two stages
  // Input beyond files: a demuxer by name (ffmpeg's input -f, "" = probe) and demuxer or
  // protocol options (rtsp_transport=tcp, listen=1, timeout=...).
  std::string input_format;
  bool silence_ends_stream = false;  // io_timeout_s without data after the first frame = end (streams)
  std::vector<std::pair<std::string, std::string>> input_opts;
  // Output: a muxer by name (ffmpeg's -f; "" = from the extension) and muxer or protocol
  // options (movflags=+frag_keyframe, ...).
  std::string output_format;
  std::vector<std::pair<std::string, std::string>> muxer_opts;
  // --segment I/N: only the I-th of N keyframe-aligned pieces, video only, tagged for --join.
  int segment_index = -1;       // -1 = the whole video
  int segment_count = 0;
  // --live: a bounded latency. A frame that would reach the encoder more than max_latency_s
  // after it was decoded is dropped (oldest first) while a newer one waits; the output is
  // paced at the stream's timestamps within that bound; libx264/x265 get tune=zerolatency.
  bool live = false;
  double max_latency_s = 2;
  bool native_rate = false;     // read at the stream's own rate (as ffmpeg's -re): --live on a file
};

// Shared with the caller while a video runs. Thread-safe: the pipeline writes, anyone reads.
struct VideoProgress {
  std::atomic<std::int64_t> frames_done{0};   // frames encoded
  std::atomic<std::int64_t> frames_total{0};  // estimate from the container (0 = unknown)
  std::atomic<bool> cancel{false};            // set to stop; the run throws Error(Interrupted)
  // Live mode: set to stop reading and finish the output (encoder drained, trailer written);
  // the run then returns normally with result.interrupted (Error(Interrupted) if no frame was written).
  std::atomic<bool> finish{false};
  std::atomic<std::int64_t> frames_dropped{0};  // live: frames dropped to hold the latency bound
  std::atomic<double> latency_s{0};             // live: latency of the last frame written
};

struct VideoResult {
  std::int64_t frames = 0;           // video frames written
  std::int64_t damaged_frames = 0;   // frames decoded with errors concealed, or lost
  std::int64_t broken_packets = 0;   // packets the demuxer or a decoder rejected
  int in_width = 0, in_height = 0;
  int out_width = 0, out_height = 0;
  std::string codec, pix_fmt;
  std::string in_colorspace;         // "bt709", "bt470bg"... ("(guessed)" appended when untagged)
  int audio_copied = 0, audio_transcoded = 0, audio_dropped = 0;
  int subtitles_copied = 0, subtitles_dropped = 0;
  double seconds = 0;                // wall time of the whole run
  double infer_seconds = 0;          // time spent in the engine
  double duration_s = 0;             // of the video written
  double first_time_s = 0, last_time_s = 0;  // timestamps of the first and last frame written
  bool skipped = false;              // --skip-existing found the piece complete
  // Live mode (options.live): latency = wall time from a frame's decoding to its encoding.
  std::int64_t dropped_frames = 0;   // dropped oldest-first to hold options.max_latency_s
  std::int64_t late_frames = 0;      // written although later than the bound (a frame took longer than foreseen)
  double latency_max_s = 0, latency_mean_s = 0;
  bool interrupted = false;          // ended by progress.finish (Ctrl-C), the output finished
};

// Lists the segment layout of a seekable video: the N pieces, split at keyframes.
struct SegmentInfo {
  int index = 0, count = 0;
  std::int64_t frames = 0;                  // frames of the piece (packets of its time range)
  double first_time_s = 0, last_time_s = 0; // timestamps of its first and last frame
};

// Upscales `input` into `output` (the container is chosen by `output`'s extension; the
// caller makes it a temporary name and renames it). Throws Error(Input) naming `input`
// for a missing, non-video or (with options.strict) damaged file, Error(Usage) for an
// encoder, pixel format or option the build does not have, Error(Io) when writing fails,
// Error(Interrupted) when progress.cancel is set, and what the engine throws.
// Not thread-safe for one engine: one run at a time.
VideoResult upscale_video(const std::string& input, const std::string& output, Engine& engine, const VideoOptions& options,
                          VideoProgress& progress);

// The I-th piece of `input` cut in options.segment_count at keyframes (demuxes the whole
// video once, decodes nothing). Throws Error(Input) naming `input` when it cannot be
// read or seeked, or has fewer keyframes than pieces.
SegmentInfo plan_segment(const std::string& input, const VideoOptions& options);

// True when `part` is a complete piece options.segment_index/segment_count of `input`
// (its tags and frame count match the plan); false when it is absent or incomplete.
bool segment_complete(const std::string& input, const std::string& part, const VideoOptions& options);

// Remuxes the pieces `parts` (in order, without re-encoding) into `output` with the
// audio, subtitles, chapters and metadata of `input`. Throws Error(Input) naming the piece
// that is missing, out of order, of another video, cut short or encoded differently, so
// that the pieces must tile `input`'s timeline exactly; Error(Io) when writing fails.
// The result has frames, codec, size, duration and stream counts.
VideoResult join_video(const std::string& input, const std::vector<std::string>& parts, const std::string& output,
                       const VideoOptions& options);

// True when yamiro was built with FFmpeg.
bool video_available();
// "libavformat 59.27.100, libavcodec 59.37.100", or "" when built without FFmpeg.
std::string video_library_version();

}  // namespace yamiro
