// Engine behaviour on the fixture networks: tiling, borders, OOM fallback, pixel paths.
#include <gtest/gtest.h>

#include <cmath>

#include "golden/fixtures.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

const Model& rrdb() {
  static const Model m = load_model(fixture("rrdb-x4-nb2-nf16-gc8.param"));
  return m;
}
const Model& compact() {
  static const Model m = load_model(fixture("compact-x4-nc4-nf16.param"));
  return m;
}

EngineOptions fp32_options(int tile, int pad) {
  EngineOptions o;
  o.device = test_device();
  o.precision = Precision::FP32;
  o.tile = tile;
  o.tile_pad = pad;
  return o;
}

std::vector<float> run(const Model& m, const EngineOptions& o) {
  Engine e(m, o);
  return e.upscale(golden_input()).data;
}

}  // namespace

TEST(Engine, TiledWithFullContextEqualsUntiled) {
  // A pad that reaches across the whole image gives every tile the full context.
  const auto whole = run(rrdb(), fp32_options(0, 0));
  EXPECT_LE(max_abs_diff(run(rrdb(), fp32_options(16, 64)), whole), 1e-5);
  EXPECT_LE(max_abs_diff(run(compact(), fp32_options(16, 64)), run(compact(), fp32_options(0, 0))), 1e-5);
}

TEST(Engine, TiledConvergesToUntiledAsPadGrows) {
  const auto whole = run(rrdb(), fp32_options(0, 0));
  const double d0 = max_abs_diff(run(rrdb(), fp32_options(16, 0)), whole);
  const double d4 = max_abs_diff(run(rrdb(), fp32_options(16, 4)), whole);
  const double d12 = max_abs_diff(run(rrdb(), fp32_options(16, 12)), whole);
  EXPECT_GT(d0, 1e-4);  // no context: visible seams
  EXPECT_LT(d4, d0);
  EXPECT_LT(d12, d4);
}

TEST(Engine, CompactTilesNeedOnlyItsReceptiveField) {
  // 6 convolutions of 3x3 see 6 input pixels around each output: a pad of 6 is the full context.
  EXPECT_LE(max_abs_diff(run(compact(), fp32_options(16, 6)), run(compact(), fp32_options(0, 0))), 1e-5);
}

TEST(Engine, BatchedTilesEqualSingleTiles) {
  EngineOptions o = fp32_options(16, 8);
  const auto single = run(rrdb(), o);
  o.batch = 4;
  EXPECT_LE(max_abs_diff(run(rrdb(), o), single), 1e-5);
}

TEST(Engine, MirrorBorderChangesOnlyTheEdges) {
  EngineOptions o = fp32_options(0, 8);
  const auto zero = run(compact(), o);
  o.border = Border::Mirror;
  const auto mirror = run(compact(), o);
  EXPECT_GT(max_abs_diff(zero, mirror), 1e-3);
  // The interior (receptive field 6 input px = 24 output px from the edge) is the same.
  const int w = 240, h = 192;
  double inner = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 24; y < h - 24; ++y)
      for (int x = 24; x < w - 24; ++x) {
        const std::size_t i = (static_cast<std::size_t>(c) * h + y) * w + x;
        inner = std::max(inner, static_cast<double>(std::fabs(zero[i] - mirror[i])));
      }
  EXPECT_LE(inner, 1e-5);
}

TEST(Engine, OutOfMemoryHalvesTheTileAndRedoesIt) {
  EngineOptions o = fp32_options(64, 8);
  const auto direct = run(rrdb(), fp32_options(32, 8));
  o.test_oom_above = 50;  // the whole 60x48 image "does not fit"; 30x24 cores + 8 pad do
  Progress p;
  Engine e(rrdb(), o);
  const auto out = e.upscale(golden_input(), &p).data;
  // Same cores as a direct tile-32 plan, so the same pixels.
  EXPECT_LE(max_abs_diff(out, direct), 1e-5);
  EXPECT_EQ(p.tiles_done.load(), p.tiles_total.load());
  EXPECT_EQ(e.tile_for(1000, 1000), 32);  // later images start at the smaller tile
}

TEST(Engine, OutOfMemoryAtTheFloorIsADeviceError) {
  EngineOptions o = fp32_options(64, 8);
  o.test_oom_above = 8;
  Engine e(rrdb(), o);
  try {
    e.upscale(golden_input());
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::Device);
  }
}

TEST(Engine, CancelStopsWithInterrupted) {
  Engine e(rrdb(), fp32_options(16, 4));
  Progress p;
  p.on_tile = [&](int done, int) { if (done == 2) p.cancel = true; };
  try {
    e.upscale(golden_input(), &p);
    FAIL() << "expected cancellation";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::Interrupted);
  }
  EXPECT_EQ(p.tiles_done.load(), 2);
}

TEST(Engine, EightBitPathIsTheQuantisedFloatPath) {
  Engine e(compact(), fp32_options(24, 8));
  const auto f = e.upscale(golden_input()).data;
  const Image u8 = e.upscale(golden_input_u8());
  ASSERT_EQ(u8.width, 240);
  ASSERT_EQ(u8.height, 192);
  ASSERT_EQ(u8.channels, 3);
  int off = 0;
  for (int y = 0; y < 192; ++y)
    for (int x = 0; x < 240; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = f[(static_cast<std::size_t>(c) * 192 + y) * 240 + x];
        const int expect = static_cast<int>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
        if (std::abs(expect - u8.data[(static_cast<std::size_t>(y) * 240 + x) * 3 + c]) > 0) ++off;
      }
  EXPECT_LE(off, 20);  // rounding ties only
}

TEST(Engine, GrayStaysGrayAndAlphaGoesThroughTheNetwork) {
  Engine e(compact(), fp32_options(0, 0));
  const Image rgb = golden_input_u8();
  Image gray(60, 48, 1, 1), rgba(60, 48, 4, 1);
  for (std::size_t i = 0; i < 60u * 48u; ++i) {
    gray.data[i] = rgb.data[i * 3 + 1];
    for (int c = 0; c < 3; ++c) rgba.data[i * 4 + c] = rgb.data[i * 3 + c];
    rgba.data[i * 4 + 3] = static_cast<std::uint8_t>(i % 60 < 30 ? 255 : 0);
  }
  const Image g = e.upscale(gray);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.width, 240);
  const Image a = e.upscale(rgba);
  ASSERT_EQ(a.channels, 4);
  const Image plain = e.upscale(rgb);
  // Colour planes equal the RGB run; alpha keeps its left-opaque/right-clear split.
  int diff = 0;
  for (std::size_t i = 0; i < 240u * 192u; ++i)
    for (int c = 0; c < 3; ++c) diff += a.data[i * 4 + c] != plain.data[i * 3 + c];
  EXPECT_EQ(diff, 0);
  EXPECT_GT(a.data[(100 * 240 + 20) * 4 + 3], 200);
  EXPECT_LT(a.data[(100 * 240 + 220) * 4 + 3], 55);
}

TEST(Engine, SixteenBitStaysSixteenBit) {
  Engine e(compact(), fp32_options(0, 0));
  const Image rgb8 = golden_input_u8();
  Image rgb16(60, 48, 3, 2);
  auto* p = reinterpret_cast<std::uint16_t*>(rgb16.data.data());
  for (std::size_t i = 0; i < rgb8.data.size(); ++i) p[i] = static_cast<std::uint16_t>(rgb8.data[i] * 257);
  const Image out16 = e.upscale(rgb16);
  const Image out8 = e.upscale(rgb8);
  ASSERT_EQ(out16.depth_bytes, 2);
  const auto* q = reinterpret_cast<const std::uint16_t*>(out16.data.data());
  int far = 0;
  for (std::size_t i = 0; i < out8.data.size(); ++i) far += std::abs(q[i] / 257.0 - out8.data[i]) > 1.0;
  EXPECT_EQ(far, 0);
}

TEST(Engine, Bf16IsCloseToFp32) {
  EngineOptions o = fp32_options(0, 0);
  const auto f32 = run(compact(), o);
  o.precision = Precision::BF16;
  const auto bf16 = run(compact(), o);
  EXPECT_GT(psnr(bf16, f32), 35.0);  // tiny random network; the real-model bar (45 dB) is in e2e
}

TEST(Engine, RejectsBadDevicesAndPrecisions) {
  EngineOptions o = fp32_options(0, 0);
  o.device = "tpu";
  EXPECT_THROW(Engine(compact(), o), Error);
  o.device = "cuda:99";
  try {
    Engine e(compact(), o);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::Device);
  }
  o.device = "cpu";
  o.precision = Precision::FP16;
  try {
    Engine e(compact(), o);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::Usage);
  }
}
