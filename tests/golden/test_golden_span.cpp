// SPAN: detection from keys and shapes, the reference network's output to 1e-4 in fp32
// (Conv3XC folded at load), tiling, and broken layouts. Fixtures in tests/data/span come
// from tests/fixtures/make_span.py (PyTorch, seeded random weights; their stored
// eval_conv is stale, so only a loader that folds the branches matches the goldens).
#include <gtest/gtest.h>

#include <cstdio>

#include "golden/fixtures.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/heuristics.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

std::string span_file(const std::string& name) { return data_file("span/" + name); }

struct Case {
  std::string model, ext, format;
  int scale;
  std::map<std::string, int> hyper;
  std::string norm;
};

// What make_span.py builds, as detection must read it back.
const Case kX4 = {"span-x4-f5", ".pth", "pytorch", 4, {{"feature_channels", 5}, {"num_blocks", 6}}, "true"};
const Case kX2 = {"span-x2-f4-nonorm", ".pth", "pytorch", 2, {{"feature_channels", 4}, {"num_blocks", 6}}, "false"};

Case safetensors(Case c) {
  c.ext = ".safetensors";
  c.format = "safetensors";
  return c;
}

const Model& x4() {
  static const Model m = load_model(span_file("span-x4-f5.pth"));
  return m;
}


void expect_model_error(const StateDict& w, const std::string& part) {
  try {
    detect_architecture(w);
    FAIL() << "detected a broken layout (" << part << ")";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(what.find(part), std::string::npos) << what;
    EXPECT_NE(what.find("found"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

class SpanGolden : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(SpanGolden, DetectedAndMatchesReferenceInFp32) {
  const Case& c = GetParam();
  const Model m = load_model(span_file(c.model + c.ext));
  EXPECT_EQ(m.format, c.format);
  EXPECT_EQ(m.info.arch, "SPAN");
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.in_channels, 3);
  EXPECT_EQ(m.info.out_channels, 3);
  EXPECT_EQ(m.info.hyper, c.hyper);
  EXPECT_EQ(m.info.options, (std::map<std::string, std::string>{{"norm", c.norm}}));
  EXPECT_EQ(m.info.tile_multiple, 1);
  EXPECT_FALSE(m.info.global_reduction);
  EXPECT_FALSE(m.info.fp16_unsafe);
  EXPECT_EQ(m.info.cpu_tile, 256);
  Engine engine(m, exact_options());
  const PlanarImage out = engine.upscale(rgb18x20_input());
  ASSERT_EQ(out.width, 20 * c.scale);
  ASSERT_EQ(out.height, 18 * c.scale);
  const double diff = max_abs_diff(out.data, read_f32(span_file("golden." + c.model + ".rgb18x20.f32")));
  std::printf("%s%s: max |diff| to PyTorch %.3g (winograd %d)\n", c.model.c_str(), c.ext.c_str(), diff, engine.setup().winograd);
  EXPECT_LE(diff, 1e-4);
  // The textbook forward (bench --baseline) is the same network.
  EngineOptions plain = exact_options();
  plain.baseline = true;
  const double dplain = max_abs_diff(run(m, plain, rgb18x20_input()), out.data);
  EXPECT_LE(dplain, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SpanGolden, ::testing::Values(kX4, safetensors(kX4), kX2, safetensors(kX2)),
                         [](const auto& info) {
                           std::string n = info.param.model + info.param.ext;
                           for (auto& ch : n)
                             if (ch == '-' || ch == '.') ch = '_';
                           return n;
                         });

TEST(Span, SummaryAndCostFigures) {
  const ArchInfo& a = x4().info;
  EXPECT_EQ(a.summary(), "SPAN x4 (feature_channels=5, num_blocks=6, norm=true)");
  // conv_1 (3->5), 6 blocks x 3 folded 3x3 (5->5), conv_2, conv_cat (20->5, 1x1), upsampler (5->48).
  const double macs = 9 * 3 * 5 + 6 * 3 * 9 * 25 + 9 * 25 + 20 * 5 + 9 * 5 * 48;
  EXPECT_DOUBLE_EQ(a.flops_per_px, 2 * macs);
  EXPECT_DOUBLE_EQ(a.live_values_per_px, 9 * 5 + 3 + 2 * 48);
}

TEST(Span, TiledRunIsExactWithPadBeyondTheReceptiveField) {
  // Six blocks: 3 * 6 + 3 = 21 input pixels of context; a pad of 21 sees all of it.
  const PlanarImage in = golden_input();  // 60x48
  const auto whole = run(x4(), exact_options(), in);
  const double exact = max_abs_diff(run(x4(), tiled(12, 21), in), whole);
  const double p_default = psnr(run(x4(), tiled(16, kDefaultTilePad), in), whole);
  const double p4 = psnr(run(x4(), tiled(16, 4), in), whole);
  std::printf("SPAN x4 on 60x48: max |diff| to untiled %.3g (tile 12, pad 21); tile 16: PSNR %.1f dB (pad %d), %.1f dB (pad 4)\n", exact,
              p_default, kDefaultTilePad, p4);
  EXPECT_LE(exact, 1e-5);
  EXPECT_GT(p_default, 60.0);
  EXPECT_GT(p_default, p4 + 10);
  EngineOptions batched = tiled(12, 21);
  batched.batch = 4;
  EXPECT_LE(max_abs_diff(run(x4(), batched, in), whole), 1e-5);
}

TEST(Span, Bf16StaysCloseToFp32) {
  EngineOptions o = exact_options();
  o.precision = Precision::BF16;
  const double p = psnr(run(x4(), o, rgb18x20_input()), read_f32(span_file("golden.span-x4-f5.rgb18x20.f32")));
  std::printf("SPAN x4 bf16: PSNR to the fp32 reference %.1f dB\n", p);
  EXPECT_GT(p, 30.0);
}

TEST(Span, TheStoredEvalConvIsNotUsed) {
  // The reference re-folds eval_conv from the branches before every forward: a file whose
  // eval_conv holds anything else runs the same.
  Model m = x4();
  for (auto& [key, t] : m.weights)
    if (key.find("eval_conv") != std::string::npos) std::fill(t.values.begin(), t.values.end(), 7.0f);
  EXPECT_LE(max_abs_diff(run(m, exact_options(), rgb18x20_input()), run(x4(), exact_options(), rgb18x20_input())), 0.0);
}

TEST(Span, BrokenLayoutsAreNamedErrors) {
  const StateDict& sd = x4().weights;
  StateDict missing = sd;
  missing.erase("block_3.c2_r.conv.1.bias");
  expect_model_error(missing, "block_3.c2_r.conv.1.bias");
  StateDict shape = sd;
  shape["block_2.c1_r.conv.1.weight"] = HostTensor{{10, 10, 1, 1}, std::vector<float>(100)};
  expect_model_error(shape, "block_2.c1_r.conv.1.weight has shape [10,10,1,1], expected [10,10,3,3]");
  StateDict extra = sd;
  extra["block_1.c1_r.extra"] = HostTensor{{1}, {0.f}};
  expect_model_error(extra, "not part of SPAN");
  StateDict gray = sd;
  gray["upsampler.0.weight"] = HostTensor{{16, 5, 3, 3}, std::vector<float>(16 * 45)};
  gray["upsampler.0.bias"] = HostTensor{{16}, std::vector<float>(16)};
  expect_model_error(gray, "not 3 * scale^2");
  StateDict cat = sd;
  cat["conv_cat.weight"] = HostTensor{{5, 15, 1, 1}, std::vector<float>(75)};
  expect_model_error(cat, "conv_cat.weight has shape [5,15,1,1], expected [5,20,1,1]");
  StateDict no_conv2 = sd;
  for (auto it = no_conv2.begin(); it != no_conv2.end();)
    it = it->first.rfind("conv_2.", 0) == 0 ? no_conv2.erase(it) : std::next(it);
  expect_model_error(no_conv2, "SPAN without conv_2.sk.weight");
  StateDict truncated = sd;
  truncated["conv_1.sk.bias"].values.pop_back();
  expect_model_error(truncated, "conv_1.sk.bias holds the wrong number of values");
}

TEST(Span, OnCudaInFp32AndFp16) {
  if (device_profile().cuda_devices == 0) GTEST_SKIP() << "no CUDA device here (this check runs on the GPU machine)";
  for (const Case& c : {kX4, kX2}) {
    const Model m = load_model(span_file(c.model + c.ext));
    const auto golden = read_f32(span_file("golden." + c.model + ".rgb18x20.f32"));
    EngineOptions o = exact_options();
    o.device = "cuda";
    // cuDNN convolutions may use TF32 (LibTorch's default), hence not the CPU's 1e-4.
    const double d32 = max_abs_diff(run(m, o, rgb18x20_input()), golden);
    o.precision = Precision::FP16;
    const double p16 = psnr(run(m, o, rgb18x20_input()), golden);
    std::printf("%s on CUDA: fp32 max |diff| %.3g; fp16 PSNR %.1f dB\n", c.model.c_str(), d32, p16);
    EXPECT_LE(d32, 1e-2);
    EXPECT_GT(p16, 35.0);
  }
}

TEST(Span, NeosrMeanParameterIsTheMeanUsed) {
  // neosr keeps the mean as a frozen parameter ("mean" [1,3,1,1] in the file).
  Model m = x4();
  m.weights["mean"] = HostTensor{{1, 3, 1, 1}, {0.4488f, 0.4371f, 0.4040f}};
  m.info = detect_architecture(m.weights);
  const auto golden = read_f32(span_file("golden.span-x4-f5.rgb18x20.f32"));
  EXPECT_LE(max_abs_diff(run(m, exact_options(), rgb18x20_input()), golden), 1e-4);
  m.weights["mean"].values = {0.5f, 0.5f, 0.5f};
  EXPECT_GT(max_abs_diff(run(m, exact_options(), rgb18x20_input()), golden), 1e-3);
  m.weights["mean"] = HostTensor{{3}, {0.5f, 0.5f, 0.5f}};
  expect_model_error(m.weights, "mean has shape [3], expected [1,3,1,1]");
}
