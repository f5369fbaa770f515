// --segment I/N and --join: the keyframe plan, piece tags, and the remux of the pieces
// with the source's other streams.
#include "video/segment.hpp"

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <limits>
#include <set>

#include "video/sink.hpp"
#include "video/source.hpp"

namespace yamiro::video {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kTagSegment = "YAMIRO_SEGMENT";      // "I/N"
constexpr const char* kTagSource = "YAMIRO_SOURCE";        // PacketScan::fingerprint
constexpr const char* kTagFrames = "YAMIRO_FRAMES";
constexpr const char* kTagFirst = "YAMIRO_FIRST_PTS";      // in the source's time base
constexpr const char* kTagLast = "YAMIRO_LAST_PTS";

void fnv(std::uint64_t& h, std::int64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= static_cast<std::uint64_t>(v >> (8 * i)) & 0xff;
    h *= 1099511628211ULL;
  }
}

InputPtr open_plain(const std::string& path, const VideoOptions& options, bool source) {
  AVFormatContext* raw = nullptr;
  AVDictionary* opts = nullptr;
  std::unique_ptr<AVDictionary*, void (*)(AVDictionary**)> guard(&opts, av_dict_free);
  const AVInputFormat* demuxer = nullptr;
  if (source) {
    for (const auto& [k, v] : options.input_opts) av_dict_set(&opts, k.c_str(), v.c_str(), 0);
    if (!options.input_format.empty()) demuxer = av_find_input_format(options.input_format.c_str());
  }
  const int r = avformat_open_input(&raw, path.c_str(), demuxer, &opts);
  if (r == AVERROR(ENOENT)) throw Error(ErrorKind::Input, path + ": cannot open: no such file");
  if (r < 0) throw Error(ErrorKind::Input, path + ": cannot open: " + av_error_text(r));
  InputPtr in(raw);
  check(avformat_find_stream_info(in.get(), nullptr), ErrorKind::Input, path + ": cannot read the stream layout");
  return in;
}

int video_stream(AVFormatContext* in, const std::string& path) {
  const int vi = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (vi < 0) throw Error(ErrorKind::Input, path + ": not a video (no video stream)");
  return vi;
}

std::string tag(const AVFormatContext* in, const char* key) {
  const AVDictionaryEntry* e = av_dict_get(in->metadata, key, nullptr, 0);
  return e ? e->value : "";
}

// What a piece file says about itself, and what its video packets are.
struct Piece {
  std::string path;
  InputPtr in;
  int vi = -1;
  int index = -1, count = 0;
  std::string source;
  std::int64_t tagged_frames = 0, packets = 0;
  std::int64_t first = AV_NOPTS_VALUE, last = AV_NOPTS_VALUE;  // in the piece's time base
};

Piece read_piece(const std::string& path, bool count_packets) {
  Piece p;
  p.path = path;
  p.in = open_plain(path, VideoOptions{}, false);
  p.vi = video_stream(p.in.get(), path);
  const std::string seg = tag(p.in.get(), kTagSegment);
  if (seg.empty() || std::sscanf(seg.c_str(), "%d/%d", &p.index, &p.count) != 2)
    throw Error(ErrorKind::Input, path + ": not a piece made by yamiro video --segment (no segment tags)");
  p.source = tag(p.in.get(), kTagSource);
  p.tagged_frames = std::atoll(tag(p.in.get(), kTagFrames).c_str());
  if (!count_packets) return p;
  for (unsigned i = 0; i < p.in->nb_streams; ++i)
    if (static_cast<int>(i) != p.vi) p.in->streams[i]->discard = AVDISCARD_ALL;
  PacketPtr pkt = make_packet();
  while (av_read_frame(p.in.get(), pkt.get()) >= 0) {
    if (pkt->stream_index == p.vi) {
      ++p.packets;
      const std::int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (p.first == AV_NOPTS_VALUE || t < p.first) p.first = t;
      if (p.last == AV_NOPTS_VALUE || t > p.last) p.last = t;
    }
    av_packet_unref(pkt.get());
  }
  return p;
}

// Empty when `p` is the complete piece `index` of `plan`, else why not.
std::string piece_problem(const Piece& p, const Plan& plan, int index, const std::string& input) {
  if (p.source != plan.fingerprint) return p.path + ": a piece of another video, not of " + input;
  if (p.count != plan.count)
    return p.path + ": is piece " + std::to_string(p.index) + "/" + std::to_string(p.count) + ", but " +
           std::to_string(plan.count) + " pieces were given";
  if (p.index != index)
    return p.path + ": is piece " + std::to_string(p.index) + "/" + std::to_string(p.count) + " but was given as piece " +
           std::to_string(index) + " (pieces go in order 0.." + std::to_string(plan.count - 1) + ")";
  const AVRational tb = p.in->streams[p.vi]->time_base;
  if (p.packets != plan.frames[index] || p.tagged_frames != plan.frames[index])
    return p.path + ": cut short: " + std::to_string(p.packets) + " of " + std::to_string(plan.frames[index]) +
           " frames (run piece " + std::to_string(index) + "/" + std::to_string(plan.count) + " again)";
  if (p.first != av_rescale_q(plan.first[index], plan.time_base, tb) || p.last != av_rescale_q(plan.last[index], plan.time_base, tb))
    return p.path + ": its timestamps do not match piece " + std::to_string(index) + " of " + input + " (gap or overlap)";
  return "";
}

bool same_parameters(const AVCodecParameters* a, const AVCodecParameters* b) {
  return a->codec_id == b->codec_id && a->width == b->width && a->height == b->height && a->format == b->format &&
         a->extradata_size == b->extradata_size &&
         (a->extradata_size == 0 || std::memcmp(a->extradata, b->extradata, a->extradata_size) == 0);
}

}  // namespace

PacketScan scan_packets(const std::string& input, const VideoOptions& options) {
  InputPtr in = open_plain(input, options, true);
  if (!in->pb || !(in->pb->seekable & AVIO_SEEKABLE_NORMAL))
    throw Error(ErrorKind::Input, input + ": pieces (--segment, --join) need a seekable file, not a stream");
  const int vi = video_stream(in.get(), input);
  for (unsigned i = 0; i < in->nb_streams; ++i)
    if (static_cast<int>(i) != vi) in->streams[i]->discard = AVDISCARD_ALL;
  PacketScan scan;
  const bool dts_only = decode_times_only(in.get());  // the times Source stamps frames with
  const AVStream* st = in->streams[vi];
  scan.time_base = st->time_base;
  std::uint64_t h = 1469598103934665603ULL;
  fnv(h, st->codecpar->codec_id);
  fnv(h, st->codecpar->width);
  fnv(h, st->codecpar->height);
  PacketPtr pkt = make_packet();
  for (;;) {
    const int r = av_read_frame(in.get(), pkt.get());
    if (r == AVERROR_EOF) break;
    if (r < 0) throw Error(ErrorKind::Input, input + ": unreadable while listing its keyframes: " + av_error_text(r));
    if (pkt->stream_index == vi) {
      const std::int64_t t = pkt->pts != AV_NOPTS_VALUE && !dts_only ? pkt->pts : pkt->dts;
      if (t != AV_NOPTS_VALUE) {
        if (pkt->flags & AV_PKT_FLAG_KEY) scan.keys.push_back(scan.ts.size());
        scan.ts.push_back(t);
        fnv(h, t);
        fnv(h, pkt->size);
        fnv(h, pkt->flags & AV_PKT_FLAG_KEY);
      }
    }
    av_packet_unref(pkt.get());
  }
  if (scan.ts.empty()) throw Error(ErrorKind::Input, input + ": no video packet with a timestamp");
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  scan.fingerprint = buf;
  return scan;
}

Plan make_plan(const PacketScan& scan, int count, const std::string& input) {
  Plan plan;
  plan.time_base = scan.time_base;
  plan.count = count;
  plan.fingerprint = scan.fingerprint;
  plan.start.assign(count + 1, 0);
  plan.start[0] = std::numeric_limits<std::int64_t>::min();
  plan.start[count] = std::numeric_limits<std::int64_t>::max();
  const std::size_t n = scan.ts.size();
  std::size_t k = 0;  // next usable keyframe
  const std::int64_t earliest = *std::min_element(scan.ts.begin(), scan.ts.end());
  for (int i = 1; i < count; ++i) {
    const std::size_t target = n * static_cast<std::size_t>(i) / static_cast<std::size_t>(count);
    while (k < scan.keys.size() && (scan.keys[k] < target || scan.ts[scan.keys[k]] <= plan.start[i - 1] ||
                                    scan.ts[scan.keys[k]] <= earliest))
      ++k;
    if (k >= scan.keys.size())
      throw Error(ErrorKind::Input, input + ": has " + std::to_string(scan.keys.size()) + " keyframes, too few for " +
                                        std::to_string(count) + " pieces (each piece starts at a keyframe)");
    plan.start[i] = scan.ts[scan.keys[k++]];
  }
  plan.frames.assign(count, 0);
  plan.first.assign(count, std::numeric_limits<std::int64_t>::max());
  plan.last.assign(count, std::numeric_limits<std::int64_t>::min());
  for (const std::int64_t t : scan.ts) {
    const int i = static_cast<int>(std::upper_bound(plan.start.begin() + 1, plan.start.end(), t) - plan.start.begin()) - 1;
    ++plan.frames[i];
    plan.first[i] = std::min(plan.first[i], t);
    plan.last[i] = std::max(plan.last[i], t);
  }
  return plan;
}

std::vector<std::pair<std::string, std::string>> piece_tags(const Plan& plan, int index) {
  return {{kTagSegment, std::to_string(index) + "/" + std::to_string(plan.count)},
          {kTagSource, plan.fingerprint},
          {kTagFrames, std::to_string(plan.frames[index])},
          {kTagFirst, std::to_string(plan.first[index])},
          {kTagLast, std::to_string(plan.last[index])}};
}

}  // namespace yamiro::video

namespace yamiro {

SegmentInfo plan_segment(const std::string& input, const VideoOptions& options) {
  video::route_av_log();
  const video::Plan plan = video::make_plan(video::scan_packets(input, options), options.segment_count, input);
  const int i = options.segment_index;
  SegmentInfo s;
  s.index = i;
  s.count = plan.count;
  s.frames = plan.frames[i];
  s.first_time_s = plan.first[i] * av_q2d(plan.time_base);
  s.last_time_s = plan.last[i] * av_q2d(plan.time_base);
  return s;
}

bool segment_complete(const std::string& input, const std::string& part, const VideoOptions& options) {
  video::route_av_log();
  const video::Plan plan = video::make_plan(video::scan_packets(input, options), options.segment_count, input);
  try {
    const video::Piece p = video::read_piece(part, true);
    const std::string problem = video::piece_problem(p, plan, options.segment_index, input);
    if (!problem.empty()) spdlog::info("{}; it is made again", problem);
    return problem.empty();
  } catch (const Error& e) {
    spdlog::info("{}; it is made again", e.what());
    return false;
  }
}

VideoResult join_video(const std::string& input, const std::vector<std::string>& parts, const std::string& output,
                       const VideoOptions& options) {
  using namespace video;
  route_av_log();
  const auto start = Clock::now();
  const PacketScan scan = scan_packets(input, options);
  // What the pieces say first: a missing piece is named by its number.
  std::vector<Piece> pieces;
  for (const auto& p : parts) pieces.push_back(read_piece(p, true));
  std::set<int> given;
  for (const auto& p : pieces) {
    if (p.source != scan.fingerprint) throw Error(ErrorKind::Input, p.path + ": a piece of another video, not of " + input);
    given.insert(p.index);
  }
  const int count = pieces.front().count;
  for (int i = 0; i < count; ++i)
    if (!given.count(i) && static_cast<int>(pieces.size()) < count)
      throw Error(ErrorKind::Input, input + ": piece " + std::to_string(i) + "/" + std::to_string(count) + " is missing (" +
                                        std::to_string(pieces.size()) + " of " + std::to_string(count) + " pieces given)");
  const Plan plan = make_plan(scan, static_cast<int>(pieces.size()), input);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::string problem = piece_problem(pieces[i], plan, static_cast<int>(i), input);
    if (!problem.empty()) throw Error(ErrorKind::Input, problem);
    if (!same_parameters(pieces[i].in->streams[pieces[i].vi]->codecpar, pieces[0].in->streams[pieces[0].vi]->codecpar))
      throw Error(ErrorKind::Input, pieces[i].path + ": encoded differently from " + pieces[0].path +
                                        " (codec, size, pixel format or codec headers differ)");
  }

  VideoResult result;
  InputPtr in = open_plain(input, options, true);
  const int vi = video_stream(in.get(), input);
  OutputPtr out = alloc_output(output, options.output_format);
  const AVStream* piece_st = pieces[0].in->streams[pieces[0].vi];
  AVStream* st = avformat_new_stream(out.get(), nullptr);
  if (!st) throw std::bad_alloc();
  check(avcodec_parameters_copy(st->codecpar, piece_st->codecpar), ErrorKind::Io, "video stream parameters");
  st->codecpar->codec_tag = 0;
  st->time_base = piece_st->time_base;
  st->avg_frame_rate = piece_st->avg_frame_rate;
  st->sample_aspect_ratio = piece_st->sample_aspect_ratio;
  copy_stream_info(in->streams[vi], st);
  av_dict_set(&st->metadata, "encoder", nullptr, 0);
  std::vector<StreamMapping> map = map_other_streams(in.get(), vi, input, out.get(), output, options, result);
  copy_chapters(in.get(), out.get());
  av_dict_copy(&out->metadata, in->metadata, 0);
  av_dict_set(&out->metadata, "encoder", nullptr, 0);
  open_and_write_header(out.get(), output, options);

  auto mux = [&](AVPacket* p, AVRational from, int index) {
    p->stream_index = index;
    av_packet_rescale_ts(p, from, out->streams[index]->time_base);
    p->pos = -1;
    check(av_interleaved_write_frame(out.get(), p), ErrorKind::Io, output + ": write failed");
  };
  // The source's other streams, read in order, merged with the pieces' video by time.
  for (unsigned i = 0; i < in->nb_streams; ++i)
    if (static_cast<int>(i) == vi || map[i].out_index < 0) in->streams[i]->discard = AVDISCARD_ALL;
  PacketPtr side = make_packet(), video = make_packet();
  bool side_ok = false, video_ok = false;
  std::size_t piece = 0;
  auto next_side = [&] {
    av_packet_unref(side.get());
    for (;;) {
      if (av_read_frame(in.get(), side.get()) < 0) return false;
      if (side->stream_index != vi && map[side->stream_index].out_index >= 0) return true;
      av_packet_unref(side.get());
    }
  };
  auto next_video = [&] {
    av_packet_unref(video.get());
    while (piece < pieces.size()) {
      if (av_read_frame(pieces[piece].in.get(), video.get()) >= 0) {
        if (video->stream_index == pieces[piece].vi) return true;
        av_packet_unref(video.get());
        continue;
      }
      ++piece;
    }
    return false;
  };
  // The pieces were read to the end for the checks: back to their start.
  for (auto& p : pieces) {
    const int r = avformat_seek_file(p.in.get(), -1, INT64_MIN, 0, INT64_MAX, 0);
    if (r < 0) throw Error(ErrorKind::Input, p.path + ": cannot rewind: " + av_error_text(r));
  }
  auto seconds = [](const AVPacket* p, AVRational tb) {
    const std::int64_t t = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
    return t == AV_NOPTS_VALUE ? 0.0 : t * av_q2d(tb);
  };
  side_ok = next_side();
  video_ok = next_video();
  std::int64_t first = AV_NOPTS_VALUE, last_end = 0;
  AVRational vtb = piece_st->time_base;
  while (side_ok || video_ok) {
    const AVRational cur_tb = video_ok ? pieces[piece].in->streams[pieces[piece].vi]->time_base : vtb;
    if (side_ok && (!video_ok || seconds(side.get(), in->streams[side->stream_index]->time_base) <= seconds(video.get(), cur_tb))) {
      StreamMapping& m = map[side->stream_index];
      if (m.aac) {
        AacTranscoder* aac = m.aac.get();
        const int index = m.out_index;
        aac->feed(side.get(), [&](AVPacket* p) { mux(p, aac->time_base(), index); });
      } else {
        mux(side.get(), in->streams[side->stream_index]->time_base, m.out_index);
      }
      side_ok = next_side();
      continue;
    }
    const std::int64_t pts = av_rescale_q(video->pts, cur_tb, vtb);
    if (first == AV_NOPTS_VALUE) first = pts;
    last_end = std::max(last_end, pts + std::max<std::int64_t>(av_rescale_q(video->duration, cur_tb, vtb), 1));
    result.last_time_s = pts * av_q2d(vtb);
    ++result.frames;
    mux(video.get(), cur_tb, 0);
    video_ok = next_video();
  }
  for (auto& m : map)
    if (m.aac) {
      AacTranscoder* aac = m.aac.get();
      const int index = m.out_index;
      aac->flush([&](AVPacket* p) { mux(p, aac->time_base(), index); });
    }
  check(av_write_trailer(out.get()), ErrorKind::Io, output + ": cannot finish the file");
  if (out->pb && !(out->oformat->flags & AVFMT_NOFILE)) check(avio_closep(&out->pb), ErrorKind::Io, output + ": cannot close");
  result.out_width = piece_st->codecpar->width;
  result.out_height = piece_st->codecpar->height;
  result.codec = avcodec_get_name(piece_st->codecpar->codec_id);
  const char* pf = av_get_pix_fmt_name(static_cast<AVPixelFormat>(piece_st->codecpar->format));
  result.pix_fmt = pf ? pf : "";
  result.first_time_s = first * av_q2d(vtb);
  result.duration_s = (last_end - first) * av_q2d(vtb);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace yamiro
