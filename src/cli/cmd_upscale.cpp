// yamiro upscale: images in, upscaled images out, each written atomically. The work is
// the library's batch pipeline (yamiro/pipeline.hpp); this file parses and renders.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "core/numbers.hpp"
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"
#include "yamiro/naming.hpp"
#include "yamiro/pipeline.hpp"
#include "yamiro/system.hpp"

namespace fs = std::filesystem;

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

// Renders the batch's events: the tile/file progress line, one log line per failure and,
// with --json, one JSON line per input on stdout.
class Reporter : public BatchObserver {
 public:
  Reporter(const GlobalFlags& g, bool json, std::size_t total)
      : json_(json), total_(total), line_(!g.no_progress && !g.quiet && isatty(STDERR_FILENO)) {
    line_.set_total(static_cast<int>(total));
  }

  void on_tile(const std::string& input, int done, int total) override { line_.tiles(input, done, total); }

  void on_result(const ItemResult& r) override {
    nlohmann::json j = {{"input", r.input}, {"output", r.output}};
    switch (r.status) {
      case ItemStatus::Done:
        j.update({{"status", "done"}, {"width", r.width}, {"height", r.height}, {"seconds", r.seconds}, {"infer_seconds", r.infer_seconds}});
        spdlog::debug("{} -> {} ({}x{}, {:.2f} s)", r.input, r.output, r.width, r.height, r.seconds);
        break;
      case ItemStatus::Skipped:
        j.update({{"status", "skipped"}, {"error", nullptr}});
        spdlog::debug("{}: {} exists, skipped", r.input, r.output);
        break;
      case ItemStatus::Failed:
        if (total_ == 1 && r.error_kind == ErrorKind::Usage) usage_failure_ = true;
        j.update({{"status", "failed"}, {"error", r.error}});
        line_.clear();
        spdlog::error("{}", r.error);
        break;
    }
    // File names need not be UTF-8: replace what JSON cannot hold rather than throw here.
    if (json_) std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    line_.files(static_cast<int>(++reported_));
  }

  // Logs the summary, prints the --json summary line, returns the exit code.
  int finish(const BatchSummary& s) {
    line_.clear();
    if (s.interrupted) {
      spdlog::error("interrupted: {} of {} inputs written, nothing left under a final name half-written", s.done, total_);
      return kExitInterrupted;
    }
    if (total_ > 1 || s.failed > 0 || s.skipped > 0)
      spdlog::info("{} done, {} skipped, {} failed ({:.1f} s, {:.2f} images/s)", s.done, s.skipped, s.failed, s.seconds,
                   s.seconds > 0 ? static_cast<double>(s.done) / s.seconds : 0.0);
    if (json_)
      std::cout << nlohmann::json{{"summary", true}, {"done", s.done}, {"skipped", s.skipped}, {"failed", s.failed}, {"seconds", s.seconds}}.dump()
                << std::endl;
    if (usage_failure_) return kExitUsage;
    return s.failed ? kExitFailed : kExitOk;
  }

  void clear() { line_.clear(); }

 private:
  bool json_;
  std::size_t total_;
  std::size_t reported_ = 0;
  bool usage_failure_ = false;
  ProgressLine line_;
};

int run_upscale(const UpscaleFlags& f, const GlobalFlags& g) {
  if (f.quality < 1 || f.quality > 100) throw Error(ErrorKind::Usage, "--quality must be between 1 and 100");
  check_image_options(f.image);
  if (f.max_pixels < 1) throw Error(ErrorKind::Usage, "--max-pixels must be positive");
  if (f.overwrite && f.skip_existing) throw Error(ErrorKind::Usage, "--overwrite and --skip-existing exclude each other");
  // A suffix is part of a file name: one that names a folder would write outside the
  // output folder ("/../../escaped").
  if (f.suffix.find_first_of(std::string("/\\\0", 3)) != std::string::npos || f.suffix == "." || f.suffix == "..")
    throw Error(ErrorKind::Usage, "--suffix '" + f.suffix + "' must not contain '/' or '\\' (it is part of a file name)");
  std::vector<InputItem> items = collect_inputs(f.inputs, f.recursive);
  if (!f.shard.empty()) {
    const auto slash = f.shard.find('/');
    const auto i_value = parse_integer(f.shard.substr(0, slash), 0, 1 << 20);
    const auto n_value = slash == std::string::npos ? std::nullopt : parse_integer(f.shard.substr(slash + 1), 1, 1 << 20);
    if (!i_value || !n_value || *i_value >= *n_value) throw Error(ErrorKind::Usage, "--shard must be I/N with 0 <= I < N, e.g. 0/4, not '" + f.shard + "'");
    const int i = static_cast<int>(*i_value), n = static_cast<int>(*n_value);
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
  // Ctrl-C while the model loads (seconds for a big one) ends the run as interrupted too.
  Progress progress;
  watch_interrupts(progress.cancel);
  const Model model = load_model_interruptible(f.engine.model, f.engine.trust_model, progress.cancel);
  Engine engine(model, options);
  if (progress.cancel.load()) throw Error(ErrorKind::Interrupted, "interrupted while setting up the engine");
  naming.scale = f.image.outscale > 0 ? f.image.outscale : engine.scale();
  spdlog::info("{} on {} ({}, {} threads), {} input(s)", model.info.summary(), engine.setup().device,
               to_string(engine.setup().precision), engine.setup().threads, items.size());
  BatchOptions bo;
  bo.image = f.image;
  bo.quality = f.quality;
  bo.max_pixels = f.max_pixels;
  bo.overwrite = f.overwrite;
  bo.skip_existing = f.skip_existing;
  bo.sequential = f.sequential;
  Reporter reporter(g, f.json, items.size());
  BatchSummary summary;
  try {
    summary = run_batch(engine, items, naming, bo, progress, reporter);
  } catch (...) {
    reporter.clear();  // the error line is printed by main
    throw;
  }
  return reporter.finish(summary);
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
