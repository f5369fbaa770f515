// Options shared by the subcommands that run the engine, and small CLI helpers.
#pragma once
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "yamiro/engine.hpp"
#include "yamiro/profile.hpp"  // system_profile(): info, bench results, serve

namespace yamiro::cli {

struct EngineFlags {
  std::string model = kDefaultModel;
  std::string device = "auto";
  std::string precision = "auto";
  std::string border = "zero";
  int tile = -1;
  int tile_pad = -1;
  int batch = 1;
  int threads = 0;
  bool trust_model = false;
};

// Adds -m, --device, --precision, --tile, --tile-pad, --threads, --border and, unless the
// command has its own, --batch.
void add_engine_flags(CLI::App& cmd, EngineFlags& flags, bool with_batch = true);
// The largest --tile and --tile-pad accepted.
constexpr int kMaxTile = 65536;

// Makes every integer and floating-point option of `app` and its subcommands accept only
// plain decimal text (see core/numbers.hpp); call after every option is added.
void strict_numeric_options(CLI::App& app);

// Validates and converts; throws Error(Usage).
EngineOptions to_engine_options(const EngineFlags& flags);

// Global flags every subcommand reads.
struct GlobalFlags {
  bool quiet = false;
  bool verbose = false;
  bool no_progress = false;
};

// Adds -q/--quiet, -v/--verbose and --no-progress to `cmd` and its subcommands (so they
// are accepted before and after a subcommand and listed in each --help).
void add_global_flags(CLI::App& cmd, GlobalFlags& flags);

// A subcommand: its CLI11 app and what to run (after logging is set up) when it was
// given. `run` returns the exit code or throws yamiro::Error.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command register_upscale(CLI::App& app, const GlobalFlags& global);
Command register_bench(CLI::App& app, const GlobalFlags& global);
Command register_info(CLI::App& app, const GlobalFlags& global);
Command register_models(CLI::App& app, const GlobalFlags& global);
Command register_video(CLI::App& app, const GlobalFlags& global);
#ifdef YAMIRO_HAVE_SERVE
Command register_serve(CLI::App& app, const GlobalFlags& global);
#endif

}  // namespace yamiro::cli
