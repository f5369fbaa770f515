// yamiro upscale: images in, upscaled images out, each written atomically.
// Three stages on three threads: decode (reader) -> network (this thread) -> encode
// (writer), joined by small bounded queues so the device stays busy on a folder.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "cli/queue.hpp"
#include "cli/upscale_image.hpp"
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"
#include "yamiro/naming.hpp"
#include "yamiro/system.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace yamiro::cli {
namespace {

struct UpscaleFlags {
  std::vector<std::string> inputs;
  std::string output;
  std::string suffix;
  std::string format;
  std::string shard;
  ImageOptions image;  // --alpha, --outscale
  int quality = 95;
  long long max_pixels = 16384LL * 16384LL;
  bool recursive = false;
  bool overwrite = false;
  bool skip_existing = false;
  bool json = false;
  bool sequential = false;
  EngineFlags engine;
};

enum class Status { Pending, Done, Skipped, Failed };

// One input travelling through the pipeline.
struct Job {
  std::size_t index = 0;
  InputItem item;
  std::string output;
  Image image;
  PlanarImage planar;  // raw .f32 output
  Status status = Status::Pending;
  std::string error;
  ErrorKind error_kind = ErrorKind::Input;
  Clock::time_point start;
  double seconds = 0;        // from the start of decoding to the end of writing
  double infer_seconds = 0;  // the network alone
};

bool is_raw_float(const std::string& p) { return fs::path(p).extension() == ".f32"; }

void fail(Job& job, const Error& e) {
  job.status = Status::Failed;
  job.error = e.what();
  job.error_kind = e.kind();
  job.image = Image();
}

class Upscaler {
 public:
  Upscaler(const UpscaleFlags& f, const GlobalFlags& g, Engine& engine, Progress& progress)
      : f_(f), engine_(engine), progress_(progress), line_(!g.no_progress && !g.quiet && isatty(STDERR_FILENO)) {}

  int run(const std::vector<InputItem>& items, const NamingOptions& naming) {
    total_ = items.size();
    line_.set_total(static_cast<int>(items.size()));
    if (f_.sequential) return run_sequential(items, naming);
    BoundedQueue<Job> decoded(2), upscaled(2);
    std::thread reader([&] {
      for (std::size_t i = 0; i < items.size() && !progress_.cancel.load(); ++i)
        if (!decoded.push(prepare(i, items[i], naming))) break;
      decoded.close();
    });
    std::thread writer([&] {
      while (auto job = upscaled.pop()) finish(*job);
    });
    int code = kExitOk;
    try {
      while (auto job = decoded.pop()) {
        if (job->status == Status::Pending) infer(*job);
        upscaled.push(std::move(*job));
      }
    } catch (const Error& e) {
      // Model, device and interrupt errors end the whole run; finished files stay.
      code = exit_code(e.kind());
      progress_.cancel = true;
      decoded.close(true);
      upscaled.close(true);
      reader.join();
      writer.join();
      line_.clear();
      if (e.kind() != ErrorKind::Interrupted) throw;
      spdlog::error("interrupted: {} of {} inputs written, nothing left under a final name half-written", done_, total_);
      return code;
    }
    upscaled.close();
    reader.join();
    writer.join();
    line_.clear();
    return summary();
  }

 private:
  // Decode, infer and encode one image after the other on this thread: the reference the
  // pipeline is measured against (bench/batch.sh), and a fallback for debugging.
  int run_sequential(const std::vector<InputItem>& items, const NamingOptions& naming) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (progress_.cancel.load()) throw Error(ErrorKind::Interrupted, "cancelled");
      Job job = prepare(i, items[i], naming);
      if (job.status == Status::Pending) infer(job);
      finish(job);
    }
    line_.clear();
    return summary();
  }

  // Reader thread: naming, safety checks and decoding.
  Job prepare(std::size_t index, const InputItem& item, const NamingOptions& naming) {
    Job job;
    job.index = index;
    job.item = item;
    job.start = Clock::now();
    try {
      std::error_code ec;
      job.output = output_path(item, naming);
      if (fs::path(job.output).lexically_normal() == fs::path(item.path).lexically_normal() || same_file(job.output, item.path))
        throw Error(ErrorKind::Usage, job.output + ": output would replace its input " + item.path);
      if (fs::exists(job.output, ec)) {
        if (f_.skip_existing) {
          job.status = Status::Skipped;
          return job;
        }
        if (!f_.overwrite) throw Error(ErrorKind::Io, job.output + ": exists (use --overwrite or --skip-existing)");
      }
      ReadLimits limits;
      limits.max_pixels = f_.max_pixels;
      job.image = read_image(item.path, limits);
      check_output_fits(job.image, f_.image, engine_.scale(), job.item.path);
    } catch (const Error& e) {
      fail(job, e);
    }
    return job;
  }

  // This thread: the network, alpha handling, --outscale.
  void infer(Job& job) {
    progress_.on_tile = [&](int done, int total) { line_.tiles(job.item.path, done, total); };
    const auto t0 = Clock::now();
    struct Timer {
      Job& job;
      Clock::time_point t0;
      ~Timer() { job.infer_seconds = std::chrono::duration<double>(Clock::now() - t0).count(); }
    } timer{job, t0};
    try {
      if (is_raw_float(job.output)) {
        if (job.image.channels != 3 || job.image.depth_bytes != 1)
          throw Error(ErrorKind::Usage, job.output + ": raw .f32 output needs an 8-bit RGB input");
        PlanarImage planar(job.image.width, job.image.height, 3);
        for (int c = 0; c < 3; ++c)
          for (std::size_t i = 0; i < static_cast<std::size_t>(job.image.width) * job.image.height; ++i)
            planar.plane(c)[i] = static_cast<float>(job.image.data[i * 3 + c]) / 255.0f;
        job.planar = engine_.upscale(planar, &progress_);
        job.image = Image();
        return;
      }
      job.image = upscale_image(engine_, job.image, f_.image, &progress_);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::Device || e.kind() == ErrorKind::Model) throw;
      fail(job, e);
    }
  }

  // Writer thread: encode, write atomically, report.
  void finish(Job& job) {
    int w = job.image.width, h = job.image.height;
    if (job.status == Status::Pending) {
      try {
        if (is_raw_float(job.output)) {
          w = job.planar.width;
          h = job.planar.height;
          write_file_atomic(job.output, encode_planar_f32(job.planar), f_.overwrite);
        } else {
          write_image(std::move(job.image), job.output, f_.quality, f_.overwrite);
        }
        job.status = Status::Done;
      } catch (const Error& e) {
        fail(job, e);
      }
    }
    job.seconds = std::chrono::duration<double>(Clock::now() - job.start).count();
    report(job, w, h);
    release_free_memory();  // flat memory over thousands of differently sized images
  }

  void report(const Job& job, int w, int h) {
    nlohmann::json j = {{"input", job.item.path}, {"output", job.output}};
    switch (job.status) {
      case Status::Done:
        ++done_;
        j.update({{"status", "done"}, {"width", w}, {"height", h}, {"seconds", job.seconds}, {"infer_seconds", job.infer_seconds}});
        spdlog::debug("{} -> {} ({}x{}, {:.2f} s)", job.item.path, job.output, w, h, job.seconds);
        break;
      case Status::Skipped:
        ++skipped_;
        j.update({{"status", "skipped"}, {"error", nullptr}});
        spdlog::debug("{}: {} exists, skipped", job.item.path, job.output);
        break;
      default:
        ++failed_;
        if (total_ == 1 && job.error_kind == ErrorKind::Usage) usage_failure_ = true;
        j.update({{"status", "failed"}, {"error", job.error}});
        line_.clear();
        spdlog::error("{}", job.error);
        break;
    }
    // File names need not be UTF-8: replace what JSON cannot hold rather than throw here.
    if (f_.json) std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    line_.files(static_cast<int>(done_ + skipped_ + failed_));
  }

  int summary() {
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    if (total_ > 1 || failed_ > 0 || skipped_ > 0)
      spdlog::info("{} done, {} skipped, {} failed ({:.1f} s, {:.2f} images/s)", done_, skipped_, failed_, secs,
                   secs > 0 ? static_cast<double>(done_) / secs : 0.0);
    if (f_.json)
      std::cout << nlohmann::json{{"summary", true}, {"done", done_}, {"skipped", skipped_}, {"failed", failed_}, {"seconds", secs}}.dump()
                << std::endl;
    if (usage_failure_) return kExitUsage;
    return failed_ ? kExitFailed : kExitOk;
  }

  const UpscaleFlags& f_;
  Engine& engine_;
  Progress& progress_;
  ProgressLine line_;
  std::size_t total_ = 0, done_ = 0, skipped_ = 0, failed_ = 0;
  bool usage_failure_ = false;
  Clock::time_point start_ = Clock::now();  // after the model is loaded
};

int run_upscale(const UpscaleFlags& f, const GlobalFlags& g) {
  if (f.quality < 1 || f.quality > 100) throw Error(ErrorKind::Usage, "--quality must be between 1 and 100");
  check_image_options(f.image);
  if (f.max_pixels < 1) throw Error(ErrorKind::Usage, "--max-pixels must be positive");
  if (f.overwrite && f.skip_existing) throw Error(ErrorKind::Usage, "--overwrite and --skip-existing exclude each other");
  std::vector<InputItem> items = collect_inputs(f.inputs, f.recursive);
  if (!f.shard.empty()) {
    int i = -1, n = 0;
    if (std::sscanf(f.shard.c_str(), "%d/%d", &i, &n) != 2) throw Error(ErrorKind::Usage, "--shard must be I/N, e.g. 0/4");
    std::vector<InputItem> mine;
    for (const auto& it : items)
      if (in_shard(it.path, i, n)) mine.push_back(it);
    items = std::move(mine);
  }
  bool dirs = false;
  for (const auto& in : f.inputs) dirs = dirs || fs::is_directory(in);
  NamingOptions naming;
  naming.output = f.output;
  naming.suffix = f.suffix;
  naming.format = f.format;
  naming.output_is_dir = !f.output.empty() && (fs::is_directory(f.output) || f.output.back() == '/' || f.inputs.size() > 1 || dirs);
  if (naming.output_is_dir && !fs::is_directory(f.output)) {
    std::error_code ec;
    if (!fs::create_directories(f.output, ec) && !fs::is_directory(f.output))
      throw Error(ErrorKind::Io, f.output + ": cannot create the output directory: " + ec.message());
  }
  if (items.empty()) {
    spdlog::warn("no images to process");
    return kExitOk;
  }
  for (const auto& it : items)  // mirrored sub-folders
    if (naming.output_is_dir && !it.relative_dir.empty()) fs::create_directories(fs::path(f.output) / it.relative_dir);

  const EngineOptions options = to_engine_options(f.engine);
  const Model model = load_model(f.engine.model, f.engine.trust_model);
  Engine engine(model, options);
  naming.scale = f.image.outscale > 0 ? f.image.outscale : engine.scale();
  spdlog::info("{} on {} ({}, {} threads), {} input(s)", model.info.summary(), engine.setup().device,
               to_string(engine.setup().precision), engine.setup().threads, items.size());
  Progress progress;
  watch_interrupts(progress.cancel);
  Upscaler up(f, g, engine, progress);
  return up.run(items, naming);
}

}  // namespace

Command register_upscale(CLI::App& app, const GlobalFlags& global) {
  auto f = std::make_shared<UpscaleFlags>();
  CLI::App* cmd = app.add_subcommand("upscale", "upscale image files and folders (PNG, JPEG, WebP, TIFF, BMP)");
  cmd->add_option("inputs", f->inputs, "image files and directories")->required();
  cmd->add_option("-o,--output", f->output, "output file (one input) or directory (mirrors sub-folders); .f32 = raw float32 CHW");
  cmd->add_flag("-r,--recursive", f->recursive, "descend into sub-directories");
  cmd->add_option("--suffix", f->suffix, "name suffix without -o FILE (default _x<scale>)");
  cmd->add_option("--format", f->format, "output format when -o is not a file: png, jpg, webp, tif (default: the input's)");
  cmd->add_option("--quality", f->quality, "JPEG/WebP quality 1-100")->capture_default_str();
  cmd->add_option("--outscale", f->image.outscale, "final scale factor (model at its own scale, then a high-quality resize)");
  cmd->add_option("--alpha", f->image.alpha, "alpha plane: model (through the network) | bicubic")->capture_default_str();
  cmd->add_option("--max-pixels", f->max_pixels, "largest input (width*height) decoded, checked from the header")->capture_default_str();
  cmd->add_option("--shard", f->shard, "I/N: process a deterministic 1/N of the inputs");
  cmd->add_flag("--overwrite", f->overwrite, "replace existing outputs");
  cmd->add_flag("--skip-existing", f->skip_existing, "leave existing outputs and count them as skipped (resumable runs)");
  cmd->add_flag("--json", f->json, "one JSON line per input on stdout, then a summary line");
  cmd->add_flag("--sequential", f->sequential, "decode, upscale and encode one image at a time (no pipeline)");
  add_engine_flags(*cmd, f->engine);
  return {cmd, [f, &global] { return run_upscale(*f, global); }};
}

}  // namespace yamiro::cli
