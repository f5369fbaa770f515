// yamiro video: one video upscaled in-process, written to a temporary file in the target
// folder and renamed into place at the end.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
#include "cli/video_watch.hpp"
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"
#include "yamiro/naming.hpp"
#include "yamiro/paths.hpp"
#include "yamiro/video.hpp"

namespace fs = std::filesystem;

namespace yamiro::cli {
namespace {

struct VideoFlags {
  std::string input, output, audio = "copy";
  std::vector<std::string> encoder_opts, input_opts, muxer_opts, join;
  std::string segment;
  double outscale = 0;
  long long max_pixels = 8192LL * 8192LL;
  bool overwrite = false, skip_existing = false, json = false;
  bool live = false, no_live = false;
  VideoOptions video;
  EngineFlags engine;
};

// A libavformat URL (tcp://, rtsp://, pipe:0...) rather than a path.
bool is_url(const std::string& s) {
  const auto colon = s.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i)
    if (!std::isalnum(static_cast<unsigned char>(s[i])) && s[i] != '+' && s[i] != '-' && s[i] != '.') return false;
  return s.compare(colon, 3, "://") == 0 || s.compare(0, colon, "pipe") == 0;
}

// Streaming protocols carry live streams; http(s), ftp and the like may as well serve a
// whole file faster than real time, which live mode would mostly drop.
bool live_protocol(const std::string& url) {
  std::string scheme = url.substr(0, url.find(':'));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* p : {"rtsp", "rtsps", "rtmp", "rtmps", "rtmpt", "rtmpts", "rtmpe", "srt", "udp", "udplite", "rtp", "tcp", "rist", "sctp"})
    if (scheme == p) return true;
  return false;
}

// "-" is stdin/stdout, as for ffmpeg.
std::string stream_name(const std::string& s, const char* pipe) { return s == "-" ? pipe : s; }

std::vector<std::pair<std::string, std::string>> key_values(const std::vector<std::string>& items, const char* flag) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : items) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw Error(ErrorKind::Usage, std::string(flag) + " takes key=value, not '" + kv + "'");
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

// Written in place (no temporary file, no rename): stdout, URLs, FIFOs and devices.
bool direct_output(const std::string& output) {
  if (is_url(output)) return true;
  std::error_code ec;
  const auto st = fs::status(output, ec);
  return !ec && fs::exists(st) && !fs::is_regular_file(st) && !fs::is_directory(st);
}

// Containers kept from the input when no -o is given; anything else becomes .mkv, which
// takes every codec and stream kind yamiro writes.
std::string default_output(const std::string& input, double scale) {
  const std::string ext = lower_extension(input);
  const bool keep = ext == ".mp4" || ext == ".mkv" || ext == ".mov" || ext == ".m4v" || ext == ".webm";
  const fs::path p(input);
  return (p.parent_path() / (p.stem().string() + default_suffix(scale) + (keep ? ext : ".mkv"))).string();
}

// --join: the pieces remuxed, with the source's other streams, into one file.
int run_join(const VideoFlags& f, const std::string& input) {
  if (f.output.empty()) throw Error(ErrorKind::Usage, "--join needs -o OUT");
  const std::string output = stream_name(f.output, "pipe:1");
  const bool direct = direct_output(output);
  std::error_code ec;
  if (!direct && !f.overwrite && fs::exists(output, ec)) throw Error(ErrorKind::Io, output + ": exists (use --overwrite)");
  for (const auto& p : f.join)
    if (!direct && (fs::path(p).lexically_normal() == fs::path(output).lexically_normal() || same_file(p, output)))
      throw Error(ErrorKind::Usage, output + ": output would replace the piece " + p);
  nlohmann::json line = {{"input", f.input}, {"output", f.output}, {"pieces", f.join.size()}};
  VideoResult r;
  try {
    if (direct) r = join_video(input, f.join, output, f.video);
    else write_file_atomic(output, [&](const std::string& tmp) { r = join_video(input, f.join, tmp, f.video); }, f.overwrite);
  } catch (const Error& e) {
    if (f.json) {
      line.update({{"status", "failed"}, {"error", e.what()}});
      std::cout << line.dump() << std::endl;
    }
    throw;
  }
  spdlog::info("{} pieces -> {}: {} frames {}x{} ({}), {:.1f} s of video in {:.1f} s; audio: {} copied, {} transcoded, {} dropped",
               f.join.size(), output, r.frames, r.out_width, r.out_height, r.codec, r.duration_s, r.seconds, r.audio_copied,
               r.audio_transcoded, r.audio_dropped);
  if (f.json) {
    line.update({{"status", "done"},
                 {"frames", r.frames},
                 {"width", r.out_width},
                 {"height", r.out_height},
                 {"codec", r.codec},
                 {"pix_fmt", r.pix_fmt},
                 {"duration", r.duration_s},
                 {"first_timestamp", r.first_time_s},
                 {"last_timestamp", r.last_time_s},
                 {"seconds", r.seconds},
                 {"audio", {{"copied", r.audio_copied}, {"transcoded", r.audio_transcoded}, {"dropped", r.audio_dropped}}},
                 {"subtitles", {{"copied", r.subtitles_copied}, {"dropped", r.subtitles_dropped}}}});
    std::cout << line.dump() << std::endl;
  }
  return kExitOk;
}

int run_video(VideoFlags& f, const GlobalFlags& g) {
  VideoOptions& o = f.video;
  if (f.audio == "copy") o.audio = AudioMode::Copy;
  else if (f.audio == "aac") o.audio = AudioMode::Aac;
  else if (f.audio == "none") o.audio = AudioMode::None;
  else throw Error(ErrorKind::Usage, "--audio must be copy, aac or none");
  if (f.outscale < 0 || f.outscale > 64) throw Error(ErrorKind::Usage, "--outscale must be a positive factor up to 64");
  if (o.crf < -1 || o.crf > 63) throw Error(ErrorKind::Usage, "--crf must be between 0 and 63");
  if (o.max_frames < 0) throw Error(ErrorKind::Usage, "--frames must be positive");
  if (f.max_pixels < 1) throw Error(ErrorKind::Usage, "--max-pixels must be positive");
  o.outscale = f.outscale;
  o.max_pixels = f.max_pixels;
  o.encoder_opts = key_values(f.encoder_opts, "--encoder-opt");
  o.input_opts = key_values(f.input_opts, "--input-opt");
  o.muxer_opts = key_values(f.muxer_opts, "--muxer-opt");
  if (o.probe_size < 32) throw Error(ErrorKind::Usage, "--probe-size must be at least 32 bytes");
  if (!(o.io_timeout_s > 0)) throw Error(ErrorKind::Usage, "--timeout must be a positive number of seconds");
  if (f.overwrite && f.skip_existing) throw Error(ErrorKind::Usage, "--overwrite and --skip-existing exclude each other");
  if (!video_available())
    throw Error(ErrorKind::Usage, "video is not built in (yamiro was configured with YAMIRO_WITH_FFMPEG=OFF)");
  const std::string input = stream_name(f.input, "pipe:0");
  const bool stream_in = is_url(input);
  o.silence_ends_stream = stream_in;
  if (!stream_in) {
    std::error_code ec;
    const auto st = fs::status(input, ec);
    if (ec || !fs::exists(st)) throw Error(ErrorKind::Input, input + ": cannot open: no such file");
    if (!fs::is_regular_file(st) && st.type() != fs::file_type::fifo)
      throw Error(ErrorKind::Input, input + ": cannot open: not a regular file (" + not_a_regular_file(input) + "); video also reads FIFOs and URLs");
  }
  const bool seekable = !stream_in && fs::is_regular_file(input);
  if ((!f.segment.empty() || !f.join.empty()) && !seekable)
    throw Error(ErrorKind::Usage, input + ": --segment and --join need a seekable file (the plan reads it to the end first), not a stream");
  if (!f.segment.empty()) {
    char tail = 0;
    if (std::sscanf(f.segment.c_str(), "%d/%d%c", &o.segment_index, &o.segment_count, &tail) != 2 || o.segment_count < 1 ||
        o.segment_index < 0 || o.segment_index >= o.segment_count)
      throw Error(ErrorKind::Usage, "--segment must be I/N with 0 <= I < N, e.g. 0/4");
    if (o.max_frames > 0) throw Error(ErrorKind::Usage, "--segment and --frames exclude each other");
    if (!f.join.empty()) throw Error(ErrorKind::Usage, "--segment and --join exclude each other");
    if (f.output.empty() || lower_extension(f.output) != ".mkv" || direct_output(f.output))
      throw Error(ErrorKind::Usage, "--segment writes a Matroska file: give -o PIECE.mkv (it keeps the timestamps and the piece's tags)");
  }
  if (f.live && f.no_live) throw Error(ErrorKind::Usage, "--live and --no-live exclude each other");
  if (!(o.max_latency_s > 0)) throw Error(ErrorKind::Usage, "--max-latency must be a positive number of seconds");
  // Live mode: asked for, or implied by a streaming protocol.
  o.live = f.live || (stream_in && live_protocol(input) && !f.no_live);
  if (o.live && (!f.segment.empty() || !f.join.empty()))
    throw Error(ErrorKind::Usage, "--live does not combine with --segment or --join (pieces need every frame)");
  o.native_rate = o.live && seekable;  // a file in live mode is read as if it were a camera
  if (!f.join.empty()) return run_join(f, input);
  if (f.output.empty() && stream_in) throw Error(ErrorKind::Usage, input + ": a stream has no file name to derive one from: give -o");
  if (f.json && f.output == "-") throw Error(ErrorKind::Usage, "--json and -o - exclude each other: stdout carries the video");
  if (f.output == "-" && isatty(STDOUT_FILENO)) throw Error(ErrorKind::Usage, "-o -: stdout is a terminal; pipe it into a program or a file");

  const EngineOptions options = to_engine_options(f.engine);
  // Ctrl-C from here on, model load included, ends the run with exit 130, nothing written.
  VideoProgress progress;
  watch_interrupts(progress.cancel);
  const Model model = load_model_interruptible(f.engine.model, f.engine.trust_model, progress.cancel);
  Engine engine(model, options);
  if (progress.cancel.load()) throw Error(ErrorKind::Interrupted, "interrupted while setting up the engine");
  const std::string output = f.output.empty() ? default_output(input, f.outscale > 0 ? f.outscale : engine.scale())
                                              : stream_name(f.output, "pipe:1");
  const bool direct = direct_output(output);
  if (!direct && !stream_in &&
      (fs::path(output).lexically_normal() == fs::path(input).lexically_normal() || same_file(output, input)))
    throw Error(ErrorKind::Usage, output + ": output would replace its input " + input);
  nlohmann::json line = {{"input", f.input}, {"output", f.output == "-" ? "-" : output}};
  if (o.segment_index >= 0) line["segment"] = std::to_string(o.segment_index) + "/" + std::to_string(o.segment_count);
  std::error_code ec;
  if (!direct && fs::exists(output, ec)) {
    if (f.skip_existing && (o.segment_index < 0 || segment_complete(input, output, o))) {
      spdlog::info("{}: exists, skipped", output);
      if (f.json) {
        line["status"] = "skipped";
        if (o.segment_index >= 0) {
          const SegmentInfo s = plan_segment(input, o);
          line.update({{"frames", s.frames}, {"first_timestamp", s.first_time_s}, {"last_timestamp", s.last_time_s}});
        }
        std::cout << line.dump() << std::endl;
      }
      return kExitOk;
    }
    if (!f.overwrite && !f.skip_existing) throw Error(ErrorKind::Io, output + ": exists (use --overwrite)");
  }
  spdlog::info("{} on {} ({}, {} threads)", model.info.summary(), engine.setup().device, to_string(engine.setup().precision),
               engine.setup().threads);

  if (o.live) spdlog::info("{}: live, latency held under {:.3g} s (--max-latency); frames the network cannot keep up with are dropped", input, o.max_latency_s);

  // Live, once the model is loaded: the first Ctrl-C finishes the output (trailer written,
  // file kept), a second aborts. During the load every signal aborts (nothing to keep).
  if (o.live) watch_interrupts(progress.cancel, &progress.finish);
  VideoResult r;
  try {
    ProgressWatch watch(progress, !g.no_progress && !g.quiet && isatty(STDERR_FILENO), f.json, o.live, line);
    InterruptDeadline deadline(progress, output);
    if (direct) {
      r = upscale_video(input, output, engine, o, progress);
    } else {
      write_file_atomic(
          output,
          [&](const std::string& tmp) {
            deadline.set_temporary(tmp);
            r = upscale_video(input, tmp, engine, o, progress);
          },
          f.overwrite || f.skip_existing);
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Interrupted) {
      spdlog::error("interrupted after {} frames: nothing written under {}", progress.frames_done.load(), output);
      return kExitInterrupted;
    }
    if (f.json) {
      line.update({{"status", "failed"}, {"error", e.what()}});
      std::cout << line.dump() << std::endl;
    }
    throw;
  }
  const double fps = r.seconds > 0 ? r.frames / r.seconds : 0;
  if (o.live)
    spdlog::info("{}: live, {} ({} frames written, {} dropped, {} late; latency {:.2f} s mean, {:.2f} s at most)", f.input,
                 r.interrupted ? "stopped by a signal, output finished" : "end of the stream", r.frames, r.dropped_frames,
                 r.late_frames, r.latency_mean_s, r.latency_max_s);
  spdlog::info("{} -> {}: {} frames {}x{} ({} {}), {:.1f} s of video in {:.1f} s ({:.2f} fps; network {:.1f} s)", f.input, output,
               r.frames, r.out_width, r.out_height, r.codec, r.pix_fmt, r.duration_s, r.seconds, fps, r.infer_seconds);
  if (r.audio_copied + r.audio_transcoded + r.audio_dropped + r.subtitles_copied + r.subtitles_dropped > 0)
    spdlog::info("audio: {} copied, {} transcoded to AAC, {} dropped; subtitles: {} copied, {} dropped", r.audio_copied,
                 r.audio_transcoded, r.audio_dropped, r.subtitles_copied, r.subtitles_dropped);
  if (r.damaged_frames > 0 || r.broken_packets > 0)
    spdlog::warn("{}: {} damaged frames, {} broken packets (use --strict to fail on damage)", f.input, r.damaged_frames,
                 r.broken_packets);
  if (f.json) {
    line.update({{"status", "done"},
                 {"frames", r.frames},
                 {"damaged_frames", r.damaged_frames},
                 {"broken_packets", r.broken_packets},
                 {"width", r.out_width},
                 {"height", r.out_height},
                 {"codec", r.codec},
                 {"pix_fmt", r.pix_fmt},
                 {"colorspace", r.in_colorspace},
                 {"duration", r.duration_s},
                 {"first_timestamp", r.first_time_s},
                 {"last_timestamp", r.last_time_s},
                 {"seconds", r.seconds},
                 {"infer_seconds", r.infer_seconds},
                 {"fps", fps},
                 {"audio", {{"copied", r.audio_copied}, {"transcoded", r.audio_transcoded}, {"dropped", r.audio_dropped}}},
                 {"subtitles", {{"copied", r.subtitles_copied}, {"dropped", r.subtitles_dropped}}}});
    if (o.live)
      line.update({{"live", true},
                   {"max_latency", o.max_latency_s},
                   {"dropped_frames", r.dropped_frames},
                   {"late_frames", r.late_frames},
                   {"latency_max", r.latency_max_s},
                   {"latency_mean", r.latency_mean_s},
                   {"ended", r.interrupted ? "interrupted" : "end of stream"}});
    std::cout << line.dump() << std::endl;
  }
  return kExitOk;
}

}  // namespace

Command register_video(CLI::App& app, const GlobalFlags& global) {
  auto f = std::make_shared<VideoFlags>();
  CLI::App* cmd = app.add_subcommand("video", "upscale one video (decoded, upscaled and encoded in-process; audio kept)");
  cmd->add_option("input", f->input, "video file, FIFO, - (stdin) or URL (tcp://, udp://, http://, rtsp://, rtmp://, srt://, .m3u8...)")->required();
  cmd->add_option("-o,--output", f->output, "output file (its extension picks the container; default: IN_x4.mkv, or .mp4/.mov/.webm kept), - (stdout) or URL");
  cmd->add_option("--input-format", f->video.input_format, "demuxer name (ffmpeg's input -f), e.g. mpegts, matroska, rtsp");
  cmd->add_option("--input-opt", f->input_opts, "demuxer or protocol option key=value (repeatable), e.g. rtsp_transport=tcp, listen=1")->allow_extra_args(false);
  cmd->add_option("--probe-size", f->video.probe_size, "bytes read to find the streams")->capture_default_str();
  cmd->add_option("--timeout", f->video.io_timeout_s, "seconds without data (or without a connection) before a read fails")->capture_default_str();
  cmd->add_option("-f,--format", f->video.output_format, "muxer name (ffmpeg's -f), needed where no extension says it: matroska, mpegts, mp4, flv, nut...");
  cmd->add_option("--muxer-opt", f->muxer_opts, "muxer or protocol option key=value (repeatable), e.g. movflags=+frag_keyframe")->allow_extra_args(false);
  cmd->add_option("--segment", f->segment, "I/N: only the I-th of N pieces cut at keyframes (0-based), video only, into -o PIECE.mkv");
  cmd->add_option("--join", f->join, "PIECE...: remux the pieces of IN (in order) with IN's audio, subtitles and chapters into -o OUT")->expected(1, -1);
  cmd->add_flag("--skip-existing", f->skip_existing, "keep an existing output (a piece only when it is complete)");
  cmd->add_option("--outscale", f->outscale, "final scale factor (model at its own scale, then a Lanczos resize)");
  cmd->add_option("--codec", f->video.codec, "video encoder: libx264, libx265, libvpx-vp9, libaom-av1, ffv1")->capture_default_str();
  cmd->add_option("--crf", f->video.crf, "constant quality (encoder's scale; default: the encoder's)");
  cmd->add_option("--preset", f->video.preset, "encoder preset (e.g. ultrafast..veryslow for x264/x265)");
  cmd->add_option("--pix-fmt", f->video.pix_fmt, "encoder pixel format (default: the encoder's closest to the input's)");
  cmd->add_option("--encoder-opt", f->encoder_opts, "encoder option key=value (repeatable)")->allow_extra_args(false);
  cmd->add_option("--audio", f->audio, "copy (AAC where the container refuses the codec) | aac | none")->capture_default_str();
  cmd->add_option("--frames", f->video.max_frames, "only the first N frames (previews)")
      ->check(CLI::Range(1, 1000000000));
  cmd->add_option("--max-pixels", f->max_pixels, "largest input frame (width*height), checked before decoding")->capture_default_str();
  cmd->add_flag("--strict", f->video.strict, "a damaged packet or frame is an error");
  cmd->add_flag("--overwrite", f->overwrite, "replace an existing output");
  cmd->add_flag("--json", f->json, "JSON lines on stdout: progress every second, then the summary");
  cmd->add_flag("--live", f->live, "bounded latency: drop frames oldest-first when the network is slower than the stream, pace the output, finish the file on Ctrl-C (implied for rtsp, rtmp, srt, udp, rtp, tcp inputs)");
  cmd->add_flag("--no-live", f->no_live, "a streaming input read like a file: every frame, no latency bound");
  cmd->add_option("--max-latency", f->video.max_latency_s, "live: seconds a frame may take from decoding to the encoder")->capture_default_str();
  add_engine_flags(*cmd, f->engine);
  return {cmd, [f, &global] { return run_video(*f, global); }};
}

}  // namespace yamiro::cli
