// yamiro: parses the command line, runs one subcommand, maps errors to exit codes.
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "cli/common.hpp"
#include "yamiro/error.hpp"
#include "yamiro/log.hpp"

namespace yamiro::cli {

void add_engine_flags(CLI::App& cmd, EngineFlags& f, bool with_batch) {
  cmd.add_option("-m,--model", f.model, "model name or path (.param)")->capture_default_str();
  cmd.add_option("--device", f.device, "auto | cpu | cuda[:N] | mps")->capture_default_str();
  cmd.add_option("--precision", f.precision, "auto | fp32 | bf16 | fp16")->capture_default_str();
  cmd.add_option("--tile", f.tile, "tile size in input pixels (0 = whole image; default: from the memory budget)");
  cmd.add_option("--tile-pad", f.tile_pad, "context pixels around each tile (default " + std::to_string(kDefaultTilePad) + ")");
  if (with_batch) cmd.add_option("--batch", f.batch, "tiles per forward")->capture_default_str();
  cmd.add_option("--threads", f.threads, "CPU threads (default: CPUs available to the process)");
  cmd.add_option("--border", f.border, "image border: zero (as the reference) | mirror")->capture_default_str();
  cmd.add_flag("--trust-model", f.trust_model, "allow TorchScript models (they are code and run as is)");
}

EngineOptions to_engine_options(const EngineFlags& f) {
  EngineOptions o;
  o.device = f.device;
  o.precision = parse_precision(f.precision);
  if (f.tile < -1) throw Error(ErrorKind::Usage, "--tile must be >= 0");
  if (f.tile > 0 && f.tile < 16) throw Error(ErrorKind::Usage, "--tile must be 0 or at least 16");
  if (f.tile_pad < -1) throw Error(ErrorKind::Usage, "--tile-pad must be >= 0");
  if (f.batch < 1 || f.batch > 256) throw Error(ErrorKind::Usage, "--batch must be between 1 and 256");
  if (f.threads < 0 || f.threads > 4096) throw Error(ErrorKind::Usage, "--threads must be between 1 and 4096");
  o.tile = f.tile;
  o.tile_pad = f.tile_pad;
  o.batch = f.batch;
  o.threads = f.threads;
  if (f.border == "zero") o.border = Border::Zero;
  else if (f.border == "mirror") o.border = Border::Mirror;
  else throw Error(ErrorKind::Usage, "unknown --border '" + f.border + "' (valid: zero, mirror)");
  return o;
}

}  // namespace yamiro::cli

int main(int argc, char** argv) {
  using namespace yamiro;
  // Past a file size limit (ulimit -f) a write fails with EFBIG and is reported like a
  // full disk, instead of SIGXFSZ killing the process with its temporary file left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"yamiro: AI upscaling of images and videos (Real-ESRGAN models, LibTorch)", "yamiro"};
  app.set_version_flag("--version", std::string("yamiro ") + YAMIRO_VERSION);
  app.require_subcommand(1);
  cli::GlobalFlags global;
  app.add_flag("-q,--quiet", global.quiet, "errors only on stderr");
  app.add_flag("-v,--verbose", global.verbose, "more detail on stderr");
  app.add_flag("--no-progress", global.no_progress, "no progress display");
  std::vector<cli::Command> commands = {cli::register_upscale(app, global), cli::register_bench(app, global),
                                        cli::register_info(app, global), cli::register_models(app, global),
                                        cli::register_video(app, global)};
#ifdef YAMIRO_HAVE_SERVE
  commands.push_back(cli::register_serve(app, global));
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  init_logging(global.quiet ? -1 : global.verbose ? 1 : 0);
  try {
    for (const auto& cmd : commands)
      if (cmd.app->parsed()) return cmd.run();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return exit_code(e.kind());
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", one_line(e.what()));
    return kExitFailed;
  }
  return kExitUsage;
}
