// Conv3x3: weight transform at build time, block-parallel Winograd forward, and the
// direct at::conv2d path with the same epilogue for everything else.
#include "arch/winograd.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "arch/winograd_kernels.hpp"

namespace yamiro::arch {
namespace {

std::atomic<std::uint64_t> g_calls{0};

int64_t pad16(int64_t n) { return (n + wino::kLanes - 1) / wino::kLanes * wino::kLanes; }

// G of F(4x4, 3x3) with interpolation points 0, 1, -1, 2, -2 (and infinity).
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};

// U[p = 6i + j][ci][co] = (G g G^T)[i][j] for g = w[co][ci], computed in double.
at::Tensor transform_weights(const at::Tensor& w, int64_t cin_pad, int64_t cout_pad) {
  const at::Tensor wd = w.to(at::kDouble).contiguous();
  const int64_t cout = wd.size(0), cin = wd.size(1);
  at::Tensor u = at::zeros({wino::kPoints, cin_pad, cout_pad}, at::kFloat);
  const double* g = wd.data_ptr<double>();
  float* out = u.data_ptr<float>();
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t ci = 0; ci < cin; ++ci) {
      const double* k = g + (co * cin + ci) * 9;
      double t[6][3];  // G g
      for (int i = 0; i < 6; ++i)
        for (int b = 0; b < 3; ++b) t[i][b] = kG[i][0] * k[b] + kG[i][1] * k[3 + b] + kG[i][2] * k[6 + b];
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) {
          const double v = t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2];
          out[((i * 6 + j) * cin_pad + ci) * cout_pad + co] = static_cast<float>(v);
        }
    }
  return u;
}

at::Tensor padded(const at::Tensor& t, int64_t n) {
  at::Tensor p = at::zeros({n}, at::kFloat);
  p.narrow(0, 0, t.numel()).copy_(t.reshape({-1}));
  return p;
}

wino::Plane plane_of(const at::Tensor& t) {
  return {t.data_ptr<float>(), t.stride(0), t.stride(2), t.stride(3)};
}

// NHWC access needs channel stride 1; anything else is copied once to channels-last.
at::Tensor nhwc(const at::Tensor& t) {
  return t.stride(1) == 1 ? t : t.contiguous(at::MemoryFormat::ChannelsLast);
}

}  // namespace

namespace wino {

std::int64_t tiles_of(const Conv& c) {
  return static_cast<std::int64_t>(c.n) * ((c.h + kTileOut - 1) / kTileOut) * ((c.w + kTileOut - 1) / kTileOut);
}

std::size_t block_floats(const Conv& c, int block) {
  return static_cast<std::size_t>(kPoints) * block * (c.cin_pad + c.cout_pad);
}

int block_tiles(const Conv& c) {
  const std::size_t per24 = block_floats(c, 24) * sizeof(float);
  return 24 * static_cast<int>(std::clamp<std::size_t>((std::size_t{1} << 20) / per24, 1, 4));
}

}  // namespace wino

bool winograd_supported() {
  static const bool ok = wino::kernels_available();
  return ok;
}

std::uint64_t winograd_calls() { return g_calls.load(); }

Conv3x3::Conv3x3(at::Tensor w, at::Tensor b, bool winograd) : w_(std::move(w)), b_(std::move(b)) {
  cout_ = w_.size(0);
  cin_ = w_.size(1);
  // Few output channels (conv_last's 3) would waste most of a padded vector: stay direct.
  const bool fits = w_.dim() == 4 && w_.size(2) == 3 && w_.size(3) == 3 && cout_ >= 8;
  if (winograd && fits && winograd_supported() && w_.device().is_cpu() && w_.scalar_type() == at::kFloat) {
    cin_pad_ = pad16(cin_);
    cout_pad_ = pad16(cout_);
    u_ = transform_weights(w_, cin_pad_, cout_pad_);
    bias_ = padded(b_, cout_pad_);
  }
}

at::Tensor Conv3x3::direct(const at::Tensor& x, const Epilogue& e) const {
  at::Tensor y = at::conv2d(x, w_, b_, 1, 1);
  if (e.leaky_slope != 1.0f) at::leaky_relu_(y, e.leaky_slope);
  if (e.prelu.defined()) y = at::prelu(y, e.prelu);
  if (e.residual.defined()) {
    if (e.res_scale != 1.0f) y.mul_(e.res_scale);
    y.add_(e.residual);
  }
  return y;
}

at::Tensor Conv3x3::operator()(const at::Tensor& x, const Epilogue& e) const {
  if (!uses_winograd()) return direct(x, e);
  at::Tensor out = at::empty({x.size(0), cout_, x.size(2), x.size(3)}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
  winograd(x, out, e);
  return out;
}

void Conv3x3::into(const at::Tensor& x, const at::Tensor& out, const Epilogue& e) const {
  if (uses_winograd() && out.stride(1) == 1) return winograd(x, out, e);
  out.copy_(uses_winograd() ? (*this)(x, e) : direct(x, e));
}

void Conv3x3::winograd(const at::Tensor& x_any, const at::Tensor& out, const Epilogue& e) const {
  TORCH_CHECK(x_any.dim() == 4 && x_any.size(1) == cin_ && x_any.scalar_type() == at::kFloat && x_any.device().is_cpu(),
              "winograd conv: expected a [N,", cin_, ",H,W] fp32 CPU input");
  const at::Tensor x = nhwc(x_any);
  const std::vector<int64_t> shape = {x.size(0), cout_, x.size(2), x.size(3)};
  TORCH_CHECK(out.sizes() == shape && out.scalar_type() == at::kFloat && out.stride(1) == 1, "winograd conv: bad output view");
  TORCH_CHECK(!e.residual.defined() || e.residual.sizes() == shape, "winograd conv: residual shape differs from the output");
  at::Tensor prelu, residual;
  wino::Conv c;
  c.n = static_cast<int>(x.size(0));
  c.h = static_cast<int>(x.size(2));
  c.w = static_cast<int>(x.size(3));
  c.cin = static_cast<int>(cin_);
  c.cout = static_cast<int>(cout_);
  c.cin_pad = static_cast<int>(cin_pad_);
  c.cout_pad = static_cast<int>(cout_pad_);
  c.in = plane_of(x);
  c.out = plane_of(out);
  c.u = u_.data_ptr<float>();
  c.bias = bias_.data_ptr<float>();
  if (e.prelu.defined()) {
    prelu = e.prelu.numel() == 1 ? padded(e.prelu.expand({cout_}), cout_pad_) : padded(e.prelu, cout_pad_);
    c.prelu = prelu.data_ptr<float>();
  }
  c.slope = e.leaky_slope;
  if (e.residual.defined()) {
    residual = nhwc(e.residual);
    c.residual = plane_of(residual);
    c.res_scale = e.res_scale;
  }
  const int block = wino::block_tiles(c);
  const int64_t tiles = wino::tiles_of(c);
  const int64_t blocks = (tiles + block - 1) / block;
  const std::size_t floats = wino::block_floats(c, block);
  // Threads take blocks from a shared counter rather than fixed halves: on a shared
  // machine one thread is often descheduled, and the other would otherwise spin idle.
  std::atomic<int64_t> next{0};
  const int64_t workers = std::min<int64_t>(at::get_num_threads(), blocks);
  at::parallel_for(0, workers, 1, [&](int64_t, int64_t) {
    std::unique_ptr<float, decltype(&std::free)> scratch(
        static_cast<float*>(std::aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64)), &std::free);
    TORCH_CHECK(scratch, "winograd conv: out of memory for the scratch buffer");
    for (int64_t bl = next++; bl < blocks; bl = next++) {
      const int64_t first = bl * block;
      wino::run_block(c, first, static_cast<int>(std::min<int64_t>(block, tiles - first)), block, scratch.get());
    }
  });
  ++g_calls;
}

}  // namespace yamiro::arch
