#include "video/source.hpp"

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

#include <cstring>

namespace yamiro::video {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kLoggedDamage = 20;  // warnings per kind; the summary has the totals

extern "C" int on_interrupt(void* opaque) { return static_cast<const Source*>(opaque)->interrupted() ? 1 : 0; }

bool is_rgb(AVPixelFormat f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  return d && (d->flags & AV_PIX_FMT_FLAG_RGB);
}

bool is_full_range_format(AVPixelFormat f) {
  return f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P || f == AV_PIX_FMT_YUVJ440P ||
         f == AV_PIX_FMT_YUVJ411P;
}

int depth_of(AVPixelFormat f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  return d ? d->comp[0].depth : 8;
}

}  // namespace

bool decode_times_only(const AVFormatContext* format) {
  return format && format->iformat && format->iformat->name && std::strcmp(format->iformat->name, "avi") == 0;
}

Source::Source(const std::string& path, const VideoOptions& options, std::function<bool()> stop)
    : path_(path), options_(options), stop_(std::move(stop)), pkt_(make_packet()), frame_(make_frame()) {
  deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.io_timeout_s));
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw std::bad_alloc();
  raw->interrupt_callback.callback = on_interrupt;
  raw->interrupt_callback.opaque = this;
  AVDictionary* opts = nullptr;
  av_dict_set_int(&opts, "probesize", options_.probe_size, 0);
  av_dict_set_int(&opts, "analyzeduration", 10 * AV_TIME_BASE, 0);
  for (const auto& [k, v] : options_.input_opts) av_dict_set(&opts, k.c_str(), v.c_str(), 0);
  std::unique_ptr<AVDictionary*, void (*)(AVDictionary**)> opts_guard(&opts, av_dict_free);
  const AVInputFormat* demuxer = nullptr;
  if (!options_.input_format.empty()) {
    demuxer = av_find_input_format(options_.input_format.c_str());
    if (!demuxer) {
      avformat_free_context(raw);
      throw Error(ErrorKind::Usage, "--input-format " + options_.input_format + ": no such demuxer in this FFmpeg");
    }
  }
  int r = avformat_open_input(&raw, path.c_str(), demuxer, &opts);  // frees raw on failure
  if (r < 0) {
    if (stop_ && stop_()) throw Error(ErrorKind::Interrupted, "cancelled");
    if (r == AVERROR_EXIT && interrupted())
      throw Error(ErrorKind::Input, path + ": no data for " + std::to_string(static_cast<int>(options_.io_timeout_s)) + " s (--timeout)");
    if (r == AVERROR(ENOENT)) throw Error(ErrorKind::Input, path + ": cannot open: no such file");
    if (r == AVERROR_INVALIDDATA) throw Error(ErrorKind::Input, path + ": not a video (no container format recognised, or its header is damaged)");
    throw Error(ErrorKind::Input, path + ": cannot open: " + av_error_text(r));
  }
  fmt_.reset(raw);
  // An option neither the demuxer nor the protocol took is a mistake, not something to ignore.
  if (const AVDictionaryEntry* left = av_dict_get(opts, "", nullptr, AV_DICT_IGNORE_SUFFIX))
    throw Error(ErrorKind::Usage, std::string("--input-opt ") + left->key + ": not an option of the " + fmt_->iformat->name +
                                      " demuxer or of the protocol of " + path);
  // The frame size from the container header is checked before anything is decoded.
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVCodecParameters* p = fmt_->streams[i]->codecpar;
    if (p->codec_type == AVMEDIA_TYPE_VIDEO && static_cast<std::int64_t>(p->width) * p->height > options_.max_pixels)
      throw Error(ErrorKind::Input, path + ": " + std::to_string(p->width) + "x" + std::to_string(p->height) +
                                        " frames exceed the limit of " + std::to_string(options_.max_pixels) + " pixels");
  }
  // Probing decodes a few frames: the decoders it opens get the same pixel limit.
  std::vector<AVDictionary*> stream_opts(fmt_->nb_streams, nullptr);
  for (auto& d : stream_opts) av_dict_set_int(&d, "max_pixels", options_.max_pixels, 0);
  r = avformat_find_stream_info(fmt_.get(), stream_opts.data());
  for (auto& d : stream_opts) av_dict_free(&d);
  if (r < 0) {
    if (stop_()) throw Error(ErrorKind::Interrupted, "cancelled");
    throw Error(ErrorKind::Input, path + ": cannot read the stream layout: " + av_error_text(r));
  }
  video_index_ = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video_index_ < 0) throw Error(ErrorKind::Input, path + ": not a video (no video stream)");
  AVStream* st = stream();
  if (st->disposition & AV_DISPOSITION_ATTACHED_PIC)
    throw Error(ErrorKind::Input, path + ": not a video (only a cover picture)");
  const AVCodecParameters* par = st->codecpar;
  width_ = par->width;
  height_ = par->height;
  if (width_ <= 0 || height_ <= 0) throw Error(ErrorKind::Input, path + ": the video stream has no frame size");
  if (static_cast<std::int64_t>(width_) * height_ > options_.max_pixels)
    throw Error(ErrorKind::Input, path + ": " + std::to_string(width_) + "x" + std::to_string(height_) +
                                      " frames exceed the limit of " + std::to_string(options_.max_pixels) + " pixels");
  open_decoder();
  stamp_in_order_ = decode_times_only(fmt_.get());
  depth_bytes_ = depth_of(dec_->pix_fmt) > 8 ? 2 : 1;
  colour_ = resolve_colour(par->color_space, par->color_range, dec_->pix_fmt, height_);
  // Streams other than the video are the caller's to map; none is discarded here.
}

void Source::open_decoder() {
  const AVCodecParameters* par = stream()->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  if (!codec) throw Error(ErrorKind::Input, path_ + ": no decoder for its " + avcodec_get_name(par->codec_id) + " video");
  dec_.reset(avcodec_alloc_context3(codec));
  if (!dec_) throw std::bad_alloc();
  check(avcodec_parameters_to_context(dec_.get(), par), ErrorKind::Input, path_ + ": decoder setup");
  dec_->pkt_timebase = stream()->time_base;
  dec_->thread_count = 0;  // auto
  dec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  dec_->max_pixels = options_.max_pixels;
  check(avcodec_open2(dec_.get(), codec, nullptr), ErrorKind::Input, path_ + ": cannot open the " + codec->name + " decoder");
}

bool Source::interrupted() const {
  return (stop_ && stop_()) || Clock::now() > deadline_;
}

std::int64_t Source::estimated_frames() const {
  const AVStream* st = stream();
  std::int64_t n = st->nb_frames;
  if (n <= 0) {
    const AVRational rate = av_guess_frame_rate(fmt_.get(), const_cast<AVStream*>(st), nullptr);
    double seconds = 0;
    if (st->duration > 0) seconds = st->duration * av_q2d(st->time_base);
    else if (fmt_->duration > 0) seconds = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
    if (rate.num > 0 && rate.den > 0) n = static_cast<std::int64_t>(seconds * av_q2d(rate) + 0.5);
  }
  if (options_.max_frames > 0 && (n <= 0 || n > options_.max_frames)) n = options_.max_frames;
  return n > 0 ? n : 0;
}

void Source::damage(const std::string& what, bool frame_lost) {
  ++broken_packets_;
  if (frame_lost) ++damaged_frames_;
  if (options_.strict) throw Error(ErrorKind::Input, path_ + ": " + what + " (--strict)");
  if (broken_packets_ <= kLoggedDamage) spdlog::warn("{}: {}", path_, what);
}

bool Source::next(DecodedFrame& out, const std::function<void(AVPacket*)>& other) {
  if (done_) return false;
  for (;;) {
    if (stop_ && stop_()) throw Error(ErrorKind::Interrupted, "cancelled");
    int r = avcodec_receive_frame(dec_.get(), frame_.get());
    if (r == 0) {
      struct Unref {
        AVFrame* f;
        ~Unref() { av_frame_unref(f); }
      } unref{frame_.get()};
      const int errors = take_decoder_errors();
      if (static_cast<std::int64_t>(frame_->width) * frame_->height > options_.max_pixels)
        throw Error(ErrorKind::Input, path_ + ": a " + std::to_string(frame_->width) + "x" + std::to_string(frame_->height) +
                                          " frame exceeds the limit of " + std::to_string(options_.max_pixels) + " pixels");
      // Timestamps are kept as they are (variable frame rate survives); a missing or
      // non-increasing one is repaired so that the encoder sees a strictly rising clock.
      std::int64_t pts = frame_->best_effort_timestamp;
      // Packets with decode times only (AVI): the n-th frame out is shown at the n-th
      // packet's time, as Video for Windows plays it. libavcodec's guess there is the time
      // of the packet that pushed the frame out, one frame late behind a B-frame delay (and
      // none for the last frame); after a seek to a keyframe, the guess of the keyframe's
      // frame would not be the keyframe packet's time that the piece plan cuts at.
      if (stamp_in_order_ && !packet_times_.empty()) {
        pts = packet_times_.front();
        packet_times_.pop_front();
      }
      if (pts == AV_NOPTS_VALUE) pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + std::max<std::int64_t>(last_duration_, 1);
      if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) {
        spdlog::debug("{}: frame {} has a non-increasing timestamp {}, moved after {}", path_, frames_out_, pts, last_pts_);
        pts = last_pts_ + 1;
      }
      last_pts_ = pts;
      last_duration_ = frame_->pkt_duration > 0 ? frame_->pkt_duration : last_duration_;
      // A piece (--segment): frames before its first keyframe belong to the previous piece
      // (open-GOP leading frames), the first frame at or after its end to the next one.
      if (range_end_ != AV_NOPTS_VALUE && pts >= range_end_) {
        done_ = true;
        return false;
      }
      if (range_start_ != AV_NOPTS_VALUE && pts < range_start_) continue;
      const bool damaged = frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT) || errors > 0;
      if (damaged) {
        ++damaged_frames_;
        if (options_.strict)
          throw Error(ErrorKind::Input, path_ + ": frame " + std::to_string(frames_out_) + " is damaged (--strict)");
        if (damaged_frames_ <= kLoggedDamage) spdlog::warn("{}: frame {} decoded with errors (concealed){}", path_, frames_out_,
                                                            damaged_frames_ == kLoggedDamage ? "; further damage is only counted" : "");
      }
      out.index = frames_out_++;
      out.pts = pts;
      out.duration = frame_->pkt_duration;
      out.damaged = damaged;
      to_rgb(*frame_, out.rgb);
      if (options_.max_frames > 0 && frames_out_ >= options_.max_frames) done_ = true;
      return true;
    }
    if (r == AVERROR_EOF) {
      done_ = true;
      return false;
    }
    if (r != AVERROR(EAGAIN)) {
      damage("the decoder failed on a frame: " + av_error_text(r), true);
      if (draining_) continue;
    }
    if (draining_) {
      done_ = true;
      return false;
    }
    deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.io_timeout_s));
    r = av_read_frame(fmt_.get(), pkt_.get());
    if (r == AVERROR_EXIT && !(stop_ && stop_()) && options_.silence_ends_stream && frames_out_ > 0) {
      // A live stream (UDP, a camera) has no end marker: silence after frames is its end.
      spdlog::info("{}: no data for {} s after {} frames: taken as the end of the stream", path_,
                   static_cast<int>(options_.io_timeout_s), frames_out_);
      check(avcodec_send_packet(dec_.get(), nullptr), ErrorKind::Input, path_ + ": draining the decoder");
      draining_ = true;
      continue;
    }
    if (r == AVERROR_EOF || (r < 0 && fmt_->pb && avio_feof(fmt_->pb))) {
      check(avcodec_send_packet(dec_.get(), nullptr), ErrorKind::Input, path_ + ": draining the decoder");
      draining_ = true;
      continue;
    }
    if (r < 0) {
      if (stop_ && stop_()) throw Error(ErrorKind::Interrupted, "cancelled");
      if (r == AVERROR_EXIT)
        throw Error(ErrorKind::Input, path_ + ": no data for " + std::to_string(static_cast<int>(options_.io_timeout_s)) + " s (--timeout)");
      // A damaged container keeps failing at the same place: give up after many in a row.
      if (++read_errors_in_a_row_ > 1000) throw Error(ErrorKind::Input, path_ + ": unreadable past this point: " + av_error_text(r));
      damage("unreadable packet: " + av_error_text(r), false);
      continue;
    }
    read_errors_in_a_row_ = 0;
    struct Unref {
      AVPacket* p;
      ~Unref() { av_packet_unref(p); }
    } unref{pkt_.get()};
    if (pkt_->stream_index != video_index_) {
      other(pkt_.get());
      continue;
    }
    if (pkt_->flags & AV_PKT_FLAG_CORRUPT) damage("packet at byte " + std::to_string(pkt_->pos) + " is flagged corrupt", false);
    r = avcodec_send_packet(dec_.get(), pkt_.get());
    if (r < 0 && r != AVERROR(EAGAIN))
      damage("broken video packet at byte " + std::to_string(pkt_->pos) + ": " + av_error_text(r), true);
    else if (stamp_in_order_ && pkt_->dts != AV_NOPTS_VALUE)
      packet_times_.push_back(pkt_->dts);
  }
}

void Source::set_range(std::int64_t start, std::int64_t end) {
  range_start_ = start;
  range_end_ = end;
  if (start == AV_NOPTS_VALUE) return;
  // The piece starts at a keyframe; seeking backward lands on it (or before it).
  const int r = av_seek_frame(fmt_.get(), video_index_, start, AVSEEK_FLAG_BACKWARD);
  if (r < 0) throw Error(ErrorKind::Input, path_ + ": cannot seek to the piece's first keyframe: " + av_error_text(r));
  avcodec_flush_buffers(dec_.get());
  packet_times_.clear();
}

ColourInfo resolve_colour(AVColorSpace space, AVColorRange range, AVPixelFormat fmt, int height) {
  ColourInfo c;
  if (is_rgb(fmt)) {
    c.space = AVCOL_SPC_RGB;
    c.range = AVCOL_RANGE_JPEG;
    return c;
  }
  c.space = space;
  if (c.space == AVCOL_SPC_UNSPECIFIED || c.space == AVCOL_SPC_RESERVED) {
    // What players do with untagged video: BT.709 from HD up, BT.601 below.
    c.space = height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    c.guessed = true;
  }
  c.range = range;
  if (c.range == AVCOL_RANGE_UNSPECIFIED) c.range = is_full_range_format(fmt) ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  return c;
}

void Source::to_rgb(const AVFrame& frame, Image& rgb) {
  const auto fmt = static_cast<AVPixelFormat>(frame.format);
  if (!sws_ || frame.width != sws_w_ || frame.height != sws_h_ || frame.format != sws_fmt_) {
    // A size change mid-stream is scaled to the first size: the encoder's size is fixed.
    if (sws_ && (frame.width != sws_w_ || frame.height != sws_h_))
      spdlog::warn("{}: frame size changed to {}x{}, scaled to {}x{}", path_, frame.width, frame.height, width_, height_);
    const AVPixelFormat dst = depth_bytes_ == 2 ? AV_PIX_FMT_RGB48 : AV_PIX_FMT_RGB24;
    sws_.reset(sws_getContext(frame.width, frame.height, fmt, width_, height_, dst,
                              SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP, nullptr, nullptr,
                              nullptr));
    if (!sws_) throw Error(ErrorKind::Input, path_ + ": cannot convert " + (av_get_pix_fmt_name(fmt) ? av_get_pix_fmt_name(fmt) : "?") + " frames to RGB");
    sws_w_ = frame.width;
    sws_h_ = frame.height;
    sws_fmt_ = frame.format;
    // Frame tags win over the container's; the output is tagged with what was used first.
    const ColourInfo c = resolve_colour(frame.colorspace != AVCOL_SPC_UNSPECIFIED ? frame.colorspace : colour_.space,
                                        frame.color_range != AVCOL_RANGE_UNSPECIFIED ? frame.color_range : colour_.range,
                                        fmt, height_);
    if (!is_rgb(fmt))
      sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(c.space), c.range == AVCOL_RANGE_JPEG ? 1 : 0,
                               sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  }
  if (rgb.width != width_ || rgb.height != height_ || rgb.depth_bytes != depth_bytes_ || rgb.channels != 3)
    rgb = Image(width_, height_, 3, depth_bytes_);
  std::uint8_t* dst[4] = {rgb.data.data(), nullptr, nullptr, nullptr};
  const int dst_stride[4] = {static_cast<int>(rgb.row_bytes()), 0, 0, 0};
  sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, dst, dst_stride);
}

}  // namespace yamiro::video
