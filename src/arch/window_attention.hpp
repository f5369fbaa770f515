// Pieces shared by the window-attention networks (SwinIR, HAT): linear and LayerNorm layers,
// window partition and merge, the relative-position index of a window, the shifted-window
// mask and the reflection pad to a window multiple. Internal to src/arch; pure functions of
// their arguments (thread-safe), tensors on the caller's device unless said otherwise.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

#include "arch/network.hpp"
#include "yamiro/geometry.hpp"

namespace yamiro::arch::window {

struct Affine {  // nn.Linear and nn.LayerNorm parameters
  at::Tensor w, b;
  at::Tensor w1x1;  // CPU linear layers: the weight as a 1x1 convolution's
};

struct Conv {
  at::Tensor w, b;
  at::Tensor operator()(const at::Tensor& x) const { return at::conv2d(x, w, b, 1, w.size(2) / 2); }
};

inline Conv load_conv(const StateDict& sd, const std::string& key, const NetOptions& opt) {
  return Conv{to_device(sd.at(key + ".weight"), opt), to_device(sd.at(key + ".bias"), opt)};
}

inline Affine load_affine(const StateDict& sd, const std::string& key, const NetOptions& opt, bool bias = true) {
  Affine a{to_device(sd.at(key + ".weight"), opt), {}, {}};
  if (bias) a.b = to_device(sd.at(key + ".bias"), opt);
  if (a.w.dim() == 2 && opt.device.is_cpu()) a.w1x1 = a.w.view({a.w.size(0), a.w.size(1), 1, 1});
  return a;
}

// A linear layer over the last dimension. On the CPU it runs as a 1x1 convolution over a
// channels-last view of the same memory, which oneDNN computes; at::linear would use the
// BLAS that LibTorch was built against, and Debian's LibTorch gets the reference BLAS
// unless OpenBLAS is installed (SwinIR-M on 60x48, one thread: 26.1 CPU s with
// at::linear, 7.3 s this way).
// The M rows go in as 16 images of M/16 pixels where they divide: LibTorch 1.13 hands a
// single-image 1x1 convolution back to the BLAS path when it runs on one thread.
inline at::Tensor linear(const at::Tensor& x, const Affine& a) {
  if (!a.w1x1.defined()) return at::linear(x, a.w, a.b);
  const int64_t c = x.size(-1), rows = x.numel() / c, images = rows % 16 == 0 ? 16 : 1;
  const at::Tensor pixels = x.contiguous().view({images, 1, rows / images, c}).permute({0, 3, 1, 2});  // [n, C, 1, M/n]
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = a.w.size(0);
  return at::conv2d(pixels, a.w1x1, a.b).permute({0, 2, 3, 1}).reshape(shape);
}

inline at::Tensor norm(const at::Tensor& x, const Affine& a) { return at::layer_norm(x, {a.w.size(0)}, a.w, a.b, 1e-5); }

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
