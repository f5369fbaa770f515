// Winograd F(4x4, 3x3) kernels on raw NHWC float buffers (internal; no LibTorch here so
// the file that implements them can be built with AVX-512 flags without the PCH).
//
// Layouts: activations are NHWC with channel stride 1 and arbitrary pixel/row/batch
// strides (so a channel slice of a wider buffer can be read or written in place).
// Transformed weights U are [36][cin_pad][cout_pad], cin_pad/cout_pad multiples of 16,
// zero-padded. Per block of tiles the kernels use a scratch of block_floats() floats.
#pragma once
#include <cstddef>
#include <cstdint>

namespace yamiro::arch::wino {

inline constexpr int kLanes = 16;   // floats per AVX-512 register; channel padding unit
inline constexpr int kTileOut = 4;  // output pixels per tile side
inline constexpr int kTileIn = 6;   // input pixels per tile side
inline constexpr int kPoints = 36;  // transformed points per tile

struct Plane {
  float* data = nullptr;
  std::int64_t sn = 0, sh = 0, sw = 0;  // strides in floats; channel stride is 1
};

struct Conv {
  int n = 0, h = 0, w = 0;  // output size equals input size (stride 1, pad 1)
  int cin = 0, cout = 0, cin_pad = 0, cout_pad = 0;
  Plane in, out, residual;  // residual.data may be null
  const float* u = nullptr;      // [36][cin_pad][cout_pad]
  const float* bias = nullptr;   // [cout_pad]
  const float* prelu = nullptr;  // [cout_pad] per-channel slopes, or null
  float slope = 1.0f;            // negative-side slope when prelu is null (1 = identity)
  float res_scale = 1.0f;        // out = act(conv + bias) * res_scale + residual, with a residual
};

// These three are defined in winograd.cpp, not in the AVX-512 file: nothing shared
// (inline or template) may be compiled with AVX-512 flags, or the linker could pick that
// copy for callers on any CPU.
std::int64_t tiles_of(const Conv& c);
// Tiles per block: a multiple of 24 (every micro-kernel height divides it) sized so the
// block's transformed input and products stay in about 1 MiB of L2.
int block_tiles(const Conv& c);
std::size_t block_floats(const Conv& c, int block);

// True when this build has the AVX-512 kernels and the CPU runs them.
bool kernels_available();

// Convolves tiles [first, first + count) (count <= block) into c.out, using `scratch`
// (block_floats(c, block) floats, 64-byte aligned). Thread-safe for disjoint tile ranges.
void run_block(const Conv& c, std::int64_t first, int count, int block, float* scratch);

}  // namespace yamiro::arch::wino
