#include <chrono>
#include <memory>

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

std::vector<std::vector<LatencyRow>> bench_latency_interleaved(
    const Model& model, const std::vector<EngineOptions>& settings, const LatencyOptions& bench,
    const std::function<void(std::size_t setting, const LatencyRow&)>& on_row) {
  // One engine per setting, and per setting and size a baseline over the same tiles.
  std::vector<std::unique_ptr<Engine>> engines;
  for (const auto& o : settings) engines.push_back(std::make_unique<Engine>(model, o));
  std::vector<std::vector<LatencyRow>> rows(settings.size());
  for (int size : bench.sizes) {
    const int height = bench.height > 0 ? bench.height : size;
    const Image img = synthetic_image(size, height);
    std::vector<LatencyRow> row(settings.size());
    std::vector<std::unique_ptr<Engine>> base(settings.size());
    for (std::size_t k = 0; k < settings.size(); ++k) {
      row[k].size = size;
      row[k].height = height;
      row[k].tile = engines[k]->tile_for(size, height);
      // The baseline runs the same tiles (size and pad) the plain way, batch 1.
      if (bench.baseline) {
        EngineOptions b = settings[k];
        b.baseline = true;
        b.tile = row[k].tile;
        b.batch = 1;
        base[k] = std::make_unique<Engine>(model, b);
      }
      engines[k]->reset_peak_device_bytes();
    }
    reset_peak_rss();
    for (int i = 0; i < bench.warmup; ++i)
      for (std::size_t k = 0; k < settings.size(); ++k) {
        time_once(*engines[k], img);
        if (base[k]) time_once(*base[k], img);
      }
    std::vector<std::vector<double>> ours(settings.size()), theirs(settings.size());
    for (int i = 0; i < bench.repeats; ++i)
      for (std::size_t k = 0; k < settings.size(); ++k) {
        ours[k].push_back(time_once(*engines[k], img));
        if (base[k]) theirs[k].push_back(time_once(*base[k], img));
      }
    const std::uint64_t rss = peak_rss_bytes();
    for (std::size_t k = 0; k < settings.size(); ++k) {
      LatencyRow& r = row[k];
      r.peak_rss_bytes = rss;
      r.peak_device_bytes = engines[k]->peak_device_bytes();
      r.seconds = summarize(ours[k]);
      const double out_px = static_cast<double>(size) * height * engines[k]->scale() * engines[k]->scale();
      r.out_mpix_per_s = r.seconds.median > 0 ? out_px / r.seconds.median / 1e6 : 0;
      if (base[k]) {
        r.has_baseline = true;
        r.baseline_seconds = summarize(theirs[k]);
        r.speedup = r.seconds.median > 0 ? r.baseline_seconds.median / r.seconds.median : 0;
      }
      if (on_row) on_row(k, r);
      rows[k].push_back(r);
    }
  }
  return rows;
}

std::vector<LatencyRow> bench_latency(const Model& model, const EngineOptions& options, const LatencyOptions& bench,
                                      const std::function<void(const LatencyRow&)>& on_row) {
  return bench_latency_interleaved(model, {options}, bench, [&](std::size_t, const LatencyRow& r) {
    if (on_row) on_row(r);
  }).front();
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
