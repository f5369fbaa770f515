// The flags several subcommands share: the engine's and the global ones.
#include "cli/common.hpp"
#include "core/numbers.hpp"
#include "yamiro/error.hpp"

namespace yamiro::cli {

void add_engine_flags(CLI::App& cmd, EngineFlags& f, bool with_batch) {
  cmd.add_option("-m,--model", f.model, "model name or path (.param)")->capture_default_str();
  cmd.add_option("--device", f.device, "auto | cpu | cuda[:N] | mps")->capture_default_str();
  cmd.add_option("--precision", f.precision, "auto | fp32 | bf16 | fp16")->capture_default_str();
  // -1 (the default) means "choose"; a user's value is 0..kMaxTile (a pad past the image's
  // side changes nothing: plan_tiles clamps it there).
  cmd.add_option("--tile", f.tile, "tile size in input pixels (0 = whole image; default: from the memory budget)")
      ->check(CLI::Range(0, kMaxTile));
  cmd.add_option("--tile-pad", f.tile_pad, "context pixels around each tile (default " + std::to_string(kDefaultTilePad) + ")")
      ->check(CLI::Range(0, kMaxTile));
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

void strict_numeric_options(CLI::App& app) {
  // CLI11 converts with strtoll/strtod, base 0: " 2", "0x10", "010" (= 8), "1e999", "nan"
  // and a saturated overflow would all pass. Every number option first passes this.
  const CLI::Validator strict(
      [](std::string& text) -> std::string {
        if (is_decimal_integer(text) && parse_integer(text, INT64_MIN, INT64_MAX)) return "";
        return "'" + text + "' is not a whole decimal number";
      },
      "", "strict integer");
  const CLI::Validator strict_real(
      [](std::string& text) -> std::string {
        if (parse_number(text, -1e300, 1e300)) return "";
        return "'" + text + "' is not a plain decimal number";
      },
      "", "strict number");
  for (CLI::Option* opt : app.get_options()) {
    const std::string type = opt->get_type_name();
    if (type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0) opt->check(strict);
    else if (type.rfind("FLOAT", 0) == 0) opt->check(strict_real);
  }
  for (CLI::App* sub : app.get_subcommands({})) strict_numeric_options(*sub);
}

EngineOptions to_engine_options(const EngineFlags& f) {
  EngineOptions o;
  o.device = f.device;
  o.precision = parse_precision(f.precision);
  if (f.tile < -1 || f.tile > kMaxTile) throw Error(ErrorKind::Usage, "--tile must be between 0 and " + std::to_string(kMaxTile));
  if (f.tile > 0 && f.tile < 16) throw Error(ErrorKind::Usage, "--tile must be 0 or at least 16");
  if (f.tile_pad < -1 || f.tile_pad > kMaxTile)
    throw Error(ErrorKind::Usage, "--tile-pad must be between 0 and " + std::to_string(kMaxTile));
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
