// 3x3 stride-1 pad-1 convolution with an optional fused epilogue, run as Winograd
// F(4x4, 3x3) on CPUs with AVX-512 in fp32 (4x fewer multiplies than direct), else as
// at::conv2d followed by the same epilogue in ATen ops (internal; networks only).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace yamiro::arch {

// What follows the convolution: y = act(conv(x) + bias), then y * res_scale + residual
// when a residual is given. act is LeakyReLU(slope) or PReLU(per-channel weights).
struct Epilogue {
  float leaky_slope = 1.0f;  // 1 = no LeakyReLU
  at::Tensor prelu;          // [cout] PReLU weights, or undefined
  at::Tensor residual;       // [N,cout,H,W], or undefined
  float res_scale = 1.0f;
};

class Conv3x3 {
 public:
  Conv3x3() = default;
  // w [cout,cin,3,3] and b [cout] as the network holds them. With `winograd`, and when
  // winograd_supported() and w is fp32 on the CPU, the weights are transformed once here.
  Conv3x3(at::Tensor w, at::Tensor b, bool winograd);

  // Returns epilogue(conv(x)); x is [N,cin,H,W]. The Winograd path returns channels-last.
  at::Tensor operator()(const at::Tensor& x, const Epilogue& e = {}) const;
  // Writes epilogue(conv(x)) into `out` (a [N,cout,H,W] view, e.g. a channel slice).
  void into(const at::Tensor& x, const at::Tensor& out, const Epilogue& e = {}) const;

  bool uses_winograd() const { return u_.defined(); }

 private:
  at::Tensor direct(const at::Tensor& x, const Epilogue& e) const;
  void winograd(const at::Tensor& x, const at::Tensor& out, const Epilogue& e) const;

  at::Tensor w_, b_;
  at::Tensor u_, bias_;  // Winograd: [36,cin_pad,cout_pad] transformed weights, padded bias
  int64_t cin_ = 0, cout_ = 0, cin_pad_ = 0, cout_pad_ = 0;
};

// True when this binary has the AVX-512 Winograd kernels and this CPU can run them.
bool winograd_supported();

// Number of Winograd convolutions run so far in this process (for tests). Thread-safe.
std::uint64_t winograd_calls();

}  // namespace yamiro::arch
