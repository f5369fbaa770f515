#include <chrono>

#include "yamiro/bench.hpp"

namespace yamiro {
namespace {

double time_once(Engine& engine, const Image& img) {
  const auto t0 = std::chrono::steady_clock::now();
  const Image out = engine.upscale(img);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<LatencyRow> bench_latency(const Model& model, const EngineOptions& options, const LatencyOptions& bench,
                                      const std::function<void(const LatencyRow&)>& on_row) {
  Engine engine(model, options);
  std::vector<LatencyRow> rows;
  for (int size : bench.sizes) {
    const Image img = synthetic_image(size, size);
    LatencyRow row;
    row.size = size;
    row.tile = engine.tile_for(size, size);
    // The baseline runs the same tiles (size and pad) the plain way, batch 1.
    std::unique_ptr<Engine> base;
    if (bench.baseline) {
      EngineOptions b = options;
      b.baseline = true;
      b.tile = row.tile;
      b.batch = 1;
      base = std::make_unique<Engine>(model, b);
    }
    for (int i = 0; i < bench.warmup; ++i) {
      time_once(engine, img);
      if (base) time_once(*base, img);
    }
    std::vector<double> ours, theirs;
    for (int i = 0; i < bench.repeats; ++i) {
      ours.push_back(time_once(engine, img));
      if (base) theirs.push_back(time_once(*base, img));
    }
    row.seconds = summarize(ours);
    const double out_px = static_cast<double>(size) * size * engine.scale() * engine.scale();
    row.out_mpix_per_s = row.seconds.median > 0 ? out_px / row.seconds.median / 1e6 : 0;
    if (base) {
      row.has_baseline = true;
      row.baseline_seconds = summarize(theirs);
      row.speedup = row.seconds.median > 0 ? row.baseline_seconds.median / row.seconds.median : 0;
    }
    if (on_row) on_row(row);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace yamiro
