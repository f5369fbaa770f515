#include "video/sink.hpp"

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <cstring>

namespace yamiro::video {
namespace {

bool is_rgb(AVPixelFormat f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  return d && (d->flags & AV_PIX_FMT_FLAG_RGB);
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

// Stream side data (rotation, HDR metadata, stereo/spherical layout) travels with the
// stream; the source encoder's buffer sizes do not.
void copy_side_data(const AVStream* in, AVStream* out) {
  for (int i = 0; i < in->nb_side_data; ++i) {
    const AVPacketSideData& sd = in->side_data[i];
    if (sd.type == AV_PKT_DATA_CPB_PROPERTIES) continue;
    std::uint8_t* dst = av_stream_new_side_data(out, sd.type, sd.size);
    if (!dst) throw std::bad_alloc();
    std::memcpy(dst, sd.data, sd.size);
  }
}

}  // namespace

void copy_stream_info(const AVStream* in, AVStream* out) {
  av_dict_copy(&out->metadata, in->metadata, 0);
  out->disposition = in->disposition;
  copy_side_data(in, out);
}

namespace {

// 1 = the container takes this codec, 0 = it refuses it, < 0 = it cannot tell.
int accepts(const AVOutputFormat* fmt, AVCodecID id) { return avformat_query_codec(fmt, id, FF_COMPLIANCE_NORMAL); }

}  // namespace

std::vector<std::string> known_encoders() {
  std::vector<std::string> out;
  for (const char* name : {"libx264", "libx265", "libvpx-vp9", "libaom-av1", "ffv1"})
    if (avcodec_find_encoder_by_name(name)) out.emplace_back(name);
  return out;
}

Sink::Sink(const std::string& path, const Source& source, const VideoOptions& options, int net_w, int net_h, int out_w,
           int out_h, VideoResult& result)
    : path_(path), options_(options), result_(result), in_(source.format()), frame_(make_frame()), pkt_(make_packet()),
      net_w_(net_w), net_h_(net_h), depth_bytes_(source.depth_bytes()), in_tb_(source.stream()->time_base) {
  out_ = alloc_output(path, options.output_format);
  map_.resize(in_->nb_streams);
  open_video(source, out_w, out_h);
  if (options.segment_index < 0) {
    map_ = map_other_streams(in_, source.video_index(), source.path(), out_.get(), path, options, result);
    copy_chapters(in_, out_.get());
  }
  map_[source.video_index()].out_index = 0;
  av_dict_copy(&out_->metadata, in_->metadata, 0);
  av_dict_set(&out_->metadata, "encoder", nullptr, 0);  // the muxer writes its own
}

void Sink::start(const std::vector<std::pair<std::string, std::string>>& tags) {
  for (const auto& [k, v] : tags) av_dict_set(&out_->metadata, k.c_str(), v.c_str(), 0);
  open_and_write_header(out_.get(), path_, options_);
}

OutputPtr alloc_output(const std::string& path, const std::string& format) {
  const AVOutputFormat* muxer = nullptr;
  if (!format.empty()) {
    muxer = av_guess_format(format.c_str(), nullptr, nullptr);
    if (!muxer) throw Error(ErrorKind::Usage, "--format " + format + ": no such muxer in this FFmpeg (ffmpeg -muxers lists them)");
  }
  AVFormatContext* oc = nullptr;
  if (avformat_alloc_output_context2(&oc, muxer, nullptr, path.c_str()) < 0 || !oc)
    throw Error(ErrorKind::Usage, path + ": no video container for this name (use an extension such as .mkv or .mp4, or --format NAME)");
  return OutputPtr(oc);
}

void open_and_write_header(AVFormatContext* out, const std::string& path, const VideoOptions& options) {
  AVDictionary* opts = nullptr;
  std::unique_ptr<AVDictionary*, void (*)(AVDictionary**)> guard(&opts, av_dict_free);
  for (const auto& [k, v] : options.muxer_opts) av_dict_set(&opts, k.c_str(), v.c_str(), 0);
  if (!(out->oformat->flags & AVFMT_NOFILE)) {
    // Protocol options (listen=1, pkt_size=...) are taken here, the muxer's below.
    const int r = avio_open2(&out->pb, path.c_str(), AVIO_FLAG_WRITE, nullptr, &opts);
    if (r < 0) throw Error(ErrorKind::Io, path + ": cannot write: " + av_error_text(r));
  }
  const int r = avformat_write_header(out, &opts);
  if (r < 0)
    throw Error(ErrorKind::Usage, path + ": the " + out->oformat->name + " container refused these streams: " + av_error_text(r));
  if (const AVDictionaryEntry* left = av_dict_get(opts, "", nullptr, AV_DICT_IGNORE_SUFFIX))
    throw Error(ErrorKind::Usage, std::string("--muxer-opt ") + left->key + ": not an option of the " + out->oformat->name +
                                      " muxer or of the protocol of " + path);
}

void copy_chapters(const AVFormatContext* in, AVFormatContext* out) {
  if (in->nb_chapters == 0) return;
  auto** chapters = static_cast<AVChapter**>(av_calloc(in->nb_chapters, sizeof(AVChapter*)));
  if (!chapters) throw std::bad_alloc();
  out->chapters = chapters;
  for (unsigned i = 0; i < in->nb_chapters; ++i) {
    const AVChapter* c = in->chapters[i];
    auto* d = static_cast<AVChapter*>(av_mallocz(sizeof(AVChapter)));
    if (!d) throw std::bad_alloc();
    d->id = c->id;
    d->time_base = c->time_base;
    d->start = c->start;
    d->end = c->end;
    av_dict_copy(&d->metadata, c->metadata, 0);
    out->chapters[out->nb_chapters++] = d;
  }
}

void Sink::open_video(const Source& source, int out_w, int out_h) {
  const AVCodec* codec = avcodec_find_encoder_by_name(options_.codec.c_str());
  if (!codec || codec->type != AVMEDIA_TYPE_VIDEO)
    throw Error(ErrorKind::Usage, "unknown video encoder '" + options_.codec + "' (this build has: " + join(known_encoders()) + ")");
  if (accepts(out_->oformat, codec->id) == 0)
    throw Error(ErrorKind::Usage, path_ + ": the " + out_->oformat->name + " container cannot hold " + codec->name + " video");
  AVPixelFormat fmt = AV_PIX_FMT_NONE;
  if (!options_.pix_fmt.empty()) {
    fmt = av_get_pix_fmt(options_.pix_fmt.c_str());
    bool ok = fmt != AV_PIX_FMT_NONE && !codec->pix_fmts;
    std::vector<std::string> names;
    for (const AVPixelFormat* p = codec->pix_fmts; p && *p != AV_PIX_FMT_NONE; ++p) {
      ok = ok || *p == fmt;
      names.emplace_back(av_get_pix_fmt_name(*p));
    }
    if (!ok) throw Error(ErrorKind::Usage, "--pix-fmt " + options_.pix_fmt + " is not one " + codec->name + " takes (" + join(names) + ")");
  } else if (codec->pix_fmts) {
    fmt = avcodec_find_best_pix_fmt_of_list(codec->pix_fmts, source.pix_fmt(), 0, nullptr);
  } else {
    fmt = source.pix_fmt();
  }
  // Subsampled chroma needs even (or 4-aligned) sizes.
  int sx = 0, sy = 0;
  av_pix_fmt_get_chroma_sub_sample(fmt, &sx, &sy);
  out_w = std::max(1 << sx, out_w & ~((1 << sx) - 1));
  out_h = std::max(1 << sy, out_h & ~((1 << sy) - 1));

  enc_.reset(avcodec_alloc_context3(codec));
  if (!enc_) throw std::bad_alloc();
  AVStream* in = source.stream();
  enc_->width = out_w;
  enc_->height = out_h;
  enc_->pix_fmt = fmt;
  enc_->time_base = in_tb_;  // timestamps pass through unchanged: variable frame rate survives
  const AVRational rate = av_guess_frame_rate(const_cast<AVFormatContext*>(in_), in, nullptr);
  if (rate.num > 0 && rate.den > 0) enc_->framerate = rate;
  const AVRational sar = av_guess_sample_aspect_ratio(const_cast<AVFormatContext*>(in_), in, nullptr);
  if (sar.num > 0 && sar.den > 0) enc_->sample_aspect_ratio = sar;
  const ColourInfo& c = source.colour();
  const AVCodecParameters* par = in->codecpar;
  if (is_rgb(fmt)) {
    enc_->colorspace = AVCOL_SPC_RGB;
    enc_->color_range = AVCOL_RANGE_JPEG;
  } else {
    enc_->colorspace = c.space == AVCOL_SPC_RGB ? AVCOL_SPC_BT709 : c.space;
    enc_->color_range = c.space == AVCOL_SPC_RGB ? AVCOL_RANGE_MPEG : c.range;
  }
  // The output is tagged with what its pixels were made with; a guess becomes explicit.
  const bool sd = enc_->colorspace == AVCOL_SPC_SMPTE170M || enc_->colorspace == AVCOL_SPC_BT470BG;
  enc_->color_primaries = par->color_primaries != AVCOL_PRI_UNSPECIFIED ? par->color_primaries
                          : sd ? AVCOL_PRI_SMPTE170M : AVCOL_PRI_BT709;
  enc_->color_trc = par->color_trc != AVCOL_TRC_UNSPECIFIED ? par->color_trc : sd ? AVCOL_TRC_SMPTE170M : AVCOL_TRC_BT709;
  enc_->chroma_sample_location = par->chroma_location;
  enc_->thread_count = 0;
  if (out_->oformat->flags & AVFMT_GLOBALHEADER) enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

  AVDictionary* opts = nullptr;
  std::unique_ptr<AVDictionary*, void (*)(AVDictionary**)> guard(&opts, av_dict_free);
  if (options_.crf >= 0) av_dict_set(&opts, "crf", std::to_string(options_.crf).c_str(), 0);
  if (!options_.preset.empty()) av_dict_set(&opts, "preset", options_.preset.c_str(), 0);
  for (const auto& [k, v] : options_.encoder_opts) av_dict_set(&opts, k.c_str(), v.c_str(), 0);
  // Live: no lookahead or B-frame delay in x264/x265 unless a tune was asked for.
  if (options_.live && (std::strcmp(codec->name, "libx264") == 0 || std::strcmp(codec->name, "libx265") == 0) &&
      !av_dict_get(opts, "tune", nullptr, 0))
    av_dict_set(&opts, "tune", "zerolatency", 0);
  int r = avcodec_open2(enc_.get(), codec, &opts);
  if (r < 0) throw Error(ErrorKind::Usage, std::string("cannot open the ") + codec->name + " encoder with these options: " + av_error_text(r));
  if (const AVDictionaryEntry* left = av_dict_get(opts, "", nullptr, AV_DICT_IGNORE_SUFFIX))
    throw Error(ErrorKind::Usage, std::string(codec->name) + " has no option '" + left->key + "'" +
                                      (std::strcmp(left->key, "crf") == 0 ? " (--crf)" : ""));

  AVStream* st = avformat_new_stream(out_.get(), nullptr);
  if (!st) throw std::bad_alloc();
  check(avcodec_parameters_from_context(st->codecpar, enc_.get()), ErrorKind::Io, "video stream parameters");
  st->time_base = enc_->time_base;
  st->avg_frame_rate = enc_->framerate;
  st->sample_aspect_ratio = enc_->sample_aspect_ratio;
  copy_stream_info(in, st);
  av_dict_set(&st->metadata, "encoder", nullptr, 0);

  frame_->format = fmt;
  frame_->width = out_w;
  frame_->height = out_h;
  check(av_frame_get_buffer(frame_.get(), 0), ErrorKind::Io, "video frame");
  const AVPixelFormat src = depth_bytes_ == 2 ? AV_PIX_FMT_RGB48 : AV_PIX_FMT_RGB24;
  const int flags = (out_w == net_w_ && out_h == net_h_ ? SWS_BICUBIC : SWS_LANCZOS) | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
  sws_.reset(sws_getContext(net_w_, net_h_, src, out_w, out_h, fmt, flags, nullptr, nullptr, nullptr));
  if (!sws_) throw Error(ErrorKind::Usage, std::string("cannot convert RGB to ") + av_get_pix_fmt_name(fmt));
  if (!is_rgb(fmt))
    sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1, sws_getCoefficients(enc_->colorspace),
                             enc_->color_range == AVCOL_RANGE_JPEG ? 1 : 0, 0, 1 << 16, 1 << 16);
  result_.out_width = out_w;
  result_.out_height = out_h;
  result_.codec = codec->name;
  result_.pix_fmt = av_get_pix_fmt_name(fmt);
}

std::vector<StreamMapping> map_other_streams(const AVFormatContext* in_fmt, int video_index, const std::string& in_path,
                                            AVFormatContext* out, const std::string& out_path, const VideoOptions& options,
                                            VideoResult& result) {
  std::vector<StreamMapping> map(in_fmt->nb_streams);
  const AVOutputFormat* ofmt = out->oformat;
  for (unsigned i = 0; i < in_fmt->nb_streams; ++i) {
    if (static_cast<int>(i) == video_index) continue;
    const AVStream* in = in_fmt->streams[i];
    const AVCodecParameters* par = in->codecpar;
    const char* codec = avcodec_get_name(par->codec_id);
    if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
      if (options.audio == AudioMode::None) {
        ++result.audio_dropped;
        continue;
      }
      bool transcode = options.audio == AudioMode::Aac || accepts(ofmt, par->codec_id) != 1;
      if (transcode && accepts(ofmt, AV_CODEC_ID_AAC) == 0) {
        spdlog::warn("{}: the {} container takes neither {} nor AAC audio: audio stream {} dropped", out_path, ofmt->name, codec, i);
        ++result.audio_dropped;
        continue;
      }
      AVStream* st = avformat_new_stream(out, nullptr);
      if (!st) throw std::bad_alloc();
      copy_stream_info(in, st);
      if (transcode) {
        if (options.audio == AudioMode::Copy) spdlog::info("{}: {} audio transcoded to AAC for the {} container", out_path, codec, ofmt->name);
        map[i].aac = std::make_unique<AacTranscoder>(in_path, in, st, ofmt->flags & AVFMT_GLOBALHEADER);
        ++result.audio_transcoded;
      } else {
        check(avcodec_parameters_copy(st->codecpar, par), ErrorKind::Io, "audio stream parameters");
        st->codecpar->codec_tag = 0;
        st->time_base = in->time_base;
        ++result.audio_copied;
      }
      map[i].out_index = st->index;
    } else if (par->codec_type == AVMEDIA_TYPE_SUBTITLE || par->codec_type == AVMEDIA_TYPE_ATTACHMENT) {
      const bool sub = par->codec_type == AVMEDIA_TYPE_SUBTITLE;
      if (accepts(ofmt, par->codec_id) != 1) {
        if (sub) {
          spdlog::warn("{}: the {} container does not take {} subtitles: subtitle stream {} dropped", out_path, ofmt->name, codec, i);
          ++result.subtitles_dropped;
        }
        continue;
      }
      AVStream* st = avformat_new_stream(out, nullptr);
      if (!st) throw std::bad_alloc();
      check(avcodec_parameters_copy(st->codecpar, par), ErrorKind::Io, "stream parameters");
      st->codecpar->codec_tag = 0;
      st->time_base = in->time_base;
      copy_stream_info(in, st);
      map[i].out_index = st->index;
      if (sub) ++result.subtitles_copied;
    } else {
      spdlog::debug("{}: {} stream {} ({}) not copied", out_path, av_get_media_type_string(par->codec_type) ? av_get_media_type_string(par->codec_type) : "data", i, codec);
    }
  }
  return map;
}

std::int64_t Sink::min_pts_step() const {
  return std::max<std::int64_t>(1, av_rescale_q_rnd(1, out_->streams[0]->time_base, in_tb_, AV_ROUND_UP));
}

double Sink::seconds(const AVPacket* packet) const {
  const std::int64_t ts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
  if (ts == AV_NOPTS_VALUE) return 0;
  return ts * av_q2d(in_->streams[packet->stream_index]->time_base);
}

void Sink::write_video(const Image& rgb, std::int64_t pts, std::int64_t duration) {
  check(av_frame_make_writable(frame_.get()), ErrorKind::Io, "video frame");
  const std::uint8_t* src[4] = {rgb.data.data(), nullptr, nullptr, nullptr};
  const int stride[4] = {static_cast<int>(rgb.row_bytes()), 0, 0, 0};
  sws_scale(sws_.get(), src, stride, 0, rgb.height, frame_->data, frame_->linesize);
  frame_->pts = pts;
  frame_->pkt_duration = duration;
  if (duration <= 0 && !durations_.empty()) duration = durations_.rbegin()->second;
  durations_[pts] = duration > 0 ? duration : 1;
  encode(frame_.get());
}

void Sink::encode(AVFrame* frame) {
  check(avcodec_send_frame(enc_.get(), frame), ErrorKind::Io, path_ + ": " + result_.codec + " encoder");
  for (;;) {
    const int r = avcodec_receive_packet(enc_.get(), pkt_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
    check(r, ErrorKind::Io, path_ + ": " + result_.codec + " encoder");
    // Encoders that drop the frame's duration (libx264 in FFmpeg 5.1) would leave the
    // last frame outside an MP4 edit list; the duration travels with the pts instead.
    if (const auto it = durations_.find(pkt_->pts); it != durations_.end()) {
      if (pkt_->duration <= 0) pkt_->duration = it->second;
      durations_.erase(it);
    }
    mux(pkt_.get(), enc_->time_base, 0);
  }
}

void Sink::mux(AVPacket* packet, AVRational from, int out_index) {
  packet->stream_index = out_index;
  av_packet_rescale_ts(packet, from, out_->streams[out_index]->time_base);
  packet->pos = -1;
  check(av_interleaved_write_frame(out_.get(), packet), ErrorKind::Io, path_ + ": write failed");
}

void Sink::write_other(AVPacket* packet) {
  if (packet->stream_index < 0 || packet->stream_index >= static_cast<int>(map_.size())) return;
  StreamMapping& m = map_[packet->stream_index];
  if (m.out_index < 0) return;
  if (m.aac) {
    const int out_index = m.out_index;
    AacTranscoder* aac = m.aac.get();
    aac->feed(packet, [&](AVPacket* p) { mux(p, aac->time_base(), out_index); });
    return;
  }
  mux(packet, in_->streams[packet->stream_index]->time_base, m.out_index);
}

void Sink::finish() {
  encode(nullptr);
  for (auto& m : map_)
    if (m.aac) {
      AacTranscoder* aac = m.aac.get();
      const int out_index = m.out_index;
      aac->flush([&](AVPacket* p) { mux(p, aac->time_base(), out_index); });
      result_.broken_packets += aac->broken_packets();
    }
  check(av_write_trailer(out_.get()), ErrorKind::Io, path_ + ": cannot finish the file");
  if (out_->pb) check(avio_closep(&out_->pb), ErrorKind::Io, path_ + ": cannot close");
}

}  // namespace yamiro::video
