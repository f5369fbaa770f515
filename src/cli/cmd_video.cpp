// yamiro video: one video upscaled in-process, written to a temporary file in the target
// folder and renamed into place at the end.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
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
  std::vector<std::string> encoder_opts;
  double outscale = 0;
  long long max_pixels = 8192LL * 8192LL;
  bool overwrite = false, json = false;
  VideoOptions video;
  EngineFlags engine;
};

// Containers kept from the input when no -o is given; anything else becomes .mkv, which
// takes every codec and stream kind yamiro writes.
std::string default_output(const std::string& input, double scale) {
  const std::string ext = lower_extension(input);
  const bool keep = ext == ".mp4" || ext == ".mkv" || ext == ".mov" || ext == ".m4v" || ext == ".webm";
  const fs::path p(input);
  return (p.parent_path() / (p.stem().string() + default_suffix(scale) + (keep ? ext : ".mkv"))).string();
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// Polls the pipeline's counters and redraws one line on stderr: frame/total, fps, ETA.
class ProgressDrawer {
 public:
  ProgressDrawer(const VideoProgress& p, bool enabled) : p_(p), enabled_(enabled) {
    if (enabled_) thread_ = std::thread([this] { loop(); });
  }
  ~ProgressDrawer() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

 private:
  void loop() {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [&] { return done_; })) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto done = p_.frames_done.load(), total = p_.frames_total.load();
      const double fps = secs > 0 ? done / secs : 0;
      std::string line = "frame " + std::to_string(done) + (total > 0 ? "/" + std::to_string(total) : "");
      char buf[64];
      std::snprintf(buf, sizeof buf, "  %.2f fps", fps);
      line += buf;
      if (total > 0 && fps > 0 && done < total) line += "  ETA " + clock_text((total - done) / fps);
      std::fprintf(stderr, "\r%s\033[K", line.c_str());
      std::fflush(stderr);
    }
  }

  const VideoProgress& p_;
  bool enabled_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

// Ctrl-C must end the run within a second, but one tile of a big model on a slow CPU can
// take longer than that and the engine only stops between tiles. The pipeline gets half a
// second to unwind cleanly; after that the temporary file is removed here and the process
// exits 130 without waiting for the forward pass to finish.
class InterruptDeadline {
 public:
  InterruptDeadline(const VideoProgress& p, const std::string& output) : p_(p), output_(output) {
    thread_ = std::thread([this] { loop(); });
  }
  ~InterruptDeadline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void set_temporary(const std::string& tmp) {
    std::lock_guard<std::mutex> lock(mutex_);
    tmp_ = tmp;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return done_ || p_.cancel.load(); })) {
    }
    if (done_) return;
    if (cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return done_; })) return;
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r\033[K");  // the progress line
    spdlog::error("interrupted after {} frames: nothing written under {}", p_.frames_done.load(), output_);
    std::fflush(stderr);
    std::_Exit(kExitInterrupted);
  }

  const VideoProgress& p_;
  std::string output_;
  std::string tmp_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

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
  for (const auto& kv : f.encoder_opts) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw Error(ErrorKind::Usage, "--encoder-opt takes key=value, not '" + kv + "'");
    o.encoder_opts.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (!video_available())
    throw Error(ErrorKind::Usage, "video is not built in (yamiro was configured with YAMIRO_WITH_FFMPEG=OFF)");
  std::error_code ec;
  if (const std::string why = not_a_regular_file(f.input); !why.empty())
    throw Error(ErrorKind::Input, f.input + ": cannot open: " + (why == "no such file" ? why : "not a regular file (" + why + ")"));

  const EngineOptions options = to_engine_options(f.engine);
  const Model model = load_model(f.engine.model, f.engine.trust_model);
  Engine engine(model, options);
  const std::string output = f.output.empty() ? default_output(f.input, f.outscale > 0 ? f.outscale : engine.scale()) : f.output;
  if (fs::path(output).lexically_normal() == fs::path(f.input).lexically_normal() || same_file(output, f.input))
    throw Error(ErrorKind::Usage, output + ": output would replace its input " + f.input);
  if (!f.overwrite && fs::exists(output, ec)) throw Error(ErrorKind::Io, output + ": exists (use --overwrite)");
  spdlog::info("{} on {} ({}, {} threads)", model.info.summary(), engine.setup().device, to_string(engine.setup().precision),
               engine.setup().threads);

  VideoProgress progress;
  watch_interrupts(progress.cancel);
  VideoResult r;
  nlohmann::json line = {{"input", f.input}, {"output", output}};
  try {
    ProgressDrawer drawer(progress, !g.no_progress && !g.quiet && isatty(STDERR_FILENO));
    InterruptDeadline deadline(progress, output);
    write_file_atomic(
        output,
        [&](const std::string& tmp) {
          deadline.set_temporary(tmp);
          r = upscale_video(f.input, tmp, engine, o, progress);
        },
        f.overwrite);
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
                 {"seconds", r.seconds},
                 {"infer_seconds", r.infer_seconds},
                 {"fps", fps},
                 {"audio", {{"copied", r.audio_copied}, {"transcoded", r.audio_transcoded}, {"dropped", r.audio_dropped}}},
                 {"subtitles", {{"copied", r.subtitles_copied}, {"dropped", r.subtitles_dropped}}}});
    std::cout << line.dump() << std::endl;
  }
  return kExitOk;
}

}  // namespace

Command register_video(CLI::App& app, const GlobalFlags& global) {
  auto f = std::make_shared<VideoFlags>();
  CLI::App* cmd = app.add_subcommand("video", "upscale one video (decoded, upscaled and encoded in-process; audio kept)");
  cmd->add_option("input", f->input, "video file")->required();
  cmd->add_option("-o,--output", f->output, "output file; its extension picks the container (default: IN_x4.mkv, or .mp4/.mov/.webm kept)");
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
  cmd->add_flag("--json", f->json, "a JSON summary line on stdout");
  add_engine_flags(*cmd, f->engine);
  return {cmd, [f, &global] { return run_video(*f, global); }};
}

}  // namespace yamiro::cli
