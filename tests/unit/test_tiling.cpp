#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "yamiro/error.hpp"
#include "yamiro/tiling.hpp"

using namespace yamiro;

namespace {

// Every pixel is covered by exactly one core, and every core lies inside its padded rect.
void expect_exact_cover(const std::vector<Tile>& tiles, int w, int h) {
  std::vector<int> hits(static_cast<std::size_t>(w) * h, 0);
  for (const auto& t : tiles) {
    EXPECT_LE(t.padded.x, t.core.x);
    EXPECT_LE(t.padded.y, t.core.y);
    EXPECT_GE(t.padded.right(), t.core.right());
    EXPECT_GE(t.padded.bottom(), t.core.bottom());
    for (int y = t.core.y; y < t.core.bottom(); ++y)
      for (int x = t.core.x; x < t.core.right(); ++x) ++hits[static_cast<std::size_t>(y) * w + x];
  }
  for (int v : hits) ASSERT_EQ(v, 1);
}

}  // namespace

TEST(Tiling, WholeImageIsOneTile) {
  const auto tiles = plan_tiles(300, 200, 0, 16, true);
  ASSERT_EQ(tiles.size(), 1u);
  EXPECT_EQ(tiles[0].core, (Rect{0, 0, 300, 200}));
  EXPECT_EQ(tiles[0].padded, (Rect{0, 0, 300, 200}));  // nothing added at the border
}

TEST(Tiling, TileLargerThanImageIsOneTile) {
  EXPECT_EQ(plan_tiles(100, 80, 512, 10, true).size(), 1u);
}

TEST(Tiling, EqualSpansAndExactCover) {
  const auto tiles = plan_tiles(500, 300, 128, 10, true);
  ASSERT_EQ(tiles.size(), 4u * 3u);  // ceil(500/128)=4, ceil(300/128)=3
  expect_exact_cover(tiles, 500, 300);
  for (const auto& t : tiles) {
    EXPECT_EQ(t.core.w, 125);
    EXPECT_EQ(t.core.h, 100);
    // Uniform padded size (so tiles batch), shifted inside the image at the edges.
    EXPECT_EQ(t.padded.w, 145);
    EXPECT_EQ(t.padded.h, 120);
    EXPECT_GE(t.padded.x, 0);
    EXPECT_LE(t.padded.right(), 500);
  }
  EXPECT_EQ(tiles[0].padded.x, 0);
  EXPECT_EQ(tiles[1].padded.x, 125 - 10);
  EXPECT_EQ(tiles[3].padded.x, 500 - 145);
}

TEST(Tiling, UnevenSplitDiffersByOne) {
  const auto tiles = plan_tiles(257, 64, 128, 8, true);
  ASSERT_EQ(tiles.size(), 3u);
  EXPECT_EQ(tiles[0].core.w, 86);
  EXPECT_EQ(tiles[1].core.w, 86);
  EXPECT_EQ(tiles[2].core.w, 85);
  expect_exact_cover(tiles, 257, 64);
}

TEST(Tiling, MirrorModeExtendsPastTheEdge) {
  const auto tiles = plan_tiles(256, 256, 128, 10, false);
  ASSERT_EQ(tiles.size(), 4u);
  EXPECT_EQ(tiles[0].padded, (Rect{-10, -10, 148, 148}));
  EXPECT_EQ(tiles[3].padded, (Rect{118, 118, 148, 148}));
  expect_exact_cover(tiles, 256, 256);
}

TEST(Tiling, PadLargerThanImageClips) {
  const auto tiles = plan_tiles(20, 20, 16, 64, true);
  for (const auto& t : tiles) EXPECT_EQ(t.padded, (Rect{0, 0, 20, 20}));
  expect_exact_cover(tiles, 20, 20);
}

// Issue 18: tile + 2 * pad overflowed int (--tile-pad 2147483647 aborted). A pad over the
// image's longer side is clamped to it: the same rects in zero-border mode, one
// reflection of context in mirror mode, and no overflow in either.
TEST(Tiling, HugePadIsClampedWithoutOverflow) {
  for (const int pad : {24, 1073741824, 2147483600, 2147483647}) {
    const auto clipped = plan_tiles(24, 20, 16, pad, true);
    for (const auto& t : clipped) EXPECT_EQ(t.padded, (Rect{0, 0, 24, 20})) << pad;
    expect_exact_cover(clipped, 24, 20);
    const auto mirrored = plan_tiles(24, 20, 16, pad, false);
    for (const auto& t : mirrored) {
      EXPECT_EQ(t.padded.w, t.core.w + 2 * 24) << pad;
      EXPECT_EQ(t.core.x - t.padded.x, 24);
    }
    const auto windows = plan_tiles(24, 20, 16, pad, true, 8);
    for (const auto& t : windows) EXPECT_EQ(t.padded, (Rect{0, 0, 24, 20})) << pad;
  }
}

TEST(Tiling, RejectsNegativeSizes) {
  EXPECT_THROW(plan_tiles(0, 10, 8, 1, true), Error);
  EXPECT_THROW(plan_tiles(10, 10, -1, 1, true), Error);
  EXPECT_THROW(plan_tiles(10, 10, 8, -1, true), Error);
}

TEST(Tiling, MirrorIndexReflectsWithoutRepeatingTheEdge) {
  EXPECT_EQ(mirror_index(-1, 5), 1);
  EXPECT_EQ(mirror_index(-2, 5), 2);
  EXPECT_EQ(mirror_index(5, 5), 3);
  EXPECT_EQ(mirror_index(6, 5), 2);
  EXPECT_EQ(mirror_index(2, 5), 2);
  EXPECT_EQ(mirror_index(-9, 5), 1);  // beyond one reflection: periodic
  EXPECT_EQ(mirror_index(7, 1), 0);
  for (int i = -50; i < 50; ++i) {
    const int m = mirror_index(i, 4);
    EXPECT_GE(m, 0);
    EXPECT_LT(m, 4);
  }
}

TEST(Tiling, WindowMultiplesAlignPaddedRectsToTheGrid) {
  // SwinIR-style windows: every padded rect starts on the window grid, keeps `pad` of
  // context (or reaches the image edge), stays inside the image, and is a whole number
  // of windows unless it runs to the right/bottom edge.
  for (const int m : {4, 8}) {
    for (const auto& [w, h, tile, pad] : std::vector<std::array<int, 4>>{{60, 48, 16, 12}, {100, 37, 24, 5}, {20, 18, 8, 0}, {257, 64, 64, 12}}) {
      const auto tiles = plan_tiles(w, h, tile, pad, true, m);
      expect_exact_cover(tiles, w, h);
      for (const auto& t : tiles) {
        EXPECT_EQ(t.padded.x % m, 0);
        EXPECT_EQ(t.padded.y % m, 0);
        EXPECT_GE(t.padded.x, 0);
        EXPECT_GE(t.padded.y, 0);
        EXPECT_LE(t.padded.right(), w);
        EXPECT_LE(t.padded.bottom(), h);
        EXPECT_TRUE(t.padded.w % m == 0 || t.padded.right() == w) << t.padded.x << "+" << t.padded.w;
        EXPECT_TRUE(t.padded.h % m == 0 || t.padded.bottom() == h);
        EXPECT_TRUE(t.core.x - t.padded.x >= pad || t.padded.x == 0);
        EXPECT_TRUE(t.padded.right() - t.core.right() >= pad || t.padded.right() == w);
      }
    }
  }
  // Mirror mode: rects may leave the image, and all have one size (they batch).
  const auto tiles = plan_tiles(100, 37, 24, 5, false, 8);
  expect_exact_cover(tiles, 100, 37);
  for (const auto& t : tiles) {
    EXPECT_EQ(t.padded.x % 8, 0);
    EXPECT_EQ(t.padded.w, tiles.front().padded.w);
    EXPECT_EQ(t.padded.w % 8, 0);
    EXPECT_GE(t.core.x - t.padded.x, 5);
  }
}

TEST(Tiling, RoundTileKeepsWholeWindows) {
  EXPECT_EQ(round_tile(0, 8), 0);
  EXPECT_EQ(round_tile(100, 8), 96);
  EXPECT_EQ(round_tile(5, 8), 8);
  EXPECT_EQ(round_tile(100, 1), 100);
}
