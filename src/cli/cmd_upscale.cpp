// yamiro upscale: images in, upscaled images out, each written atomically.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"

namespace fs = std::filesystem;

namespace yamiro::cli {
namespace {

struct UpscaleFlags {
  std::vector<std::string> inputs;
  std::string output;
  std::string suffix;
  int quality = 95;
  bool overwrite = false;
  bool json = false;
  EngineFlags engine;
};

bool is_raw_float(const fs::path& p) { return p.extension() == ".f32"; }

// photo.png -> photo_x4.png beside it, or inside `dir` when given.
fs::path output_for(const fs::path& input, const UpscaleFlags& f, int scale, bool many) {
  const std::string suffix = f.suffix.empty() ? "_x" + std::to_string(scale) : f.suffix;
  const fs::path name = input.stem().string() + suffix + input.extension().string();
  if (f.output.empty()) return input.parent_path() / name;
  if (many || fs::is_directory(f.output)) return fs::path(f.output) / name;
  return fs::path(f.output);
}

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  void draw(const std::string& name, int done, int total) {
    if (!enabled_ || total <= 1) return;
    std::fprintf(stderr, "\r%s: tile %d/%d", name.c_str(), done, total);
    if (done == total) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
};

int run_upscale(const UpscaleFlags& f, const GlobalFlags& g) {
  if (f.quality < 1 || f.quality > 100) throw Error(ErrorKind::Usage, "--quality must be between 1 and 100");
  const bool many = f.inputs.size() > 1;
  if (many && !f.output.empty() && !fs::is_directory(f.output))
    throw Error(ErrorKind::Usage, "-o " + f.output + ": with several inputs, -o must be an existing directory");
  const EngineOptions options = to_engine_options(f.engine);
  const Model model = load_model(f.engine.model);
  Engine engine(model, options);
  spdlog::info("{} on {} ({}, {} threads)", model.info.summary(), engine.setup().device, to_string(engine.setup().precision),
               engine.setup().threads);

  Progress progress;
  watch_interrupts(progress.cancel);
  ProgressLine line(!g.no_progress && !g.quiet && isatty(STDERR_FILENO));
  int failed = 0, done = 0;
  for (const auto& input_text : f.inputs) {
    const fs::path input(input_text);
    const auto t0 = std::chrono::steady_clock::now();
    nlohmann::json result = {{"input", input_text}};
    try {
      if (fs::is_directory(input)) throw Error(ErrorKind::Input, input_text + ": is a directory (pass image files)");
      const fs::path out = output_for(input, f, engine.scale(), many);
      result["output"] = out.string();
      if (out == input || same_file(out.string(), input.string()))
        throw Error(ErrorKind::Usage, out.string() + ": output would replace its input");
      if (!f.overwrite && fs::exists(out)) throw Error(ErrorKind::Io, out.string() + ": exists (use --overwrite to replace it)");
      if (!is_raw_float(out)) check_output_format(out.string());
      const Image image = read_image(input.string());
      progress.on_tile = [&](int d, int t) { line.draw(input.filename().string(), d, t); };
      int ow = 0, oh = 0;
      if (is_raw_float(out)) {
        if (image.channels != 3 || image.depth_bytes != 1)
          throw Error(ErrorKind::Usage, out.string() + ": raw .f32 output needs an 8-bit RGB input");
        PlanarImage planar(image.width, image.height, 3);
        for (int c = 0; c < 3; ++c)
          for (std::size_t i = 0; i < static_cast<std::size_t>(image.width) * image.height; ++i)
            planar.plane(c)[i] = static_cast<float>(image.data[i * 3 + c]) / 255.0f;
        const PlanarImage up = engine.upscale(planar, &progress);
        write_file_atomic(out.string(), encode_planar_f32(up), f.overwrite);
        ow = up.width;
        oh = up.height;
      } else {
        Image up = engine.upscale(image, &progress);
        ow = up.width;
        oh = up.height;
        write_image(std::move(up), out.string(), f.quality, f.overwrite);
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      result.update({{"status", "done"}, {"width", ow}, {"height", oh}, {"seconds", secs}});
      spdlog::info("{} -> {} ({}x{}, {:.2f} s)", input_text, out.string(), ow, oh, secs);
      ++done;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) {
        spdlog::error("interrupted");
        return kExitInterrupted;
      }
      if (e.kind() == ErrorKind::Model || e.kind() == ErrorKind::Device) throw;
      ++failed;
      spdlog::error("{}", e.what());
      result.update({{"status", "failed"}, {"error", e.what()}});
      if (e.kind() == ErrorKind::Usage && !many) {
        if (f.json) std::cout << result.dump() << std::endl;
        return kExitUsage;
      }
    }
    if (f.json) std::cout << result.dump() << std::endl;
  }
  if (many) spdlog::info("{} done, {} failed", done, failed);
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

Command register_upscale(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<UpscaleFlags>();
  CLI::App* cmd = app.add_subcommand("upscale", "upscale image files (PNG, JPEG, WebP, TIFF, BMP)");
  cmd->add_option("inputs", flags->inputs, "image files")->required();
  cmd->add_option("-o,--output", flags->output, "output file (one input) or directory; .f32 writes raw float32 CHW");
  cmd->add_option("--suffix", flags->suffix, "name suffix without -o (default _x<scale>)");
  cmd->add_option("--quality", flags->quality, "JPEG/WebP quality 1-100")->capture_default_str();
  cmd->add_flag("--overwrite", flags->overwrite, "replace existing outputs");
  cmd->add_flag("--json", flags->json, "one JSON line per input on stdout");
  add_engine_flags(*cmd, flags->engine);
  return {cmd, [flags, &global] { return run_upscale(*flags, global); }};
}

}  // namespace yamiro::cli
