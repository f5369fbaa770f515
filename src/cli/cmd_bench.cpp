// yamiro bench --latency: timings of the engine on synthetic images.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/common.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/error.hpp"

namespace yamiro::cli {
namespace {

struct BenchFlags {
  bool latency = false;
  std::string sizes = "256,512,1024";
  int warmup = 1;
  int repeats = 3;
  bool baseline = false;
  std::string json_file;
  EngineFlags engine;
};

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    try {
      std::size_t used = 0;
      const int v = std::stoi(part, &used);
      if (used != part.size() || v < 16 || v > 16384) throw std::invalid_argument(part);
      sizes.push_back(v);
    } catch (const std::exception&) {
      throw Error(ErrorKind::Usage, "--sizes: '" + part + "' is not a size between 16 and 16384");
    }
  }
  if (sizes.empty()) throw Error(ErrorKind::Usage, "--sizes is empty");
  return sizes;
}

nlohmann::json stats_json(const Stats& s) {
  return {{"median", s.median}, {"p90", s.p90}, {"mean", s.mean}, {"min", s.min}, {"max", s.max}, {"count", s.count}};
}

int run_bench(const BenchFlags& f) {
  if (!f.latency) throw Error(ErrorKind::Usage, "bench: choose a benchmark (--latency)");
  if (f.warmup < 0 || f.repeats < 1) throw Error(ErrorKind::Usage, "--warmup must be >= 0 and --repeats >= 1");
  LatencyOptions lo;
  lo.sizes = parse_sizes(f.sizes);
  lo.warmup = f.warmup;
  lo.repeats = f.repeats;
  lo.baseline = f.baseline;
  const EngineOptions eo = to_engine_options(f.engine);
  const Model model = load_model(f.engine.model);
  std::fprintf(stderr, "%s: %s\n", model.name.c_str(), model.info.summary().c_str());
  std::fprintf(stderr, "%6s %6s %11s %11s %12s %13s %8s\n", "size", "tile", "median s", "p90 s", "out Mpix/s",
               "baseline s", "speedup");
  std::string device, precision;
  int threads = 0;
  {
    Engine probe(model, eo);
    device = probe.setup().device;
    precision = to_string(probe.setup().precision);
    threads = probe.setup().threads;
  }
  const auto rows = bench_latency(model, eo, lo, [](const LatencyRow& r) {
    if (r.has_baseline)
      std::fprintf(stderr, "%6d %6d %11.4f %11.4f %12.2f %13.4f %7.2fx\n", r.size, r.tile, r.seconds.median, r.seconds.p90,
                   r.out_mpix_per_s, r.baseline_seconds.median, r.speedup);
    else
      std::fprintf(stderr, "%6d %6d %11.4f %11.4f %12.2f %13s %8s\n", r.size, r.tile, r.seconds.median, r.seconds.p90,
                   r.out_mpix_per_s, "-", "-");
  });
  std::fprintf(stderr, "device %s, precision %s, %d threads\n", device.c_str(), precision.c_str(), threads);
  if (!f.json_file.empty()) {
    nlohmann::json j = {{"model", model.name}, {"arch", model.info.summary()}, {"device", device},
                        {"precision", precision}, {"threads", threads}, {"latency", nlohmann::json::array()}};
    for (const auto& r : rows) {
      nlohmann::json row = {{"size", r.size}, {"tile", r.tile}, {"seconds", stats_json(r.seconds)}, {"out_mpix_per_s", r.out_mpix_per_s}};
      if (r.has_baseline) {
        row["baseline_seconds"] = stats_json(r.baseline_seconds);
        row["speedup"] = r.speedup;
      }
      j["latency"].push_back(row);
    }
    std::ofstream out(f.json_file);
    if (!out) throw Error(ErrorKind::Io, f.json_file + ": cannot write");
    out << j.dump(1) << "\n";
  }
  return 0;
}

}  // namespace

Command register_bench(CLI::App& app, const GlobalFlags&) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "measure the engine on synthetic images");
  cmd->add_flag("--latency", f->latency, "latency per input size");
  cmd->add_option("--sizes", f->sizes, "comma-separated input sizes")->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "untimed runs per size")->capture_default_str();
  cmd->add_option("--repeats", f->repeats, "timed runs per size")->capture_default_str();
  cmd->add_flag("--baseline", f->baseline, "also time a plain NCHW fp32 tile-by-tile forward, side by side");
  cmd->add_option("--json", f->json_file, "write the figures to this JSON file");
  add_engine_flags(*cmd, f->engine);
  return {cmd, [f] { return run_bench(*f); }};
}

}  // namespace yamiro::cli
