// yamiro: parses the command line, runs one subcommand, maps errors to exit codes.
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <csignal>
#include <iostream>

#include "cli/common.hpp"
#include "yamiro/error.hpp"
#include "yamiro/log.hpp"

int main(int argc, char** argv) {
  using namespace yamiro;
  // Past a file size limit (ulimit -f) a write fails with EFBIG and is reported like a
  // full disk, instead of SIGXFSZ killing the process with its temporary file left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  // Feature maps of tens of MiB are made and freed node after node. glibc serves blocks that
  // large with mmap and unmaps them on free, so every node paid fresh page faults (a quarter
  // of Real-CUGAN's CPU time at 256x256): keep them on the heap and keep up to 256 MiB freed
  // at its top. Real-CUGAN x2 256x256 fp32: 2.1 s instead of 2.8 s, peak RSS 755 MiB instead
  // of 527 MiB (docs/ncnn-models.md).
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{"yamiro: AI upscaling of images and videos (Real-ESRGAN models, LibTorch)", "yamiro"};
  app.set_version_flag("--version", std::string("yamiro ") + YAMIRO_VERSION);
  app.require_subcommand(1);
  cli::GlobalFlags global;
  cli::add_global_flags(app, global);
  std::vector<cli::Command> commands = {cli::register_upscale(app, global), cli::register_bench(app, global),
                                        cli::register_info(app, global), cli::register_models(app, global),
                                        cli::register_video(app, global)};
#ifdef YAMIRO_HAVE_SERVE
  commands.push_back(cli::register_serve(app, global));
#endif
  // Global flags are accepted after the subcommand too (`yamiro upscale a.png -q`).
  for (CLI::App* sub : app.get_subcommands({})) cli::add_global_flags(*sub, global);
  cli::strict_numeric_options(app);
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
