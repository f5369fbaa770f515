// The flags several subcommands share: the engine's and the global ones.
#include "cli/common.hpp"
#include "yamiro/error.hpp"

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

void add_global_flags(CLI::App& cmd, GlobalFlags& g) {
  const std::string group = "Global options (before or after the subcommand)";
  cmd.add_flag("-q,--quiet", g.quiet, "errors only on stderr")->group(group);
  cmd.add_flag("-v,--verbose", g.verbose, "more detail on stderr")->group(group);
  cmd.add_flag("--no-progress", g.no_progress, "no progress display")->group(group);
  for (CLI::App* sub : cmd.get_subcommands({})) add_global_flags(*sub, g);
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
