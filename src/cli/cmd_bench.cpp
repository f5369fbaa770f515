// yamiro bench: latency, sustained throughput, memory and thermal behaviour of the
// engine on synthetic images; a table on stderr, JSON and an HTML report on request.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/common.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/error.hpp"
#include "yamiro/report.hpp"
#include "yamiro/sampler.hpp"

namespace yamiro::cli {
namespace {

using json = nlohmann::json;

struct BenchFlags {
  bool latency = false, throughput = false, memory = false, thermal = false, baseline = false;
  std::string sizes = "256,512,1024";
  std::string precisions;  // comma list; empty = --precision
  std::string batches = "1";  // comma list of tiles per forward
  int warmup = 1;
  int repeats = 3;
  double duration = 10;
  int untiled_max = 1024;
  int height = 0;  // --latency on size x height frames
  std::string json_file, report_file, from_json;
  EngineFlags engine;
};

// A comma list of integers in [lo, hi]; throws Error(Usage) naming the option.
std::vector<int> parse_int_list(const std::string& text, const char* option, const char* what, int lo, int hi) {
  std::vector<int> values;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    try {
      std::size_t used = 0;
      const int v = std::stoi(part, &used);
      if (used != part.size() || v < lo || v > hi) throw std::invalid_argument(part);
      values.push_back(v);
    } catch (const std::exception&) {
      throw Error(ErrorKind::Usage, std::string(option) + ": '" + part + "' is not " + what + " between " + std::to_string(lo) +
                                        " and " + std::to_string(hi));
    }
  }
  if (values.empty()) throw Error(ErrorKind::Usage, std::string(option) + " is empty");
  return values;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string p; std::getline(ss, p, ',');)
    if (!p.empty()) out.push_back(p);
  return out;
}

json stats_json(const Stats& s) {
  return {{"median", s.median}, {"p90", s.p90}, {"mean", s.mean}, {"min", s.min}, {"max", s.max}, {"count", s.count}};
}

// One latency setting as the engine resolved it (auto included) and what its table shows.
struct LatencySetting {
  EngineOptions options;  // precision and path as resolved: the timed engines run exactly this
  Precision requested = Precision::Auto;
  EngineSetup setup;
  double peak = 0;
  std::string label;
  json rows = json::array();
};

LatencySetting resolve_setting(const Model& model, EngineOptions eo) {
  LatencySetting s;
  Engine probe(model, eo);
  s.setup = probe.setup();
  s.peak = measure_conv_peak_gflops(eo.device, s.setup.precision, s.setup.channels_last, s.setup.threads);
  s.requested = eo.precision;
  eo.precision = s.setup.precision;
  eo.winograd = s.setup.winograd;  // Winograd or direct fp32, as auto measured
  s.options = eo;
  s.label = std::string(to_string(s.setup.precision)) + (s.setup.winograd ? "-winograd" : "");
  if (s.requested == Precision::Auto) s.label = "auto=" + s.label;
  if (eo.batch > 1) s.label += " b" + std::to_string(eo.batch);
  return s;
}

// All settings timed interleaved (bench_latency_interleaved), one table with a row per
// setting and size.
json latency_runs(const Model& model, const std::vector<EngineOptions>& options, const BenchFlags& f,
                  const std::vector<int>& sizes, double flops_px) {
  std::vector<LatencySetting> settings;
  for (const auto& o : options) settings.push_back(resolve_setting(model, o));
  LatencyOptions lo;
  lo.sizes = sizes;
  lo.warmup = f.warmup;
  lo.repeats = f.repeats;
  lo.baseline = f.baseline;
  lo.height = f.height;
  std::vector<EngineOptions> timed;
  for (const auto& s : settings) {
    timed.push_back(s.options);
    std::fprintf(stderr, "latency, %s on %s, batch %d, %d threads%s; conv peak %.0f GFLOP/s%s\n", s.label.c_str(),
                 s.setup.device.c_str(), s.options.batch, s.setup.threads, s.setup.winograd ? ", winograd 3x3" : "", s.peak,
                 s.requested == Precision::Auto ? (" (auto: " + s.setup.precision_reason + ")").c_str() : "");
  }
  if (settings.size() > 1) std::fprintf(stderr, "(the %zu settings run interleaved, round by round)\n", settings.size());
  // GFLOP/s below counts direct-convolution FLOPs, so Winograd runs can pass 100% of peak.
  std::fprintf(stderr, "%-22s %6s %5s %10s %10s %9s %9s %7s %8s %11s %8s\n", "setting", "size", "tile", "median s", "p90 s",
               "out Mpx/s", "GFLOP/s", "% peak", "RSS MiB", "baseline s", "speedup");
  bench_latency_interleaved(model, timed, lo, [&](std::size_t k, const LatencyRow& r) {
    LatencySetting& s = settings[k];
    const double gflops = flops_px * r.size * r.height / r.seconds.median / 1e9;
    json row = {{"size", r.size},          {"height", r.height}, {"tile", r.tile},
                {"seconds", stats_json(r.seconds)}, {"out_mpix_per_s", r.out_mpix_per_s},
                {"gflops", gflops},        {"peak_fraction", s.peak > 0 ? gflops / s.peak : 0},
                {"peak_rss_bytes", r.peak_rss_bytes},
                {"peak_device_bytes", r.peak_device_bytes ? json(r.peak_device_bytes) : json(nullptr)}};
    if (r.has_baseline) {
      row["baseline_seconds"] = stats_json(r.baseline_seconds);
      row["speedup"] = r.speedup;
    }
    std::fprintf(stderr, "%-22s %6d %5d %10.4f %10.4f %9.2f %9.1f %6.1f%% %8.0f %11s %8s\n", s.label.c_str(), r.size, r.tile,
                 r.seconds.median, r.seconds.p90, r.out_mpix_per_s, gflops, s.peak > 0 ? 100 * gflops / s.peak : 0.0,
                 r.peak_rss_bytes / 1048576.0, r.has_baseline ? std::to_string(r.baseline_seconds.median).substr(0, 8).c_str() : "-",
                 r.has_baseline ? (std::to_string(r.speedup).substr(0, 4) + "x").c_str() : "-");
    s.rows.push_back(row);
  });
  json runs = json::array();
  for (const auto& s : settings)
    runs.push_back({{"precision", to_string(s.setup.precision)}, {"requested", to_string(s.requested)},
                    {"precision_reason", s.setup.precision_reason}, {"batch", s.options.batch}, {"device", s.setup.device},
                    {"winograd", s.setup.winograd}, {"conv_peak_gflops", s.peak}, {"interleaved", settings.size() > 1},
                    {"rows", s.rows}});
  return runs;
}

json throughput_json(const ThroughputResult& t) {
  return {{"size", t.size},
          {"images", t.images},
          {"seconds", t.seconds},
          {"images_per_s", t.images_per_s},
          {"out_mpix_per_s", t.images_per_s * t.size * t.size * 16 / 1e6},
          {"first_window_ips", t.first_window_ips},
          {"last_window_ips", t.last_window_ips},
          {"drift_percent", t.drift_percent},
          {"finish_times", t.finish_times}};
}

int run_bench(const BenchFlags& f) {
  if (!f.from_json.empty()) {  // re-render a report from an earlier --json
    if (f.report_file.empty()) throw Error(ErrorKind::Usage, "--from-json needs --report");
    std::ifstream in(f.from_json);
    json doc;
    try {
      doc = json::parse(in);
      std::ofstream out(f.report_file);
      if (!(out << render_report_html(doc))) throw Error(ErrorKind::Io, f.report_file + ": cannot write");
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Input, f.from_json + ": not a bench result: " + e.what());
    }
    return 0;
  }
  if (!f.latency && !f.throughput && !f.memory && !f.thermal)
    throw Error(ErrorKind::Usage, "bench: choose at least one of --latency, --throughput, --memory, --thermal");
  if (f.warmup < 0 || f.repeats < 1) throw Error(ErrorKind::Usage, "--warmup must be >= 0 and --repeats >= 1");
  if (f.height < 0 || f.height > 16384) throw Error(ErrorKind::Usage, "--height must be between 16 and 16384");
  if (f.duration <= 0 || f.duration > 86400) throw Error(ErrorKind::Usage, "--duration must be between 0 and 86400 seconds");
  const std::vector<int> sizes = parse_int_list(f.sizes, "--sizes", "a size", 16, 16384);
  const std::vector<int> batches = parse_int_list(f.batches, "--batch", "a batch size", 1, 256);
  EngineFlags ef = f.engine;
  ef.batch = batches.front();
  const EngineOptions eo = to_engine_options(ef);
  const Model model = load_model(f.engine.model, f.engine.trust_model);
  double flops_px = 0;  // unknown for TorchScript modules: GFLOP/s is then reported as 0
  try {
    flops_px = flops_per_input_pixel(model.info);
  } catch (const Error&) {
  }
  std::fprintf(stderr, "%s: %s, %.3g MFLOP per input pixel\n", model.name.c_str(), model.info.summary().c_str(), flops_px / 1e6);

  Engine engine(model, eo);
  json doc = {{"schema", 1},
              {"model", model.name},
              {"arch", model.info.summary()},
              {"device", engine.setup().device},
              {"precision", to_string(engine.setup().precision)},
              {"threads", engine.setup().threads},
              {"batch", eo.batch},
              {"flops_per_input_pixel", flops_px},
              {"system", system_profile()}};
  if (f.latency) {
    const auto precs = f.precisions.empty() ? std::vector<std::string>{f.engine.precision} : split(f.precisions);
    std::vector<EngineOptions> settings;
    for (const auto& p : precs)
      for (int b : batches) {
        EngineOptions o = eo;
        o.precision = parse_precision(p);
        o.batch = b;
        settings.push_back(o);
      }
    doc["latency"] = latency_runs(model, settings, f, sizes, flops_px);
    doc["conv_peak_gflops"] = doc["latency"][0]["conv_peak_gflops"];
  }
  if (f.throughput) {
    doc["throughput"] = json::array();
    std::fprintf(stderr, "throughput, %.0f s per size, batch %d\n%6s %7s %9s %10s %9s\n", f.duration / sizes.size(), eo.batch, "size",
                 "images", "images/s", "out Mpx/s", "drift");
    for (int size : sizes) {
      const ThroughputResult t = bench_throughput(engine, size, f.duration / sizes.size());
      doc["throughput"].push_back(throughput_json(t));
      std::fprintf(stderr, "%6d %7d %9.3f %10.2f %8.1f%%\n", size, t.images, t.images_per_s,
                   t.images_per_s * size * size * engine.scale() * engine.scale() / 1e6, t.drift_percent);
    }
  }
  if (f.memory) {
    std::fprintf(stderr, "memory (peak RSS above the idle process)\n%6s %5s %12s %13s %12s\n", "size", "tile", "tiled MiB",
                 "untiled MiB", "images MiB");
    doc["memory"] = json::array();
    for (const MemoryRow& m : bench_memory(model, eo, sizes, f.untiled_max)) {
      doc["memory"].push_back({{"size", m.size}, {"tile", m.tile}, {"tiled_bytes", m.tiled_bytes}, {"untiled_bytes", m.untiled_run ? json(m.untiled_bytes) : json(nullptr)},
                               {"image_bytes", m.image_bytes}});
      std::fprintf(stderr, "%6d %5d %12.0f %13s %12.0f\n", m.size, m.tile, m.tiled_bytes / 1048576.0,
                   m.untiled_run ? std::to_string(m.untiled_bytes / 1048576).c_str() : "skipped", m.image_bytes / 1048576.0);
    }
  }
  if (f.thermal) {
    ThermalSampler sampler;
    const int size = sizes.front();
    sampler.start(std::chrono::milliseconds(250));
    const ThroughputResult t = bench_throughput(engine, size, f.duration);
    sampler.stop();
    json samples = json::array();
    for (const auto& s : sampler.samples()) samples.push_back({{"seconds", s.seconds}, {"celsius", s.celsius}, {"mhz", s.mhz}});
    const bool temps = !samples.empty() && !samples[0]["celsius"].empty();
    doc["thermal"] = {{"sources", sampler.sources()}, {"samples", samples}, {"size", size}, {"images_per_s", t.images_per_s},
                      {"drift_percent", t.drift_percent}, {"temperatures_available", temps}};
    std::fprintf(stderr, "thermal: %zu samples over %.1f s at %d px; temperatures %s; throughput drift first vs last quarter %.1f%%\n",
                 samples.size(), t.seconds, size, temps ? "sampled" : "not available on this platform", t.drift_percent);
  }
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream out(path);
    if (!(out << text)) throw Error(ErrorKind::Io, path + ": cannot write");
  };
  if (!f.json_file.empty()) write(f.json_file, doc.dump(1) + "\n");
  if (!f.report_file.empty()) write(f.report_file, render_report_html(doc));
  return 0;
}

}  // namespace

Command register_bench(CLI::App& app, const GlobalFlags&) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "measure the engine on synthetic images");
  cmd->add_flag("--latency", f->latency, "latency per input size, GFLOP/s and % of the measured conv peak");
  cmd->add_flag("--throughput", f->throughput, "sustained images/s per size for --duration");
  cmd->add_flag("--memory", f->memory, "peak memory against input size, tiled and untiled");
  cmd->add_flag("--thermal", f->thermal, "temperatures and clocks sampled during a sustained run");
  cmd->add_option("--sizes", f->sizes, "comma-separated input sizes")->capture_default_str();
  cmd->add_option("--height", f->height, "with --latency: images of SIZE x HEIGHT (a video frame) instead of squares");
  cmd->add_option("--precisions", f->precisions, "latency for each of these precisions (e.g. fp32,bf16,auto), timed interleaved");
  cmd->add_option("--warmup", f->warmup, "untimed runs per size")->capture_default_str();
  cmd->add_option("--repeats", f->repeats, "timed runs per size")->capture_default_str();
  cmd->add_option("--duration", f->duration, "seconds of sustained running (--throughput, --thermal)")->capture_default_str();
  cmd->add_option("--untiled-max", f->untiled_max, "largest size run untiled by --memory")->capture_default_str();
  cmd->add_flag("--baseline", f->baseline, "also time a plain NCHW tile-by-tile forward (fp32; fp16 on CUDA, as the Python Real-ESRGAN runs), side by side");
  cmd->add_option("--json", f->json_file, "write every figure and the system profile to this JSON file");
  cmd->add_option("--report", f->report_file, "write a self-contained HTML report");
  cmd->add_option("--from-json", f->from_json, "render --report from an earlier --json file instead of measuring");
  cmd->add_option("--batch", f->batches, "tiles per forward; a comma list runs --latency once per batch size")->capture_default_str();
  add_engine_flags(*cmd, f->engine, false);
  return {cmd, [f] { return run_bench(*f); }};
}

}  // namespace yamiro::cli
