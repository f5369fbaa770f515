// Pieces shared by the window-attention networks (SwinIR, HAT), beside arch/attention.hpp
// (linear, LayerNorm and conv layers, which this namespace re-exports): window partition
// and merge, the relative-position index of a window, the shifted-window mask and the
// reflection pad to a window multiple. Internal to src/arch; pure functions of
// their arguments (thread-safe), tensors on the caller's device unless said otherwise.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

#include "arch/attention.hpp"
#include "arch/network.hpp"
#include "yamiro/geometry.hpp"

namespace yamiro::arch::window {

// Linear, LayerNorm and convolution layers as the other transformer networks have them.
using attn::Affine;
using attn::Conv;
using attn::linear;
using attn::load_affine;
using attn::load_conv;
using attn::norm;

// Token (i, j) of a w x w window looks up row (dy + w-1) * (2w-1) + (dx + w-1) of the table
// (CPU, int64, [w*w * w*w]).
inline at::Tensor relative_index(int w) {
  const int n = w * w;
  std::vector<int64_t> idx(static_cast<std::size_t>(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      idx[static_cast<std::size_t>(i) * n + j] = (i / w - j / w + w - 1) * (2 * w - 1) + (i % w - j % w + w - 1);
  return at::tensor(idx, at::kLong);
}

// [B,H,W,C] -> [B*nW, w*w, C], windows row-major; and back.
inline at::Tensor to_windows(const at::Tensor& x, int64_t w) {
  const int64_t b = x.size(0), h = x.size(1), wd = x.size(2), c = x.size(3);
  return x.view({b, h / w, w, wd / w, w, c}).permute({0, 1, 3, 2, 4, 5}).reshape({-1, w * w, c});
}

inline at::Tensor from_windows(const at::Tensor& win, int64_t w, int64_t h, int64_t wd) {
  const int64_t c = win.size(2), b = win.size(0) / ((h / w) * (wd / w));
  return win.view({b, h / w, wd / w, w, w, c}).permute({0, 1, 3, 2, 4, 5}).reshape({b, h, wd, c});
}

// Shifted-window mask for an h x w feature map, shift ws/2: -100 between tokens that the
// cyclic shift brought together from different regions. CPU float [nW, N, N].
inline at::Tensor shift_mask(int64_t h, int64_t w, int64_t ws) {
  const int64_t shift = ws / 2;
  auto region = [&](int64_t i, int64_t n) -> int64_t { return i < n - ws ? 0 : (i < n - shift ? 1 : 2); };
  std::vector<float> label(static_cast<std::size_t>(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) label[y * w + x] = static_cast<float>(region(y, h) * 3 + region(x, w));
  const at::Tensor l = to_windows(at::tensor(label).view({1, h, w, 1}), ws).squeeze(-1);  // [nW, N]
  const at::Tensor diff = l.unsqueeze(1) - l.unsqueeze(2);
  return at::where(diff != 0, at::full({}, -100.0f), at::zeros({}));
}

// Right/bottom padding of [N,C,H,W] to a multiple of m, reflecting without repeating the edge
// (F.pad 'reflect'); also valid when the pad exceeds the image (tiny tiles).
inline at::Tensor pad_to_multiple(const at::Tensor& x, int m) {
  at::Tensor out = x;
  for (int dim = 2; dim <= 3; ++dim) {
    const int n = static_cast<int>(x.size(dim));
    const int padded = (n + m - 1) / m * m;
    if (padded == n) continue;
    std::vector<int64_t> idx(padded);
    for (int i = 0; i < padded; ++i) idx[i] = mirror_index(i, n);
    out = out.index_select(dim, at::tensor(idx, at::kLong).to(x.device()));
  }
  return out;
}

}  // namespace yamiro::arch::window
