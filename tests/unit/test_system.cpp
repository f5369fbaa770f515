#include <gtest/gtest.h>

#include "yamiro/bench.hpp"
#include "yamiro/system.hpp"

using namespace yamiro;

TEST(Cpu, ParsesX86Flags) {
  const auto cpu = parse_cpuinfo("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16\n");
  EXPECT_EQ(cpu.model, "Test CPU");
  EXPECT_TRUE(cpu.avx2);
  EXPECT_TRUE(cpu.avx512f);
  EXPECT_TRUE(cpu.avx512_bf16);
  EXPECT_TRUE(cpu.amx_bf16);
  EXPECT_FALSE(cpu.neon);
  const auto old = parse_cpuinfo("model name\t: Old\nflags\t\t: fpu avx avx2\n");
  EXPECT_FALSE(old.avx512_bf16);
  EXPECT_TRUE(parse_cpuinfo("Features\t: fp asimd evtstrm\n").neon);
}

TEST(Cpu, AvailableCpusIsPositive) { EXPECT_GE(available_cpus(), 1); }

TEST(Precision, Parses) {
  EXPECT_EQ(parse_precision("bf16"), Precision::BF16);
  EXPECT_THROW(parse_precision("int8"), std::exception);
}

TEST(AutoTile, WholeImageWhenItFitsElseLargestThatFits) {
  ArchInfo compact{"SRVGGNetCompact", 4, 3, 3, {{"num_feat", 64}, {"num_conv", 32}}};
  ArchInfo rrdb{"RRDBNet", 4, 3, 3, {{"num_feat", 64}, {"num_block", 23}, {"num_grow_ch", 32}}};
  // compact: (3*64 + 9*16) = 336 values/px; 512^2 px fp32 = 352 MB.
  EXPECT_EQ(forward_bytes(compact, 4, 512, 512), 512ull * 512 * 336 * 4);
  EXPECT_EQ(auto_tile(compact, 4, 1ull << 30, 512, 512, 1), 0);
  EXPECT_EQ(auto_tile(compact, 4, 1ull << 30, 4096, 4096, 1), 768);
  EXPECT_EQ(auto_tile(compact, 2, 1ull << 30, 4096, 4096, 1), 1024);
  // Batching divides the budget.
  EXPECT_LT(auto_tile(compact, 4, 1ull << 30, 4096, 4096, 4), 768);
  // rrdb is far hungrier per pixel.
  EXPECT_LT(auto_tile(rrdb, 4, 1ull << 30, 4096, 4096, 1), auto_tile(compact, 4, 1ull << 30, 4096, 4096, 1));
  EXPECT_EQ(auto_tile(rrdb, 4, 1, 4096, 4096, 1), 32);  // floor
}

TEST(AutoTile, CpuPrefersCacheSizedTiles) {
  ArchInfo compact{"SRVGGNetCompact", 4, 3, 3, {{"num_feat", 64}, {"num_conv", 32}}};
  ArchInfo rrdb{"RRDBNet", 4, 3, 3, {{"num_feat", 64}, {"num_block", 23}, {"num_grow_ch", 32}}};
  const std::uint64_t big = 4ull << 30;
  EXPECT_EQ(choose_tile(compact, DeviceKind::CPU, 2, big, 512, 512, 1), 256);
  EXPECT_EQ(choose_tile(compact, DeviceKind::CPU, 2, big, 200, 256, 1), 0);  // fits in one preferred tile
  EXPECT_EQ(choose_tile(rrdb, DeviceKind::CPU, 2, big, 512, 512, 1), 128);
  EXPECT_EQ(choose_tile(compact, DeviceKind::CUDA, 2, big, 512, 512, 1), 0);  // GPUs take the whole image
  EXPECT_EQ(choose_tile(rrdb, DeviceKind::CPU, 4, 1, 512, 512, 1), 32);       // the budget still caps it
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

TEST(ReleaseFreeMemory, RunsAtMostOncePerInterval) {
#if defined(__GLIBC__)
  yamiro::release_free_memory(0.0);                       // whatever ran before: now it just ran
  EXPECT_FALSE(yamiro::release_free_memory(3600.0));      // within the hour: skipped
  EXPECT_TRUE(yamiro::release_free_memory(0.0));          // no minimum: runs
#else
  EXPECT_FALSE(yamiro::release_free_memory(0.0));
#endif
}
