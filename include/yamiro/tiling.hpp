// Tile planning: pure arithmetic, no LibTorch (unit-tested on its own).
// Thread-safety: pure functions, thread-safe.
#pragma once
#include <vector>

#include "yamiro/geometry.hpp"  // mirror_index

namespace yamiro {

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
  int right() const { return x + w; }
  int bottom() const { return y + h; }
  bool operator==(const Rect& o) const { return x == o.x && y == o.y && w == o.w && h == o.h; }
};

// One tile: `core` is the part of the input it is responsible for; `padded` is the core
// grown by `pad` pixels on each side, clipped to the image when border is zero, or
// allowed past the edge (to be mirrored) otherwise. Cores cover the image exactly once.
struct Tile {
  Rect core;
  Rect padded;
};

// Splits a width x height image into tiles of at most `tile` pixels a side (0 = one
// tile). `clip_to_image` keeps padded rects inside the image (zero-border mode).
// With `multiple` > 1 (a window-attention network's window) padded rects start on
// multiples of it and their sides are multiples of it where the image allows (at least
// `pad` of context kept; see pad_rect). A pad over the longer side is clamped to it.
// Throws Error(Usage) for negative sizes.
std::vector<Tile> plan_tiles(int width, int height, int tile, int pad, bool clip_to_image, int multiple = 1);

// The padded rect of one core whose tiles are at most max_w x max_h: grown by `pad` on
// each side to a uniform size (so tiles batch); with `clip_to_image` shifted inwards at
// the image edge instead of leaving it (more real context, never outside the image).
// With `multiple` > 1 the rect is aligned to that grid: it starts on a multiple, its
// size is a multiple, and in zero-border mode a rect at the right/bottom edge runs to the
// image's end instead (so it may be larger than the others, and not a multiple).
Rect pad_rect(const Rect& core, int max_w, int max_h, int pad, int width, int height, bool clip_to_image,
             int multiple = 1);

// `tile` rounded down to a multiple of `multiple` (at least one multiple); 0 stays 0.
int round_tile(int tile, int multiple);


}  // namespace yamiro
