// AVX-512 Winograd F(4x4, 3x3): input transform (B^T d B), 36 GEMMs per block of tiles,
// output transform (A^T m A) with bias, activation and residual fused. Built with
// -mavx512f on x86-64 only; elsewhere kernels_available() is false and nothing runs.
#include "arch/winograd_kernels.hpp"

// No standard-library templates here (see winograd_kernels.hpp): their instantiations
// would be built for AVX-512 and might be shared with other files.
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace yamiro::arch::wino {

#if !defined(__AVX512F__)

bool kernels_available() { return false; }
void run_block(const Conv&, std::int64_t, int, int, float*) {}

#else

bool kernels_available() { return __builtin_cpu_supports("avx512f"); }

namespace {

using V = __m512;

// B^T applied to 6 values spaced `s` apart (rows or columns of a 6x6 tile), in place.
inline void bt6(V* d, int s) {
  const V d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
  const V four = _mm512_set1_ps(4.0f), mfour = _mm512_set1_ps(-4.0f), mfive = _mm512_set1_ps(-5.0f),
          two = _mm512_set1_ps(2.0f);
  const V a = _mm512_fmadd_ps(mfour, d2, d4);  // d4 - 4 d2
  const V b = _mm512_fmadd_ps(mfour, d1, d3);  // d3 - 4 d1
  const V c = _mm512_sub_ps(d4, d2);
  const V e = _mm512_mul_ps(two, _mm512_sub_ps(d3, d1));
  d[0] = _mm512_fmadd_ps(four, d0, _mm512_fmadd_ps(mfive, d2, d4));
  d[s] = _mm512_add_ps(a, b);
  d[2 * s] = _mm512_sub_ps(a, b);
  d[3 * s] = _mm512_add_ps(c, e);
  d[4 * s] = _mm512_sub_ps(c, e);
  d[5 * s] = _mm512_fmadd_ps(four, d1, _mm512_fmadd_ps(mfive, d3, d5));
}

// A^T applied to 6 values spaced `s` apart, giving 4 values spaced `so` apart in `o`.
inline void at6(const V* m, int s, V* o, int so) {
  const V s12 = _mm512_add_ps(m[s], m[2 * s]), d12 = _mm512_sub_ps(m[s], m[2 * s]);
  const V s34 = _mm512_add_ps(m[3 * s], m[4 * s]), d34 = _mm512_sub_ps(m[3 * s], m[4 * s]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
  o[so] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
  o[2 * so] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
  o[3 * so] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12), m[5 * s]);
}

inline __mmask16 lane_mask(int valid) { return valid >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1u); }

struct TilePos {
  int n, y, x;  // batch index and top-left output pixel
};

inline TilePos tile_pos(const Conv& c, std::int64_t t) {
  const int tw = (c.w + kTileOut - 1) / kTileOut, th = (c.h + kTileOut - 1) / kTileOut;
  const std::int64_t per_image = static_cast<std::int64_t>(tw) * th;
  const int n = static_cast<int>(t / per_image);
  const int r = static_cast<int>(t % per_image);
  return {n, (r / tw) * kTileOut, (r % tw) * kTileOut};
}

// v: [36][block][cin_pad]; tile `row` of the block.
void input_transform(const Conv& c, std::int64_t t, int row, int block, float* v) {
  const TilePos p = tile_pos(c, t);
  const float* base = c.in.data + p.n * c.in.sn;
  const std::int64_t point_stride = static_cast<std::int64_t>(block) * c.cin_pad;
  float* dst = v + static_cast<std::int64_t>(row) * c.cin_pad;
  bool inside[kTileIn][kTileIn];
  for (int i = 0; i < kTileIn; ++i)
    for (int j = 0; j < kTileIn; ++j) {
      const int y = p.y - 1 + i, x = p.x - 1 + j;
      inside[i][j] = y >= 0 && y < c.h && x >= 0 && x < c.w;
    }
  for (int cb = 0; cb < c.cin_pad; cb += kLanes) {
    const __mmask16 m = lane_mask(c.cin - cb);
    V d[kPoints];
    for (int i = 0; i < kTileIn; ++i)
      for (int j = 0; j < kTileIn; ++j)
        d[i * kTileIn + j] = inside[i][j] ? _mm512_maskz_loadu_ps(m, base + (p.y - 1 + i) * c.in.sh + (p.x - 1 + j) * c.in.sw + cb)
                                          : _mm512_setzero_ps();
    for (int j = 0; j < kTileIn; ++j) bt6(d + j, kTileIn);  // columns: B^T d
    for (int i = 0; i < kTileIn; ++i) bt6(d + i * kTileIn, 1);  // rows: (B^T d) B
    for (int k = 0; k < kPoints; ++k) _mm512_store_ps(dst + k * point_stride + cb, d[k]);
  }
}

// C[MR x 16NV] = A[MR x K] * B[K x 16NV]; A rows lda apart, B and C rows ldb/ldc apart.
template <int NV, int MR>
inline void micro(const float* a, int lda, const float* b, int ldb, float* cc, int ldc, int k) {
  V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int q = 0; q < k; ++q) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + static_cast<std::int64_t>(q) * ldb + v * kLanes);
    for (int i = 0; i < MR; ++i) {
      const V av = _mm512_set1_ps(a[i * lda + q]);
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) _mm512_store_ps(cc + i * ldc + v * kLanes, acc[i][v]);
}

template <int NV, int MR>
void gemm_cols(const float* a, const float* b, float* cc, int rows, int col, const Conv& c) {
  for (int r = 0; r < rows; r += MR)
    micro<NV, MR>(a + static_cast<std::int64_t>(r) * c.cin_pad, c.cin_pad, b + col, c.cout_pad,
                  cc + static_cast<std::int64_t>(r) * c.cout_pad + col, c.cout_pad, c.cin_pad);
}

// m[p] = v[p] * u[p] for the 36 points; rows is a multiple of 24.
void products(const Conv& c, const float* v, float* m, int rows, int block) {
  const std::int64_t vs = static_cast<std::int64_t>(block) * c.cin_pad, ms = static_cast<std::int64_t>(block) * c.cout_pad;
  const std::int64_t us = static_cast<std::int64_t>(c.cin_pad) * c.cout_pad;
  for (int p = 0; p < kPoints; ++p) {
    const float* a = v + p * vs;
    const float* b = c.u + p * us;
    float* cc = m + p * ms;
    int col = 0;
    for (; col + 64 <= c.cout_pad; col += 64) gemm_cols<4, 6>(a, b, cc, rows, col, c);
    switch (c.cout_pad - col) {
      case 48: gemm_cols<3, 8>(a, b, cc, rows, col, c); break;
      case 32: gemm_cols<2, 12>(a, b, cc, rows, col, c); break;
      case 16: gemm_cols<1, 24>(a, b, cc, rows, col, c); break;
      default: break;
    }
  }
}

// m: [36][block][cout_pad]; writes the 4x4 outputs of tile `row` with the epilogue.
void output_transform(const Conv& c, std::int64_t t, int row, int block, const float* m) {
  const TilePos p = tile_pos(c, t);
  const std::int64_t point_stride = static_cast<std::int64_t>(block) * c.cout_pad;
  const float* src = m + static_cast<std::int64_t>(row) * c.cout_pad;
  const int ny = c.h - p.y < kTileOut ? c.h - p.y : kTileOut, nx = c.w - p.x < kTileOut ? c.w - p.x : kTileOut;
  const V res_scale = _mm512_set1_ps(c.res_scale);
  for (int cb = 0; cb < c.cout_pad; cb += kLanes) {
    const __mmask16 mask = lane_mask(c.cout - cb);
    if (c.cout - cb <= 0) break;
    V d[kPoints], r[kTileOut * kTileIn], o[kTileOut * kTileOut];
    for (int k = 0; k < kPoints; ++k) d[k] = _mm512_load_ps(src + k * point_stride + cb);
    for (int j = 0; j < kTileIn; ++j) at6(d + j, kTileIn, r + j, kTileIn);           // columns: A^T m
    for (int i = 0; i < kTileOut; ++i) at6(r + i * kTileIn, 1, o + i * kTileOut, 1);  // rows: (A^T m) A
    const V bias = _mm512_load_ps(c.bias + cb);
    const V slope = c.prelu ? _mm512_load_ps(c.prelu + cb) : _mm512_set1_ps(c.slope);
    const bool act = c.prelu || c.slope != 1.0f;
    for (int i = 0; i < ny; ++i) {
      float* out = c.out.data + p.n * c.out.sn + (p.y + i) * c.out.sh + p.x * c.out.sw + cb;
      const float* res = c.residual.data ? c.residual.data + p.n * c.residual.sn + (p.y + i) * c.residual.sh +
                                               p.x * c.residual.sw + cb
                                         : nullptr;
      for (int j = 0; j < nx; ++j) {
        V y = _mm512_add_ps(o[i * kTileOut + j], bias);
        if (act) {
          const __mmask16 neg = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ);
          y = _mm512_mask_mul_ps(y, neg, y, slope);
        }
        if (res) y = _mm512_fmadd_ps(y, res_scale, _mm512_maskz_loadu_ps(mask, res + j * c.residual.sw));
        _mm512_mask_storeu_ps(out + j * c.out.sw, mask, y);
      }
    }
  }
}

}  // namespace

void run_block(const Conv& c, std::int64_t first, int count, int block, float* scratch) {
  float* v = scratch;
  float* m = scratch + static_cast<std::size_t>(kPoints) * block * c.cin_pad;
  const int rows = (count + 23) / 24 * 24;
  for (int r = 0; r < count; ++r) input_transform(c, first + r, r, block, v);
  if (rows > count) {
    // Unused rows of the last block: zeros, so no stale values (or denormals) are multiplied.
    const std::int64_t ps = static_cast<std::int64_t>(block) * c.cin_pad;
    for (int p = 0; p < kPoints; ++p)
      for (std::int64_t i = static_cast<std::int64_t>(count) * c.cin_pad; i < static_cast<std::int64_t>(rows) * c.cin_pad; i += kLanes)
        _mm512_store_ps(v + p * ps + i, _mm512_setzero_ps());
  }
  products(c, v, m, rows, block);
  for (int r = 0; r < count; ++r) output_transform(c, first + r, r, block, m);
}

#endif

}  // namespace yamiro::arch::wino
