#include "video/audio.hpp"

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

namespace yamiro::video {

AacTranscoder::AacTranscoder(const std::string& path, const AVStream* in, AVStream* out, bool global_header)
    : path_(path), decoded_(make_frame()), chunk_(make_frame()), out_(make_packet()) {
  const AVCodec* dcodec = avcodec_find_decoder(in->codecpar->codec_id);
  if (!dcodec) throw Error(ErrorKind::Input, path + ": no decoder for its " + avcodec_get_name(in->codecpar->codec_id) + " audio");
  dec_.reset(avcodec_alloc_context3(dcodec));
  if (!dec_) throw std::bad_alloc();
  check(avcodec_parameters_to_context(dec_.get(), in->codecpar), ErrorKind::Input, path + ": audio decoder setup");
  dec_->pkt_timebase = in->time_base;
  check(avcodec_open2(dec_.get(), dcodec, nullptr), ErrorKind::Input, path + ": cannot open the audio decoder");

  const AVCodec* ecodec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!ecodec) throw Error(ErrorKind::Usage, "this FFmpeg has no AAC encoder (use --audio copy or none)");
  enc_.reset(avcodec_alloc_context3(ecodec));
  if (!enc_) throw std::bad_alloc();
  enc_->sample_fmt = ecodec->sample_fmts ? ecodec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
  enc_->sample_rate = dec_->sample_rate > 0 ? dec_->sample_rate : 48000;
  if (dec_->ch_layout.nb_channels > 0 && dec_->ch_layout.order == AV_CHANNEL_ORDER_NATIVE && dec_->ch_layout.nb_channels <= 6)
    check(av_channel_layout_copy(&enc_->ch_layout, &dec_->ch_layout), ErrorKind::Input, path + ": channel layout");
  else
    av_channel_layout_default(&enc_->ch_layout, std::min(dec_->ch_layout.nb_channels > 0 ? dec_->ch_layout.nb_channels : 2, 2));
  enc_->bit_rate = 64000LL * std::max(2, enc_->ch_layout.nb_channels);
  enc_->time_base = AVRational{1, enc_->sample_rate};
  if (global_header) enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  check(avcodec_open2(enc_.get(), ecodec, nullptr), ErrorKind::Io, path + ": cannot open the AAC encoder");
  check(avcodec_parameters_from_context(out->codecpar, enc_.get()), ErrorKind::Io, "AAC stream parameters");
  out->time_base = enc_->time_base;

  SwrContext* swr = nullptr;
  check(swr_alloc_set_opts2(&swr, &enc_->ch_layout, enc_->sample_fmt, enc_->sample_rate, &dec_->ch_layout, dec_->sample_fmt,
                            dec_->sample_rate, 0, nullptr),
        ErrorKind::Input, path + ": audio resampler");
  swr_.reset(swr);
  check(swr_init(swr_.get()), ErrorKind::Input, path + ": audio resampler");
  fifo_.reset(av_audio_fifo_alloc(enc_->sample_fmt, enc_->ch_layout.nb_channels, 4096));
  if (!fifo_) throw std::bad_alloc();
}

void AacTranscoder::feed(const AVPacket* packet, const Write& write) {
  int r = avcodec_send_packet(dec_.get(), packet);
  if (r < 0 && r != AVERROR_EOF) {
    ++broken_;
    spdlog::warn("{}: broken audio packet skipped: {}", path_, av_error_text(r));
    return;
  }
  for (;;) {
    r = avcodec_receive_frame(dec_.get(), decoded_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) break;
    if (r < 0) {
      ++broken_;
      spdlog::warn("{}: audio decoding error: {}", path_, av_error_text(r));
      break;
    }
    if (next_pts_ == AV_NOPTS_VALUE) {
      const std::int64_t ts = decoded_->best_effort_timestamp;
      next_pts_ = ts == AV_NOPTS_VALUE ? 0 : av_rescale_q(ts, dec_->pkt_timebase, enc_->time_base);
    }
    // Resample into the FIFO; the encoder takes fixed-size frames from it.
    const int max_out = swr_get_out_samples(swr_.get(), decoded_->nb_samples);
    check(av_audio_fifo_realloc(fifo_.get(), av_audio_fifo_size(fifo_.get()) + max_out), ErrorKind::Io, "audio buffer");
    std::vector<std::uint8_t*> planes(static_cast<std::size_t>(enc_->ch_layout.nb_channels));
    check(av_samples_alloc(planes.data(), nullptr, enc_->ch_layout.nb_channels, max_out, enc_->sample_fmt, 0), ErrorKind::Io,
          "audio buffer");
    const int got = swr_convert(swr_.get(), planes.data(), max_out, const_cast<const std::uint8_t**>(decoded_->extended_data),
                                decoded_->nb_samples);
    if (got > 0) av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(planes.data()), got);
    av_freep(&planes[0]);
    av_frame_unref(decoded_.get());
    encode_from_fifo(false, write);
  }
}

void AacTranscoder::flush(const Write& write) {
  feed(nullptr, write);
  encode_from_fifo(true, write);
  send(nullptr, write);
}

void AacTranscoder::encode_from_fifo(bool final, const Write& write) {
  const int frame_size = enc_->frame_size > 0 ? enc_->frame_size : 1024;
  while (av_audio_fifo_size(fifo_.get()) >= frame_size || (final && av_audio_fifo_size(fifo_.get()) > 0)) {
    const int n = std::min(frame_size, av_audio_fifo_size(fifo_.get()));
    av_frame_unref(chunk_.get());
    chunk_->nb_samples = n;
    chunk_->format = enc_->sample_fmt;
    chunk_->sample_rate = enc_->sample_rate;
    check(av_channel_layout_copy(&chunk_->ch_layout, &enc_->ch_layout), ErrorKind::Io, "audio frame");
    check(av_frame_get_buffer(chunk_.get(), 0), ErrorKind::Io, "audio frame");
    av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(chunk_->data), n);
    chunk_->pts = next_pts_;
    next_pts_ += n;
    send(chunk_.get(), write);
  }
}

void AacTranscoder::send(AVFrame* frame, const Write& write) {
  check(avcodec_send_frame(enc_.get(), frame), ErrorKind::Io, "AAC encoder");
  for (;;) {
    const int r = avcodec_receive_packet(enc_.get(), out_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
    check(r, ErrorKind::Io, "AAC encoder");
    write(out_.get());
    av_packet_unref(out_.get());
  }
}

}  // namespace yamiro::video
