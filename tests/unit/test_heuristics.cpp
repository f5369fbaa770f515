// Precision and tile heuristics: what `auto` picks for a device and CPU, and the tile size
// for a memory budget.
#include <gtest/gtest.h>

#include "unit/arch_dicts.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/heuristics.hpp"

using namespace yamiro;

TEST(Precision, Parses) {
  EXPECT_EQ(parse_precision("bf16"), Precision::BF16);
  EXPECT_THROW(parse_precision("int8"), std::exception);
}

TEST(AutoTile, WholeImageWhenItFitsElseLargestThatFits) {
  static const ArchInfo compact = detect_architecture(test::zero_compact(64, 32, 4));
  static const ArchInfo rrdb = detect_architecture(test::zero_rrdb(64, 23, 32, 2));
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
  static const ArchInfo compact = detect_architecture(test::zero_compact(64, 32, 4));
  static const ArchInfo rrdb = detect_architecture(test::zero_rrdb(64, 23, 32, 2));
  const std::uint64_t big = 4ull << 30;
  EXPECT_EQ(choose_tile(compact, DeviceKind::CPU, 2, big, 512, 512, 1), 256);
  EXPECT_EQ(choose_tile(compact, DeviceKind::CPU, 2, big, 200, 256, 1), 0);  // fits in one preferred tile
  EXPECT_EQ(choose_tile(rrdb, DeviceKind::CPU, 2, big, 512, 512, 1), 128);
  EXPECT_EQ(choose_tile(compact, DeviceKind::CUDA, 2, big, 512, 512, 1), 0);  // GPUs take the whole image
  EXPECT_EQ(choose_tile(rrdb, DeviceKind::CPU, 4, 1, 512, 512, 1), 32);       // the budget still caps it
}
