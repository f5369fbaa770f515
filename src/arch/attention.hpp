// Building blocks the transformer networks share (SwinIR, DAT): linear layers that run as
// 1x1 convolutions on the CPU, LayerNorm, 3x3 convolutions and the 1conv/3conv residual
// convolution. Internal to src/arch/; every function is a pure function of its arguments
// (thread-safe as far as LibTorch's ops are). Loaders throw std::out_of_range for a key
// the state dict lacks (detection has checked the layout before a network is built).
#pragma once
#include <string>
#include <vector>

#include "arch/network.hpp"

namespace yamiro::arch::attn {

struct Affine {  // nn.Linear and nn.LayerNorm parameters
  at::Tensor w, b;
  at::Tensor w1x1;  // CPU linear layers: the weight as a 1x1 convolution's
};

struct Conv {  // a square convolution with "same" padding (groups = in / weight.size(1))
  at::Tensor w, b;
  int64_t groups = 1;
  at::Tensor operator()(const at::Tensor& x) const { return at::conv2d(x, w, b, 1, w.size(2) / 2, 1, groups); }
};

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

// a [..., M, K] @ b [..., K, N] for many small products. On the CPU it runs as one grouped
// 1x1 convolution (oneDNN; group g: weight a_g [M, K], input b_g [K, 1 x N]) rather
// than LibTorch's batched GEMM, which goes to the reference BLAS in Debian's build. DAT-S
// shapes, 2 threads: window q.k^T [96 x 128x30 @ 30x128] 0.084 s against 0.43 s,
// attn.v 0.15 s against 0.34 s. Elsewhere at::matmul. The batch dimensions must match.
inline at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b) {
  if (!a.device().is_cpu()) return at::matmul(a, b);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1), g = a.numel() / (m * k);
  std::vector<int64_t> shape = a.sizes().vec();
  shape.back() = n;
  const std::vector<int64_t> one = {1, 1}, zero = {0, 0};
  const at::Tensor out = at::conv2d(b.reshape({1, g * k, 1, n}), a.reshape({g * m, k, 1, 1}), at::Tensor(), one, zero, one, g);
  return out.reshape(shape);
}

inline at::Tensor norm(const at::Tensor& x, const Affine& a) { return at::layer_norm(x, {a.w.size(0)}, a.w, a.b, 1e-5); }

inline Conv load_conv(const StateDict& sd, const std::string& key, const NetOptions& opt) {
  Conv c{to_device(sd.at(key + ".weight"), opt), to_device(sd.at(key + ".bias"), opt)};
  return c;
}

// A 2-D weight as nn.Linear's (with its 1x1-convolution view on the CPU), or a 1-D one
// as nn.LayerNorm's.
inline Affine load_affine(const StateDict& sd, const std::string& key, const NetOptions& opt, bool bias = true) {
  Affine a{to_device(sd.at(key + ".weight"), opt), {}, {}};
  if (bias) a.b = to_device(sd.at(key + ".bias"), opt);
  if (a.w.dim() == 2 && opt.device.is_cpu()) a.w1x1 = a.w.view({a.w.size(0), a.w.size(1), 1, 1});
  return a;
}

// resi_connection: "1conv" (one 3x3 conv) or "3conv" (3x3 to C/4, 1x1, 3x3 back, with
// LeakyReLU(0.2) between), as nn.Conv2d at `key` or nn.Sequential at key.0/.2/.4.
inline std::vector<Conv> load_residual(const StateDict& sd, const std::string& key, const NetOptions& opt) {
  if (sd.count(key + ".weight")) return {load_conv(sd, key, opt)};
  return {load_conv(sd, key + ".0", opt), load_conv(sd, key + ".2", opt), load_conv(sd, key + ".4", opt)};
}

inline at::Tensor residual_conv(const std::vector<Conv>& c, const at::Tensor& x) {
  if (c.size() == 1) return c[0](x);
  return c[2](at::leaky_relu(c[1](at::leaky_relu(c[0](x), 0.2)), 0.2));
}

}  // namespace yamiro::arch::attn
