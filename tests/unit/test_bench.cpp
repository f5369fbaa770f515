// Bench building blocks: FLOP counts, the sampler's thread, the report and its schema, the
// statistics of timings (median, p90) and the synthetic input image.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "unit/arch_dicts.hpp"
#include "golden/fixtures.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/model.hpp"
#include "yamiro/report.hpp"
#include "yamiro/sampler.hpp"

using namespace yamiro;

namespace {

int thread_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// The count once it equals `expected`, or after 2 s: a joined thread's /proc/self/task entry
// can outlive pthread_join by a moment (the kernel reaps the task after waking the joiner),
// which once made this test see one thread too many under ASan.
int thread_count_settled(int expected) {
  int n = thread_count();
  for (int i = 0; i < 200 && n != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = thread_count();
  }
  return n;
}

}  // namespace

TEST(Flops, FixtureNetworksByHand) {
  // compact-x4-nc4-nf16: 9 * (3*16 + 4*16*16 + 16*48) MACs per input pixel.
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(load_model(test::fixture("compact-x4-nc4-nf16.param")).info), 2.0 * 9 * 1840);
  // rrdb-x4-nb2-nf16-gc8: per RDB 16*8 + 24*8 + 32*8 + 40*8 + 48*16 = 1664 MACs/9;
  // body 3*16 + 2*3*1664 + 16*16 = 10288; upsampling 4*256 + 16*(2*256 + 48) = 9984.
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(load_model(test::fixture("rrdb-x4-nb2-nf16-gc8.param")).info), 2.0 * 9 * 20272);
  // Scale 2 runs the body on a quarter of the pixels with 12 input channels.
  const ArchInfo x2 = detect_architecture(test::zero_rrdb(16, 1, 8, 2, 12));
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(x2), 2.0 * 9 * 0.25 * (12 * 16 + 3 * 1664 + 256 + 9984));
  const ArchInfo x2c = detect_architecture(test::zero_compact(8, 2, 2));
  ASSERT_EQ(x2c.hyper.at("num_conv"), 2);
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(x2c), 2.0 * 9 * (24 + 128 + 96));
  // The real x4plus: about 35.85 MFLOP per input pixel (35.85 TFLOP per input megapixel).
  const ArchInfo plus = detect_architecture(test::zero_rrdb(64, 23, 32, 2));
  EXPECT_NEAR(flops_per_input_pixel(plus) / 1e6, 35.85, 0.01);
  EXPECT_THROW(flops_per_input_pixel(ArchInfo{"SwinIR", 4, 3, 3, {}}), std::exception);
}

TEST(Sampler, StartsStopsAndLeavesNoThread) {
  const int before = thread_count();
  {
    ThermalSampler s;
    EXPECT_FALSE(s.sources().empty());  // at least the CPU clock source
    s.start(std::chrono::milliseconds(20));
    EXPECT_TRUE(s.running());
    EXPECT_EQ(thread_count(), before + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    const auto t0 = std::chrono::steady_clock::now();
    s.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
    EXPECT_FALSE(s.running());
    const auto samples = s.samples();
    EXPECT_GE(samples.size(), 3u);
    for (std::size_t i = 1; i < samples.size(); ++i) EXPECT_GT(samples[i].seconds, samples[i - 1].seconds);
    EXPECT_EQ(thread_count_settled(before), before);
    s.stop();  // idempotent
    s.start(std::chrono::milliseconds(20));  // restartable; the destructor joins it
  }
  EXPECT_EQ(thread_count_settled(before), before);
}

TEST(Memory, PeakRssIsReadable) {
  EXPECT_GT(current_rss_bytes(), 0u);
  EXPECT_GE(peak_rss_bytes(), current_rss_bytes() / 2);
}

TEST(Report, RendersEverySectionFromTheJsonSchema) {
  const nlohmann::json doc = nlohmann::json::parse(R"({
    "schema": 1, "model": "m", "arch": "RRDBNet x4", "device": "cpu", "precision": "bf16", "threads": 2,
    "conv_peak_gflops": 100.0,
    "system": {"cpu": {"model": "X", "cpus_available": 2}, "libraries": {"libtorch": "1.13"}},
    "latency": [{"precision": "bf16", "rows": [{"size": 256, "tile": 0, "seconds": {"median": 0.5, "p90": 0.6},
      "out_mpix_per_s": 2.0, "gflops": 50.0, "peak_fraction": 0.5, "peak_rss_bytes": 1048576,
      "baseline_seconds": {"median": 1.0, "p90": 1.1}, "speedup": 2.0}]}],
    "throughput": [{"size": 256, "images": 3, "seconds": 1.5, "images_per_s": 2.0, "first_window_ips": 2.0,
      "last_window_ips": 2.0, "drift_percent": 0.0, "finish_times": [0.5, 1.0, 1.5]}],
    "memory": [{"size": 256, "tile": 0, "tiled_bytes": 1048576, "untiled_bytes": null, "image_bytes": 1048576}],
    "thermal": {"sources": ["cpu"], "samples": [{"seconds": 0.0, "celsius": {"zone0": 40.0}, "mhz": {"cpu": 2100.0}}],
      "drift_percent": 1.0}
  })");
  const std::string html = render_report_html(doc);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  for (const char* part : {"Latency and throughput", "Sustained throughput", "Peak memory", "Thermal trace", "<svg", "2&times;"})
    EXPECT_NE(html.find(part), std::string::npos) << part;
  EXPECT_EQ(html.find("http"), std::string::npos);  // self-contained: nothing fetched
  // A document with nothing run still renders and says what is missing.
  const std::string empty = render_report_html({{"model", "m"}});
  EXPECT_NE(empty.find("not run (--latency)"), std::string::npos);
}

TEST(Stats, MedianAndP90Interpolate) {
  const Stats s = summarize({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.p90, 4.6);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(summarize({2, 4}).median, 3);
  EXPECT_EQ(summarize({}).count, 0);
}

TEST(Bench, SyntheticImageIsReproducible) {
  EXPECT_EQ(synthetic_image(32, 16, 3).data, synthetic_image(32, 16, 3).data);
  EXPECT_NE(synthetic_image(32, 16, 3).data, synthetic_image(32, 16, 4).data);
}
