#include <gtest/gtest.h>

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
