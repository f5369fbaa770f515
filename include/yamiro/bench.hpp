// Benchmarks of the engine on synthetic input (no image library needed).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "yamiro/engine.hpp"
#include "yamiro/heuristics.hpp"

namespace yamiro {

struct Stats {
  double median = 0, p90 = 0, mean = 0, min = 0, max = 0;
  int count = 0;
};

// Median and p90 by linear interpolation between order statistics (numpy's default).
// An empty sample gives all zeros.
Stats summarize(std::vector<double> samples);

// A reproducible RGB test image: smooth gradients plus seeded noise.
Image synthetic_image(int width, int height, unsigned seed = 1);

// Convolution FLOPs (2 per multiply-add) of one forward, per input pixel, computed from
// the architecture's hyper-parameters. Element-wise work is not counted.
// Throws Error(Model) for an architecture it does not know.
double flops_per_input_pixel(const ArchInfo& arch);

// GFLOP/s of a large 64->64 3x3 convolution on `device` in `precision` (auto resolved as
// the engine does) and memory format: the denominator of "% of peak". Throws Error(Device).
double measure_conv_peak_gflops(const std::string& device, Precision precision, bool channels_last, int threads);

struct LatencyOptions {
  std::vector<int> sizes = {256, 512, 1024};
  int warmup = 1;
  int repeats = 3;
  bool baseline = false;  // also time the plain NCHW fp32 tile-by-tile forward, interleaved
  int height = 0;         // > 0: size x height images (a video frame size) instead of squares
};

struct LatencyRow {
  int size = 0;
  int height = 0;         // rows of the image (= size for squares)
  int tile = 0;           // tile used (0 = whole image)
  Stats seconds;          // yamiro
  double out_mpix_per_s = 0;
  bool has_baseline = false;
  Stats baseline_seconds;
  double speedup = 0;     // baseline median / yamiro median
  std::uint64_t peak_rss_bytes = 0;  // process peak resident memory during this size
  std::uint64_t peak_device_bytes = 0;  // CUDA memory in use (0 = not measured, e.g. CPU)
};

// For each size: warm-up runs, then `repeats` timed runs of Engine::upscale on a
// size x size image (baseline runs interleaved with yamiro's so both see the same
// machine state). Throws what the engine throws.
std::vector<LatencyRow> bench_latency(const Model& model, const EngineOptions& options, const LatencyOptions& bench,
                                      const std::function<void(const LatencyRow&)>& on_row = {});

// bench_latency for several engine settings (precisions, batch sizes) at once, interleaved:
// per size, every warm-up and timed round runs each setting once in turn, so a machine
// whose speed drifts slows them alike and their ratios hold. Returns one list of rows per
// setting, in order; `on_row(k, row)` is called per size for each setting k. A row's
// peak_rss_bytes is the peak of all settings together. Throws what the engine throws. Not
// thread-safe (one engine per setting, used from the calling thread).
std::vector<std::vector<LatencyRow>> bench_latency_interleaved(
    const Model& model, const std::vector<EngineOptions>& settings, const LatencyOptions& bench,
    const std::function<void(std::size_t setting, const LatencyRow&)>& on_row = {});

struct ThroughputResult {
  int size = 0;
  int images = 0;
  double seconds = 0;
  double images_per_s = 0;
  double first_window_ips = 0;  // images/s over the first quarter of the run
  double last_window_ips = 0;   // and the last quarter
  double drift_percent = 0;     // (last - first) / first * 100
  std::vector<double> finish_times;  // seconds since start, one per image
};

// Upscales size x size synthetic images back to back for `duration_s` seconds (at least
// two images). `on_image` is called after each one (for a sampler or a progress line).
ThroughputResult bench_throughput(Engine& engine, int size, double duration_s, const std::function<void()>& on_image = {});

struct MemoryRow {
  int size = 0;
  int tile = 0;                       // tile of the tiled run
  std::uint64_t tiled_bytes = 0;      // peak RSS above the pre-run resident size
  std::uint64_t untiled_bytes = 0;    // the same with --tile 0
  bool untiled_run = false;           // false when the size was past untiled_max
  std::uint64_t image_bytes = 0;      // input + output image buffers
};

// Peak resident memory above the baseline for one upscale per size, tiled (the engine's
// tile) and untiled (skipped past `untiled_max` pixels a side, to stay within the machine).
std::vector<MemoryRow> bench_memory(const Model& model, const EngineOptions& options, const std::vector<int>& sizes,
                                    int untiled_max);

}  // namespace yamiro
