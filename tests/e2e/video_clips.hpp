// Test clips made and read with libav inside the test: no ffmpeg tool needed.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
}

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace e2e {

inline void av_ok(int r, const char* what) {
  if (r < 0) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(r, buf, sizeof buf);
    throw std::runtime_error(std::string(what) + ": " + buf);
  }
}

struct ClipSpec {
  int width = 64, height = 48;
  std::vector<std::int64_t> pts;  // one per frame, in time_base
  AVRational time_base{1, 1000};
  AVColorSpace space = AVCOL_SPC_BT709;
  AVColorRange range = AVCOL_RANGE_MPEG;
  const char* codec = "ffv1";  // lossless: the pixels written are the pixels read
  AVRational sar{0, 1};        // sample aspect ratio tag (0 = none)
  int rotation = 0;            // degrees, as a display matrix on the stream (0 = none)
  const char* title = nullptr; // stream metadata "title"
  bool subtitle = false;       // add a SubRip stream with one cue (Matroska)
  double audio_seconds = 0;    // add this much 8 kHz mono PCM audio (a tone), 40 ms a packet
};

// Writes a yuv420p clip; `fill(index, frame)` paints each frame's planes.
inline void make_clip(const std::string& path, const ClipSpec& spec, const std::function<void(int, AVFrame*)>& fill) {
  AVFormatContext* oc = nullptr;
  av_ok(avformat_alloc_output_context2(&oc, nullptr, nullptr, path.c_str()), "output");
  const AVCodec* codec = avcodec_find_encoder_by_name(spec.codec);
  if (!codec) throw std::runtime_error("no encoder");
  AVCodecContext* enc = avcodec_alloc_context3(codec);
  enc->width = spec.width;
  enc->height = spec.height;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = spec.time_base;
  enc->colorspace = spec.space;
  enc->color_range = spec.range;
  enc->color_primaries = spec.space == AVCOL_SPC_BT709 ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
  enc->color_trc = spec.space == AVCOL_SPC_BT709 ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_ok(avcodec_open2(enc, codec, nullptr), "open encoder");
  AVStream* st = avformat_new_stream(oc, nullptr);
  av_ok(avcodec_parameters_from_context(st->codecpar, enc), "params");
  st->time_base = enc->time_base;
  if (spec.sar.num > 0) st->sample_aspect_ratio = st->codecpar->sample_aspect_ratio = spec.sar;
  if (spec.rotation) {
    auto* m = reinterpret_cast<std::int32_t*>(av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(std::int32_t)));
    av_display_rotation_set(m, spec.rotation);
  }
  if (spec.title) av_dict_set(&st->metadata, "title", spec.title, 0);
  AVStream* sub = nullptr;
  if (spec.subtitle) {
    sub = avformat_new_stream(oc, nullptr);
    sub->codecpar->codec_type = AVMEDIA_TYPE_SUBTITLE;
    sub->codecpar->codec_id = AV_CODEC_ID_SUBRIP;
    sub->time_base = {1, 1000};
  }
  AVStream* audio = nullptr;
  if (spec.audio_seconds > 0) {
    audio = avformat_new_stream(oc, nullptr);
    audio->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
    audio->codecpar->codec_id = AV_CODEC_ID_PCM_S16LE;
    audio->codecpar->sample_rate = 8000;
    audio->codecpar->ch_layout = AV_CHANNEL_LAYOUT_MONO;
    audio->codecpar->format = AV_SAMPLE_FMT_S16;
    audio->codecpar->bits_per_coded_sample = 16;
    audio->codecpar->block_align = 2;
    audio->time_base = {1, 8000};
  }
  av_ok(avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE), "avio_open");
  av_ok(avformat_write_header(oc, nullptr), "header");
  AVFrame* frame = av_frame_alloc();
  frame->format = enc->pix_fmt;
  frame->width = spec.width;
  frame->height = spec.height;
  av_ok(av_frame_get_buffer(frame, 0), "frame");
  AVPacket* pkt = av_packet_alloc();
  if (sub) {
    const char text[] = "hello from the test";
    av_ok(av_new_packet(pkt, sizeof text - 1), "subtitle packet");
    std::memcpy(pkt->data, text, sizeof text - 1);
    pkt->pts = pkt->dts = 0;
    pkt->duration = 500;
    pkt->stream_index = sub->index;
    av_packet_rescale_ts(pkt, AVRational{1, 1000}, sub->time_base);
    av_ok(av_interleaved_write_frame(oc, pkt), "write subtitle");
  }
  std::int64_t audio_next = 0;  // samples written
  // Audio up to `t` seconds, so that the streams stay interleaved.
  auto write_audio = [&](double t) {
    const std::int64_t total = static_cast<std::int64_t>(spec.audio_seconds * 8000);
    while (audio && audio_next < total && audio_next < t * 8000) {
      const int n = static_cast<int>(std::min<std::int64_t>(320, total - audio_next));
      AVPacket* a = av_packet_alloc();
      av_ok(av_new_packet(a, n * 2), "audio packet");
      for (int i = 0; i < n; ++i) {
        const auto v = static_cast<std::int16_t>(8000 * std::sin((audio_next + i) * 0.3));
        std::memcpy(a->data + 2 * i, &v, 2);
      }
      a->pts = a->dts = audio_next;
      a->duration = n;
      a->stream_index = audio->index;
      av_packet_rescale_ts(a, AVRational{1, 8000}, audio->time_base);
      av_ok(av_interleaved_write_frame(oc, a), "write audio");
      av_packet_free(&a);
      audio_next += n;
    }
  };
  auto drain = [&] {
    while (avcodec_receive_packet(enc, pkt) == 0) {
      // Without a duration the MP4 muxer's edit list would end before the last frame.
      if (pkt->duration <= 0) pkt->duration = 1;
      av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
      pkt->stream_index = 0;
      av_ok(av_interleaved_write_frame(oc, pkt), "write");
    }
  };
  for (std::size_t i = 0; i < spec.pts.size(); ++i) {
    av_ok(av_frame_make_writable(frame), "writable");
    fill(static_cast<int>(i), frame);
    frame->pts = spec.pts[i];
    write_audio(spec.pts[i] * av_q2d(spec.time_base));
    av_ok(avcodec_send_frame(enc, frame), "send");
    drain();
  }
  avcodec_send_frame(enc, nullptr);
  drain();
  write_audio(1e9);
  av_ok(av_write_trailer(oc), "trailer");
  avio_closep(&oc->pb);
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&enc);
  avformat_free_context(oc);
}

struct VideoFacts {
  int width = 0, height = 0;
  std::vector<double> times;  // seconds, one per decoded frame, in output order
  double frame_duration = 0;  // 1 / average frame rate
  AVColorSpace space = AVCOL_SPC_UNSPECIFIED;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
  int missing_timestamps = 0;
  AVRational sar{0, 1};
  double rotation = 0;  // from the stream's display matrix
  std::string title;    // video stream metadata
  int audio_streams = 0;
  int subtitle_streams = 0;
  std::string audio_codec;
  double audio_duration = 0;  // first audio stream: end of its last packet - start of its first
  std::int64_t frames() const { return static_cast<std::int64_t>(times.size()); }
  double duration() const { return times.empty() ? 0 : times.back() - times.front() + frame_duration; }
};

// Decodes every video frame (draining the decoder); `on_frame` sees each one.
inline VideoFacts read_video(const std::string& path, const std::function<void(const AVFrame*)>& on_frame = {}) {
  VideoFacts f;
  AVFormatContext* ic = nullptr;
  av_ok(avformat_open_input(&ic, path.c_str(), nullptr, nullptr), "open input");
  av_ok(avformat_find_stream_info(ic, nullptr), "stream info");
  const int vi = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  av_ok(vi, "video stream");
  int ai = -1;
  for (unsigned i = 0; i < ic->nb_streams; ++i)
    f.subtitle_streams += ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE;
  for (unsigned i = 0; i < ic->nb_streams; ++i)
    if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
      ++f.audio_streams;
      if (ai < 0) ai = static_cast<int>(i);
    }
  if (ai >= 0) f.audio_codec = avcodec_get_name(ic->streams[ai]->codecpar->codec_id);
  AVStream* st = ic->streams[vi];
  const AVRational rate = av_guess_frame_rate(ic, st, nullptr);
  f.frame_duration = rate.num > 0 ? av_q2d(av_inv_q(rate)) : 0;
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  AVCodecContext* dec = avcodec_alloc_context3(codec);
  av_ok(avcodec_parameters_to_context(dec, st->codecpar), "dec params");
  dec->pkt_timebase = st->time_base;
  av_ok(avcodec_open2(dec, codec, nullptr), "open decoder");
  f.width = dec->width;
  f.height = dec->height;
  f.space = st->codecpar->color_space;
  f.sar = av_guess_sample_aspect_ratio(ic, st, nullptr);
  if (const std::uint8_t* m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr))
    f.rotation = av_display_rotation_get(reinterpret_cast<const std::int32_t*>(m));
  if (const AVDictionaryEntry* t = av_dict_get(st->metadata, "title", nullptr, 0)) f.title = t->value;
  f.range = st->codecpar->color_range;
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  double a_first = -1, a_end = 0;
  auto receive = [&] {
    while (avcodec_receive_frame(dec, frame) == 0) {
      // A frame without a timestamp (the last one of a packed-B-frame AVI) follows its predecessor.
      const std::int64_t ts = frame->best_effort_timestamp;
      if (ts == AV_NOPTS_VALUE) ++f.missing_timestamps;
      f.times.push_back(ts != AV_NOPTS_VALUE ? ts * av_q2d(st->time_base) : f.times.empty() ? 0 : f.times.back() + f.frame_duration);
      if (on_frame) on_frame(frame);
      av_frame_unref(frame);
    }
  };
  while (av_read_frame(ic, pkt) >= 0) {
    if (pkt->stream_index == vi) {
      avcodec_send_packet(dec, pkt);
      receive();
    } else if (pkt->stream_index == ai) {
      const double tb = av_q2d(ic->streams[ai]->time_base);
      const std::int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (a_first < 0) a_first = ts * tb;
      a_end = std::max(a_end, (ts + pkt->duration) * tb);
    }
    av_packet_unref(pkt);
  }
  avcodec_send_packet(dec, nullptr);
  receive();
  if (a_first >= 0) f.audio_duration = a_end - a_first;
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&dec);
  avformat_close_input(&ic);
  return f;
}

// Mean of a plane over a rectangle.
inline double plane_mean(const AVFrame* f, int plane, int x0, int y0, int w, int h) {
  double s = 0;
  for (int y = y0; y < y0 + h; ++y)
    for (int x = x0; x < x0 + w; ++x) s += f->data[plane][y * f->linesize[plane] + x];
  return s / (w * h);
}

// Limited-range Y'CbCr -> R'G'B' (0..255) with the matrix's Kr/Kb: written here from the
// standard's definitions, independent of swscale.
inline void yuv_to_rgb(double y, double u, double v, AVColorSpace space, double rgb[3]) {
  const double kr = space == AVCOL_SPC_BT709 ? 0.2126 : 0.299, kb = space == AVCOL_SPC_BT709 ? 0.0722 : 0.114;
  const double kg = 1 - kr - kb;
  const double Y = (y - 16) / 219.0, Pb = (u - 128) / 224.0, Pr = (v - 128) / 224.0;
  const double r = Y + 2 * (1 - kr) * Pr, b = Y + 2 * (1 - kb) * Pb, g = (Y - kr * r - kb * b) / kg;
  const double c[3] = {r, g, b};
  for (int i = 0; i < 3; ++i) rgb[i] = std::min(255.0, std::max(0.0, c[i] * 255.0));
}

}  // namespace e2e
