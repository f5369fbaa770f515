#include <chrono>

#include "yamiro/bench.hpp"
#include "yamiro/sampler.hpp"

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
    const int height = bench.height > 0 ? bench.height : size;
    const Image img = synthetic_image(size, height);
    LatencyRow row;
    row.size = size;
    row.height = height;
    row.tile = engine.tile_for(size, height);
    // The baseline runs the same tiles (size and pad) the plain way, batch 1.
    std::unique_ptr<Engine> base;
    if (bench.baseline) {
      EngineOptions b = options;
      b.baseline = true;
      b.tile = row.tile;
      b.batch = 1;
      base = std::make_unique<Engine>(model, b);
    }
    reset_peak_rss();
    engine.reset_peak_device_bytes();
    for (int i = 0; i < bench.warmup; ++i) {
      time_once(engine, img);
      if (base) time_once(*base, img);
    }
    std::vector<double> ours, theirs;
    for (int i = 0; i < bench.repeats; ++i) {
      ours.push_back(time_once(engine, img));
      if (base) theirs.push_back(time_once(*base, img));
    }
    row.peak_rss_bytes = peak_rss_bytes();
    row.peak_device_bytes = engine.peak_device_bytes();
    row.seconds = summarize(ours);
    const double out_px = static_cast<double>(size) * height * engine.scale() * engine.scale();
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

ThroughputResult bench_throughput(Engine& engine, int size, double duration_s, const std::function<void()>& on_image) {
  const Image img = synthetic_image(size, size, 7);
  ThroughputResult r;
  r.size = size;
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  while (r.images < 2 || since() < duration_s) {
    const Image out = engine.upscale(img);
    ++r.images;
    r.finish_times.push_back(since());
    if (on_image) on_image();
  }
  r.seconds = since();
  r.images_per_s = r.images / r.seconds;
  // Windows by time: images finished in the first and last quarter of the run.
  const double q = r.seconds / 4;
  int first = 0, last = 0;
  for (double t : r.finish_times) {
    first += t <= q;
    last += t > r.seconds - q;
  }
  r.first_window_ips = first / q;
  r.last_window_ips = last / q;
  r.drift_percent = first > 0 ? (r.last_window_ips - r.first_window_ips) / r.first_window_ips * 100 : 0;
  return r;
}

std::vector<MemoryRow> bench_memory(const Model& model, const EngineOptions& options, const std::vector<int>& sizes,
                                    int untiled_max) {
  std::vector<MemoryRow> rows;
  auto measure = [&](Engine& engine, const Image& img) {
    const std::uint64_t before = current_rss_bytes();
    reset_peak_rss();
    { const Image out = engine.upscale(img); }
    const std::uint64_t peak = peak_rss_bytes();
    return peak > before ? peak - before : 0;
  };
  Engine tiled(model, options);
  EngineOptions whole = options;
  whole.tile = 0;
  Engine untiled(model, whole);
  for (int size : sizes) {
    const Image img = synthetic_image(size, size, 3);
    MemoryRow row;
    row.size = size;
    row.tile = tiled.tile_for(size, size);
    row.image_bytes = img.data.size() * (1 + static_cast<std::uint64_t>(tiled.scale()) * tiled.scale());
    row.tiled_bytes = measure(tiled, img);
    if (size <= untiled_max) {
      row.untiled_bytes = measure(untiled, img);
      row.untiled_run = true;
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace yamiro
