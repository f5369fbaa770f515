#include "yamiro/tiling.hpp"

#include <algorithm>

#include "yamiro/error.hpp"

namespace yamiro {
namespace {

// Splits [0, n) into the fewest equal spans of at most `tile` (sizes differ by at most 1).
std::vector<std::pair<int, int>> split_axis(int n, int tile) {
  const int count = (tile <= 0 || tile >= n) ? 1 : (n + tile - 1) / tile;
  std::vector<std::pair<int, int>> spans;
  spans.reserve(count);
  const int base = n / count, extra = n % count;
  int start = 0;
  for (int i = 0; i < count; ++i) {
    const int len = base + (i < extra ? 1 : 0);
    spans.emplace_back(start, len);
    start += len;
  }
  return spans;
}

// The padded span of one core: a uniform length so that every tile has the same shape
// (tiles can then be batched). In zero-border mode it is shifted inwards at the image
// edge, which gives those tiles more real context instead of less.
std::pair<int, int> pad_span(int start, int max_len, int pad, int n, bool clip) {
  if (!clip) return {start - pad, max_len + 2 * pad};
  const int padded_len = static_cast<int>(std::min<long long>(n, max_len + 2LL * pad));
  const int padded_start = std::clamp(start - pad, 0, n - padded_len);
  return {padded_start, padded_len};
}

int floor_to(int v, int m) { return (v >= 0 ? v : v - m + 1) / m * m; }

// With a window of m: the padded span starts on a multiple of m, so a tile's windows
// fall where the whole image's windows fall and a tiled run converges to the untiled
// one; its length is a multiple of m that keeps at least `pad` on both sides. In
// zero-border mode a span that would leave the image is moved inwards by whole windows
// and runs to the image's end (the network pads that end as it pads the whole image).
std::pair<int, int> window_span(int start, int max_len, int pad, int n, bool clip, int m) {
  const int len = static_cast<int>((max_len + 2LL * pad + 2LL * m - 2) / m * m);
  int a = floor_to(start - pad, m);
  if (!clip) return {a, len};
  a = std::max(0, a);
  if (a + len <= n) return {a, len};
  a = std::max(0, floor_to(n - len, m));
  return {a, n - a};
}

}  // namespace

std::vector<Tile> plan_tiles(int width, int height, int tile, int pad, bool clip_to_image, int multiple) {
  if (width <= 0 || height <= 0 || tile < 0 || pad < 0)
    throw Error(ErrorKind::Usage, "invalid tile plan: image " + std::to_string(width) + "x" +
                                      std::to_string(height) + ", tile " + std::to_string(tile) +
                                      ", pad " + std::to_string(pad));
  // Context past the image's longer side adds nothing (zero border: the tile is the image
  // already; mirror: the image again), and tile + 2 * pad must not overflow an int.
  pad = std::min(pad, std::max(width, height));
  const auto xs = split_axis(width, tile);
  const auto ys = split_axis(height, tile);
  const int max_w = xs.front().second;  // the first span is the longest
  const int max_h = ys.front().second;
  std::vector<Tile> tiles;
  tiles.reserve(xs.size() * ys.size());
  for (const auto& [y, h] : ys)
    for (const auto& [x, w] : xs) {
      const Rect core{x, y, w, h};
      tiles.push_back(Tile{core, pad_rect(core, max_w, max_h, pad, width, height, clip_to_image, multiple)});
    }
  return tiles;
}

Rect pad_rect(const Rect& core, int max_w, int max_h, int pad, int width, int height, bool clip_to_image, int multiple) {
  pad = std::min(pad, std::max(width, height));  // as in plan_tiles
  if (multiple > 1) {
    const auto [px, pw] = window_span(core.x, max_w, pad, width, clip_to_image, multiple);
    const auto [py, ph] = window_span(core.y, max_h, pad, height, clip_to_image, multiple);
    return Rect{px, py, pw, ph};
  }
  const auto [px, pw] = pad_span(core.x, max_w, pad, width, clip_to_image);
  const auto [py, ph] = pad_span(core.y, max_h, pad, height, clip_to_image);
  return Rect{px, py, pw, ph};
}

int round_tile(int tile, int multiple) {
  if (tile <= 0 || multiple <= 1) return tile;
  return std::max(multiple, tile / multiple * multiple);
}

}  // namespace yamiro
