// upscale_video: three threads. The reader demuxes and decodes into RGB, the caller's
// thread runs the engine, the writer converts, encodes and muxes. Bounded FIFO queues
// between them keep frames in order and memory flat.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "core/queue.hpp"
#include "video/live.hpp"
#include "video/segment.hpp"
#include "video/sink.hpp"
#include "video/source.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace yamiro {
namespace {

using Clock = std::chrono::steady_clock;
using video::DecodedFrame;
using video::TimedFrame;

// Live mode: frames waiting for the network take at most this much memory (oldest dropped first).
constexpr std::size_t kLiveQueueBytes = 512u << 20;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
Clock::duration seconds_d(double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); }

// YAMIRO_TEST_FAULT=slow-video-frame=MS holds the network MS milliseconds per frame (counted
// as network time), so that tests can make it slower than a stream. Not for use outside tests.
double test_slow_frame_seconds() {
  const char* f = std::getenv("YAMIRO_TEST_FAULT");
  const std::string key = "slow-video-frame=";
  if (!f || std::string(f).rfind(key, 0) != 0) return 0;
  return std::atof(f + key.size()) / 1000.0;
}

// Packets of audio/subtitle streams, from the reader to the writer. Unbounded, but the
// reader is held back by the video queue, so it holds what lies between two frames.
class SidePackets {
 public:
  void push(const AVPacket* p) {
    AVPacket* c = av_packet_clone(p);
    if (!c) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(mutex_);
    items_.emplace_back(c);
  }
  // Takes the packets at or before `seconds` (all with infinity), in reading order.
  std::vector<video::PacketPtr> take_until(double seconds, const video::Sink& sink) {
    std::vector<video::PacketPtr> out;
    std::lock_guard<std::mutex> lock(mutex_);
    while (!items_.empty() && sink.seconds(items_.front().get()) <= seconds) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    return out;
  }
  std::vector<video::PacketPtr> take_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<video::PacketPtr> out;
    for (auto& p : items_) out.push_back(std::move(p));
    items_.clear();
    return out;
  }

 private:
  std::mutex mutex_;
  std::deque<video::PacketPtr> items_;
};

// The first error of any thread; the others stop.
class Failure {
 public:
  void set(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = e;
    failed_ = true;
  }
  bool failed() const { return failed_.load(); }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

}  // namespace

VideoResult upscale_video(const std::string& input, const std::string& output, Engine& engine, const VideoOptions& options,
                          VideoProgress& progress) {
  video::route_av_log();
  const auto start = Clock::now();
  VideoResult result;
  Failure failure;
  auto stopped = [&] { return progress.cancel.load() || failure.failed(); };
  // Live: Ctrl-C (progress.finish) also stops the reader, which then ends the stream.
  const std::function<bool()> reader_stop = [&] { return stopped() || (options.live && progress.finish.load()); };
  video::Source source(input, options, reader_stop);
  const int s = engine.scale();
  const int net_w = source.width() * s, net_h = source.height() * s;
  int out_w = net_w, out_h = net_h;
  if (options.outscale > 0) {
    out_w = std::max(2, static_cast<int>(std::lround(source.width() * options.outscale)));
    out_h = std::max(2, static_cast<int>(std::lround(source.height() * options.outscale)));
  }
  result.in_width = source.width();
  result.in_height = source.height();
  {
    const char* name = av_color_space_name(source.colour().space);
    result.in_colorspace = std::string(name ? name : "?") + (source.colour().guessed ? " (guessed)" : "");
  }
  // A piece: the keyframe plan of the whole video, then only this piece's frames.
  const bool piece = options.segment_index >= 0;
  const int seg = options.segment_index;
  video::Plan plan;
  if (piece) {
    plan = video::make_plan(video::scan_packets(input, options), options.segment_count, input);
    source.set_range(seg == 0 ? AV_NOPTS_VALUE : plan.start[seg], seg + 1 == plan.count ? AV_NOPTS_VALUE : plan.start[seg + 1]);
  }
  video::Sink sink(output, source, options, net_w, net_h, out_w, out_h, result);
  sink.start(piece ? video::piece_tags(plan, seg) : std::vector<std::pair<std::string, std::string>>{});
  progress.frames_total = piece ? plan.frames[seg] : source.estimated_frames();
  spdlog::info("{}: {}x{} {} -> {}x{} {} {}", input, source.width(), source.height(), result.in_colorspace, result.out_width,
               result.out_height, result.codec, result.pix_fmt);

  const std::size_t depth = static_cast<std::size_t>(std::max(1, options.queue_frames));
  const bool live = options.live;
  // Live: the reader never waits for the network; stale frames are dropped instead.
  video::LiveQueue fresh(options.max_latency_s, kLiveQueueBytes);
  BoundedQueue<TimedFrame> decoded(depth), upscaled(depth);
  SidePackets side;
  std::atomic<double> end_seconds{INFINITY};  // with --frames or a live stop: where the side streams stop
  std::atomic<double> expected_s{0};          // live: from the network taking a frame to the writer having it
  const AVRational tb = source.stream()->time_base;
  std::int64_t first_pts = AV_NOPTS_VALUE, last_pts = 0, last_end = 0;
  video::LiveFigures figures(options.max_latency_s);
  const auto finishing = [&] { return live && progress.finish.load(); };
  // An Interrupted error that is only the live stop (Ctrl-C once): what was read is finished normally.
  const auto live_stop = [&](const Error& e) {
    return e.kind() == ErrorKind::Interrupted && finishing() && !progress.cancel && !failure.failed();
  };

  auto abort_all = [&] {
    fresh.close(true);
    decoded.close(true);
    upscaled.close(true);
  };
  std::thread reader([&] {
    try {
      DecodedFrame f;
      double last_end_s = 0;
      std::int64_t pts0 = AV_NOPTS_VALUE;
      const auto start_wall = Clock::now();
      while (source.next(f, [&](AVPacket* p) { side.push(p); })) {
        last_end_s = (f.pts + std::max<std::int64_t>(f.duration, 0)) * av_q2d(tb);
        if (options.native_rate) {  // a file read as if it were a camera
          if (pts0 == AV_NOPTS_VALUE) pts0 = f.pts;
          if (!video::sleep_until(start_wall + seconds_d((f.pts - pts0) * av_q2d(tb)), reader_stop)) break;
        }
        TimedFrame t{std::move(f), Clock::now(), {}};
        if (!(live ? fresh.push(std::move(t)) : decoded.push(std::move(t)))) return;
        if (live) progress.frames_dropped = fresh.dropped();
        f = DecodedFrame();
      }
      if (options.max_frames > 0) end_seconds = last_end_s;
      fresh.close();
      decoded.close();
    } catch (const Error& e) {
      if (live_stop(e)) {  // Ctrl-C stopped the reading
        fresh.close();
        decoded.close();
        return;
      }
      failure.set(std::current_exception());
      abort_all();
    } catch (...) {
      failure.set(std::current_exception());
      abort_all();
    }
  });
  std::thread writer([&] {
    try {
      video::Pacer pacer(options.max_latency_s, av_q2d(tb));
      double took_mean = 0, took_spread = 0;
      const std::int64_t step = sink.min_pts_step();
      while (auto item = upscaled.pop()) {
        DecodedFrame* f = &item->frame;
        // Rising in the input's time base is not enough: two frames one 90 kHz tick apart
        // would share a Matroska millisecond (RTP's first frames before a sender report).
        if (first_pts != AV_NOPTS_VALUE && f->pts < last_pts + step) {
          spdlog::debug("{}: frame {} at {} is less than one output tick after {}: moved", input, f->index, f->pts, last_pts);
          f->pts = last_pts + step;
        }
        if (live) {
          // What the next frame will take, as TCP foresees a round trip: the mean plus twice the spread.
          const double took = since(item->taken);
          if (took_mean == 0) {
            took_mean = took;
            took_spread = took / 2;
          } else {
            took_spread = 0.75 * took_spread + 0.25 * std::abs(took_mean - took);
            took_mean = 0.875 * took_mean + 0.125 * took;
          }
          expected_s = took_mean + 2 * took_spread;
          // A live stop writes what is left at once.
          video::sleep_until(pacer.due(f->pts, item->arrival), [&] { return stopped() || finishing(); });
          if (stopped()) return;
          const double latency = since(item->arrival);
          figures.written(latency);
          progress.latency_s = latency;
        }
        const double t = f->pts * av_q2d(tb);
        for (auto& p : side.take_until(t, sink)) sink.write_other(p.get());
        sink.write_video(f->rgb, f->pts, f->duration);
        if (first_pts == AV_NOPTS_VALUE) first_pts = f->pts;
        last_pts = f->pts;
        last_end = f->pts + std::max<std::int64_t>(f->duration, 1);
        ++result.frames;
        progress.frames_done = result.frames;
      }
      if (failure.failed() || progress.cancel) return;
      // A live stop ends the other streams with the last frame written.
      const double end = finishing() && first_pts != AV_NOPTS_VALUE ? last_end * av_q2d(tb) : end_seconds.load();
      for (auto& p : side.take_all())
        if (sink.seconds(p.get()) < end) sink.write_other(p.get());
      sink.finish();
    } catch (...) {
      failure.set(std::current_exception());
      abort_all();
    }
  });

  // This thread: the network. A cancel (or a live stop) reaches the engine at its next tile.
  Progress tiles;
  tiles.on_tile = [&](int, int) {
    if (stopped() || finishing()) tiles.cancel = true;
  };
  double infer = 0;
  const double slow_s = test_slow_frame_seconds();
  try {
    while (auto f = live ? fresh.pop(expected_s.load()) : decoded.pop()) {
      if (live) {
        progress.frames_dropped = fresh.dropped();
        figures.log_drops(fresh.dropped(), input, progress.latency_s.load());
      }
      if (stopped() || finishing()) break;
      const auto t0 = Clock::now();
      if (slow_s > 0) std::this_thread::sleep_for(seconds_d(slow_s));
      f->frame.rgb = engine.upscale(f->frame.rgb, &tiles);
      infer += since(t0);
      if (!upscaled.push(std::move(*f))) break;
    }
    upscaled.close();
  } catch (const Error& e) {
    if (live_stop(e)) {
      upscaled.close();  // the frame under way is abandoned; those upscaled are written
    } else {
      failure.set(std::current_exception());
      abort_all();
    }
  } catch (...) {
    failure.set(std::current_exception());
    abort_all();
  }
  fresh.close(true);  // a live stop: the reader may still be pushing
  reader.join();
  writer.join();
  if (progress.cancel) throw Error(ErrorKind::Interrupted, "cancelled");
  failure.rethrow();
  if (finishing() && result.frames == 0) throw Error(ErrorKind::Interrupted, "cancelled before the first frame");
  // Nothing decodable is a failed input, not an empty video (the file is removed by the caller).
  if (result.frames == 0) throw Error(ErrorKind::Input, input + ": no video frame could be decoded");

  if (live) {
    result.dropped_frames = fresh.dropped();
    progress.frames_dropped = result.dropped_frames;
    result.late_frames = figures.late();
    result.latency_max_s = figures.max();
    result.latency_mean_s = figures.mean();
    result.interrupted = finishing();
  }
  result.damaged_frames = source.damaged_frames();
  result.broken_packets += source.broken_packets();
  result.infer_seconds = infer;
  result.seconds = since(start);
  if (first_pts != AV_NOPTS_VALUE) {
    result.duration_s = (last_end - first_pts) * av_q2d(tb);
    result.first_time_s = first_pts * av_q2d(tb);
    result.last_time_s = last_pts * av_q2d(tb);
  }
  // --join counts a piece's frames against its packets: a source whose packets do not
  // each give one frame cannot be cut this way.
  if (piece && result.frames != plan.frames[seg])
    throw Error(ErrorKind::Input, input + ": piece " + std::to_string(seg) + "/" + std::to_string(plan.count) + " decoded " +
                                      std::to_string(result.frames) + " frames where its packets promise " +
                                      std::to_string(plan.frames[seg]) + " (damaged or unusual source; run it whole)");
  return result;
}

bool video_available() { return true; }

std::string video_library_version() {
  auto v = [](unsigned x) { return std::to_string(x >> 16) + "." + std::to_string((x >> 8) & 0xff) + "." + std::to_string(x & 0xff); };
  return "libavformat " + v(avformat_version()) + ", libavcodec " + v(avcodec_version()) + ", libswscale " + v(swscale_version());
}

}  // namespace yamiro
