// Benchmarks of the engine on synthetic input (no image library needed).
#pragma once
#include <functional>
#include <vector>

#include "yamiro/engine.hpp"

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

struct LatencyOptions {
  std::vector<int> sizes = {256, 512, 1024};
  int warmup = 1;
  int repeats = 3;
  bool baseline = false;  // also time the plain NCHW fp32 tile-by-tile forward, interleaved
};

struct LatencyRow {
  int size = 0;
  int tile = 0;           // tile used (0 = whole image)
  Stats seconds;          // yamiro
  double out_mpix_per_s = 0;
  bool has_baseline = false;
  Stats baseline_seconds;
  double speedup = 0;     // baseline median / yamiro median
};

// For each size: warm-up runs, then `repeats` timed runs of Engine::upscale on a
// size x size image (baseline runs interleaved with yamiro's so both see the same
// machine state). Throws what the engine throws.
std::vector<LatencyRow> bench_latency(const Model& model, const EngineOptions& options, const LatencyOptions& bench,
                                      const std::function<void(const LatencyRow&)>& on_row = {});

}  // namespace yamiro
