// Winograd F(4x4,3x3) convolution against at::conv2d (fixed seed), its fused epilogues,
// writing into a channel slice, and that the engine takes the path in fp32 on the CPU.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "arch/winograd.hpp"
#include "golden/fixtures.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using yamiro::arch::Conv3x3;
using yamiro::arch::Epilogue;

namespace {

struct Shape {
  int64_t n, cin, cout, h, w;
};

at::Tensor weights(const Shape& s) { return at::randn({s.cout, s.cin, 3, 3}) * std::sqrt(2.0 / (9.0 * s.cin)); }

at::Tensor input(const Shape& s) {
  return at::rand({s.n, s.cin, s.h, s.w}).mul_(2).sub_(1).contiguous(at::MemoryFormat::ChannelsLast);
}

// Error relative to the reference's largest magnitude.
double rel_error(const at::Tensor& got, const at::Tensor& ref) {
  return (got.to(at::kDouble) - ref.to(at::kDouble)).abs().max().item<double>() /
         std::max(1e-6, ref.abs().max().item<double>());
}

// F(4x4,3x3) in fp32 loses a few bits in its transforms (points +-2, 1/24 in G):
// against an fp64 convolution it measured up to 1.1e-5 here (192->64), where direct
// fp32 at::conv2d measured 1.6e-6.
constexpr double kTolerance = 2e-5;

void skip_without_kernels() {
  if (!arch::winograd_supported()) GTEST_SKIP() << "no AVX-512 on this CPU/build: the Winograd path is not used here";
}

class WinogradShapes : public ::testing::TestWithParam<Shape> {};

}  // namespace

TEST_P(WinogradShapes, MatchesConv2d) {
  skip_without_kernels();
  const Shape s = GetParam();
  at::manual_seed(7);
  const at::Tensor w = weights(s), b = at::randn({s.cout}) * 0.1, x = input(s);
  const Conv3x3 conv(w, b, true);
  ASSERT_TRUE(conv.uses_winograd());
  const auto calls = arch::winograd_calls();
  const at::Tensor got = conv(x);
  EXPECT_EQ(arch::winograd_calls(), calls + 1);
  const at::Tensor ref = at::conv2d(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble), 1, 1);
  ASSERT_EQ(got.sizes(), ref.sizes());
  EXPECT_LE(rel_error(got, ref), kTolerance) << s.cin << "->" << s.cout << " " << s.h << "x" << s.w;
  // NCHW input gives the same result (copied to channels-last inside).
  EXPECT_LE(rel_error(conv(x.contiguous()), ref), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Channels, WinogradShapes,
                         ::testing::Values(Shape{2, 3, 64, 37, 23}, Shape{2, 64, 32, 37, 23}, Shape{1, 192, 64, 23, 37},
                                           Shape{2, 64, 48, 37, 23}, Shape{1, 64, 64, 64, 64}, Shape{1, 16, 8, 5, 7},
                                           Shape{1, 24, 16, 1, 1}, Shape{2, 12, 24, 4, 9}));

TEST(Winograd, FusedEpiloguesMatchAtenOps) {
  skip_without_kernels();
  at::manual_seed(11);
  const Shape s{2, 64, 48, 19, 26};
  const at::Tensor w = weights(s), b = at::randn({s.cout}) * 0.1, x = input(s);
  const at::Tensor prelu = at::rand({s.cout}) * 0.5, res = at::randn({s.n, s.cout, s.h, s.w});
  const Conv3x3 conv(w, b, true), direct(w, b, false);
  ASSERT_FALSE(direct.uses_winograd());
  const at::Tensor ref = at::conv2d(x, w, b, 1, 1);
  EXPECT_LE(rel_error(conv(x, Epilogue{0.2f, {}, {}, 1.0f}), at::leaky_relu(ref, 0.2)), kTolerance);
  EXPECT_LE(rel_error(conv(x, Epilogue{1.0f, prelu, {}, 1.0f}), at::prelu(ref, prelu)), kTolerance);
  const at::Tensor want = at::leaky_relu(ref, 0.2) * 0.2 + res;
  EXPECT_LE(rel_error(conv(x, Epilogue{0.2f, {}, res, 0.2f}), want), kTolerance);
  // The direct path applies the same epilogue with ATen ops.
  EXPECT_LE(rel_error(direct(x, Epilogue{0.2f, {}, res, 0.2f}), want), 1e-6);
}

TEST(Winograd, WritesIntoAChannelSliceOnly) {
  skip_without_kernels();
  at::manual_seed(3);
  const Shape s{2, 40, 8, 13, 11};
  const at::Tensor w = weights(s), b = at::randn({s.cout}), x = input(s);
  const at::Tensor buf = at::full({s.n, 56, s.h, s.w}, 5.0f).contiguous(at::MemoryFormat::ChannelsLast);
  const auto calls = arch::winograd_calls();
  Conv3x3(w, b, true).into(x, buf.narrow(1, 40, 8), Epilogue{0.2f, {}, {}, 1.0f});
  EXPECT_EQ(arch::winograd_calls(), calls + 1);  // in place, no temporary conv2d
  EXPECT_LE(rel_error(buf.narrow(1, 40, 8), at::leaky_relu(at::conv2d(x, w, b, 1, 1), 0.2)), kTolerance);
  EXPECT_TRUE(buf.narrow(1, 0, 40).eq(5.0f).all().item<bool>());
  EXPECT_TRUE(buf.narrow(1, 48, 8).eq(5.0f).all().item<bool>());
}

TEST(Winograd, FewOutputChannelsStayDirect) {
  at::manual_seed(5);
  const at::Tensor w = at::randn({3, 64, 3, 3}), b = at::randn({3}), x = at::randn({1, 64, 9, 9});
  const Conv3x3 last(w, b, true);
  EXPECT_FALSE(last.uses_winograd());
  const auto calls = arch::winograd_calls();
  EXPECT_TRUE(last(x).equal(at::conv2d(x, w, b, 1, 1)));
  EXPECT_EQ(arch::winograd_calls(), calls);
}

TEST(Winograd, EngineUsesItOnlyForFp32OnTheCpu) {
  const Model m = load_model(test::fixture("compact-x4-nc4-nf16.pth"));
  EngineOptions o = test::exact_options();
  EXPECT_EQ(Engine(m, o).setup().winograd, arch::winograd_supported());
  o.winograd = false;
  EXPECT_FALSE(Engine(m, o).setup().winograd);
  o.winograd = true;
  o.baseline = true;
  EXPECT_FALSE(Engine(m, o).setup().winograd);
  o.baseline = false;
  o.precision = Precision::BF16;
  EXPECT_FALSE(Engine(m, o).setup().winograd);
  if (!arch::winograd_supported()) GTEST_SKIP() << "no AVX-512: the rest needs the Winograd kernels";
  o.precision = Precision::FP32;
  Engine e(m, o);
  const auto calls = arch::winograd_calls();
  const auto out = e.upscale(test::golden_input());
  EXPECT_EQ(arch::winograd_calls(), calls + 6);  // all six convs of the compact net
  const auto golden = test::read_f32(test::fixture("golden.compact-x4-nc4-nf16.rgb48x60.f32"));
  EXPECT_LE(test::max_abs_diff(out.data, golden), 1e-4);
}

TEST(Winograd, EveryGoldenFixtureStillMatchesInFp32) {
  if (!arch::winograd_supported()) GTEST_SKIP() << "no AVX-512: the golden tests already cover the direct path";
  for (const std::string name : {"rrdb-x4-nb2-nf16-gc8", "rrdb-x2-nb1-nf16-gc8", "compact-x4-nc4-nf16", "compact-x2-nc2-nf8"}) {
    const Model m = load_model(test::fixture(name + ".pth"));
    const auto golden = test::read_f32(test::fixture("golden." + name + ".rgb48x60.f32"));
    EngineOptions o = test::exact_options();
    o.device = "cpu";  // Winograd is the CPU's fp32 path, whatever YAMIRO_TEST_DEVICE says
    const auto calls = arch::winograd_calls();
    const double wino = test::max_abs_diff(Engine(m, o).upscale(test::golden_input()).data, golden);
    EXPECT_GT(arch::winograd_calls(), calls) << name;
    o.winograd = false;
    const double direct = test::max_abs_diff(Engine(m, o).upscale(test::golden_input()).data, golden);
    EXPECT_LE(wino, 1e-4) << name;
    char text[64];
    std::snprintf(text, sizeof text, "winograd %.3g, direct %.3g", wino, direct);
    RecordProperty(name, text);  // max |diff| to the golden, in --gtest_output=xml
  }
}

// The real networks (when fetched into the model cache): Winograd against the direct path
// on the golden photo crop, in output units (1.0 = white).
TEST(Winograd, RealNetworksStayCloseToDirect) {
  if (!arch::winograd_supported()) GTEST_SKIP() << "no AVX-512";
  const char* home = std::getenv("HOME");
  for (const std::string name : {"realesrgan-x4fast", "realesrgan-x4plus"}) {
    if (!home || !std::ifstream(std::string(home) + "/.cache/yamiro/models/" + name + ".param")) {
      std::printf("skipping %s: not in ~/.cache/yamiro/models (scripts/fetch-models.sh)\n", name.c_str());
      continue;
    }
    const Model m = load_model(name);
    EngineOptions o = test::exact_options();
    const auto wino = Engine(m, o).upscale(test::golden_input()).data;
    o.winograd = false;
    const double diff = test::max_abs_diff(wino, Engine(m, o).upscale(test::golden_input()).data);
    EXPECT_LE(diff, 1e-4) << name;
    char text[64];
    std::snprintf(text, sizeof text, "max |winograd - direct| %.3g", diff);
    RecordProperty(name, text);
  }
}
