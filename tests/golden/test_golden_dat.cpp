// DAT: detection from keys and shapes, the reference network's output to 1e-4 in fp32,
// the cost fields the detector fills, tiling (approximate: channel attention and the
// pooled interaction maps are image-global) and bf16. Fixtures in tests/data/dat come from
// tests/fixtures/make_dat.py (PyTorch, seeded random weights).
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

std::string dat_file(const std::string& name) { return data_file("dat/" + name); }

struct Case {
  std::string model;
  std::string ext;
  std::string format;
  int scale;
  int tile_multiple;
  std::map<std::string, int> hyper;
  std::map<std::string, std::string> options;
};

// What make_dat.py builds, as detection must read it back (weights stored in fp16). Group
// 1 of the x4 model has a single (spatial, shifted) block: its num_heads comes from the
// branches' position-bias MLP. The light model is the smallest whose position-bias MLP has
// more than one channel (embed_dim 64), so the bias table varies with the offset.
const Case kX4 = {"dat-x4-s2x8", ".pth", "pytorch", 4, 8,
                  {{"embed_dim", 32}, {"num_feat", 8}},
                  {{"upsampler", "pixelshuffle"}, {"resi_connection", "1conv"}, {"depths", "2,1"}, {"num_heads", "4,2"},
                   {"split_size", "2,8"}, {"expansion_factor", "1"}}};
const Case kLight = {"dat-light-x2-s2x4-c64", ".pth", "pytorch", 2, 4,
                     {{"embed_dim", 64}},
                     {{"upsampler", "pixelshuffledirect"}, {"resi_connection", "3conv"}, {"depths", "2"}, {"num_heads", "4"},
                      {"split_size", "2,4"}, {"expansion_factor", "1.5"}, {"qkv_bias", "false"}}};

Case safetensors(Case c) {
  c.ext = ".safetensors";
  c.format = "safetensors";
  return c;
}

const Model& x4() {
  static const Model m = load_model(dat_file("dat-x4-s2x8.pth"));
  return m;
}
const Model& light() {
  static const Model m = load_model(dat_file("dat-light-x2-s2x4-c64.pth"));
  return m;
}


void expect_model_error(const StateDict& w, const std::string& part) {
  try {
    detect_architecture(w);
    FAIL() << "detected a broken layout (" << part << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("found"), std::string::npos) << e.what();
  }
}

class DATGolden : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(DATGolden, DetectedAndMatchesReferenceInFp32) {
  const Case& c = GetParam();
  const Model m = load_model(dat_file(c.model + c.ext));
  EXPECT_EQ(m.format, c.format);
  EXPECT_EQ(m.info.arch, "DAT");
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.in_channels, 3);
  EXPECT_EQ(m.info.out_channels, 3);
  EXPECT_EQ(m.info.hyper, c.hyper);
  EXPECT_EQ(m.info.options, c.options);
  EXPECT_EQ(m.info.tile_multiple, c.tile_multiple);
  EXPECT_TRUE(m.info.fp16_unsafe);
  EXPECT_TRUE(m.info.global_reduction);
  Engine engine(m, exact_options());
  const PlanarImage out = engine.upscale(rgb18x20_input());
  ASSERT_EQ(out.width, 20 * c.scale);
  ASSERT_EQ(out.height, 18 * c.scale);
  const double diff = max_abs_diff(out.data, read_f32(dat_file("golden." + c.model + ".rgb18x20.f32")));
  std::printf("%s%s: max |diff| to PyTorch %.3g\n", c.model.c_str(), c.ext.c_str(), diff);
  EXPECT_LE(diff, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DATGolden, ::testing::Values(kX4, kLight, safetensors(kLight)), [](const auto& info) {
  std::string n = info.param.model + info.param.ext;
  for (auto& ch : n)
    if (ch == '-' || ch == '.') ch = '_';
  return n;
});

TEST(DAT, SummaryNamesTheHyperParameters) {
  EXPECT_EQ(light().info.summary(),
            "DAT x2 (embed_dim=64, depths=2, expansion_factor=1.5, num_heads=4, qkv_bias=false, resi_connection=3conv, "
            "split_size=2,4, upsampler=pixelshuffledirect)");
}

TEST(DAT, BaselineForwardGivesTheSameNumbers) {
  EngineOptions plain = exact_options();
  plain.baseline = true;
  const PlanarImage in = golden_input();
  for (const Model* m : {&x4(), &light()}) {
    const double d = max_abs_diff(run(*m, plain, in), run(*m, exact_options(), in));
    std::printf("%s: baseline vs in-place forward max |diff| %.3g\n", m->name.c_str(), d);
    EXPECT_LE(d, 1e-5);
  }
}

TEST(DAT, CostFieldsComeFromTheDetector) {
  // x4: C 32, windows 2x8 (N 16), SGFN hidden 32 (gate 16), depths 2,1, heads 4,2, 1conv,
  // pixelshuffle x4 with num_feat 8.
  const double c = 32, n = 16, g = 16;
  const double common = 4 * c * c + 9 * c + c * 2 + 2 + c * 2 * g + 9 * g + g * c;
  const double blocks = 3 * common + 2 * (2 * n * c) + 2 * c * c / 4;  // two spatial blocks, one channel block (4 heads)
  const double resi = 9 * c * c;
  const double up = 9 * c * 8 + 9 * 8 * 32 + 4 * 9 * 8 * 32 + 16 * 9 * 8 * 3;
  const double expected = 2 * (9 * 3 * c + 3 * resi + blocks + up);
  EXPECT_DOUBLE_EQ(x4().info.flops_per_px, expected);
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(x4().info), expected);
  EXPECT_GT(flops_per_input_pixel(light().info), 0);
  // The memory estimate is the detector's, and grows with the window.
  EXPECT_GT(x4().info.live_values_per_px, 18 * c);
  EXPECT_EQ(forward_bytes(x4().info, 4, 64, 64), static_cast<std::uint64_t>(std::ceil(x4().info.live_values_per_px)) * 64 * 64 * 4);
  ArchInfo wide = x4().info;
  wide.live_values_per_px *= 2;
  EXPECT_GT(forward_bytes(wide, 4, 64, 64), forward_bytes(x4().info, 4, 64, 64));
}

TEST(DAT, AutoTileRunsSmallImagesWholeAndBigOnesOnTheWindowGrid) {
  // Global reductions: --tile auto runs the image whole while it fits the memory budget.
  Engine automatic(x4(), tiled(-1, 16));
  EXPECT_EQ(automatic.tile_for(60, 48), 0);
  const PlanarImage in = golden_input();
  EXPECT_LE(max_abs_diff(run(x4(), tiled(-1, 16), in), run(x4(), exact_options(), in)), 1e-6);
  // Tiles, when there must be some, are whole windows (8 = the larger split side).
  Engine forced(x4(), tiled(30, 8));
  EXPECT_EQ(forced.tile_for(60, 48), 24);
  const int big = automatic.tile_for(40000, 30000);
  EXPECT_GT(big, 0);
  EXPECT_EQ(big % 8, 0);
}

TEST(DAT, TiledRunDriftIsBounded) {
  // Channel attention normalises q and k over all tokens, and the interaction module
  // pools the whole image: a tile sees its own statistics, so tiling is not exact (unlike
  // SwinIR on the window grid). The drift is measured and bounded here; the bounds are
  // the figures measured on these fixtures with some margin (tile 16 pad 8: x4 47.3 dB,
  // max |diff| 0.060; light 92.2 dB, 1.8e-4; the x4 model's random weights give outputs of
  // a wider range, about [-1.8, 2.8]). A tile plus its pad that covers the image is the
  // image: exact.
  struct Bound {
    const Model* m;
    double min_psnr, max_diff;
  };
  const PlanarImage in = golden_input();  // 60x48
  for (const Bound& b : {Bound{&x4(), 44.0, 0.1}, Bound{&light(), 85.0, 5e-4}}) {
    const auto whole = run(*b.m, exact_options(), in);
    const auto t16 = run(*b.m, tiled(16, 8), in);
    const double p16 = psnr(t16, whole), d16 = max_abs_diff(t16, whole);
    std::printf("%s on 60x48, tile 16 pad 8: PSNR to untiled %.1f dB, max |diff| %.3g\n", b.m->name.c_str(), p16, d16);
    EXPECT_GT(p16, b.min_psnr);
    EXPECT_LE(d16, b.max_diff);
    EXPECT_GT(d16, 0.0);  // not exact: the global statistics differ per tile
    EXPECT_EQ(max_abs_diff(run(*b.m, tiled(32, 16), in), whole), 0.0);  // 32 + 2 x 16 covers 60x48
    // Batched tiles equal single ones.
    EngineOptions batched = tiled(16, 8);
    batched.batch = 4;
    EXPECT_LE(max_abs_diff(run(*b.m, batched, in), t16), 1e-5);
  }
}

TEST(DAT, Bf16RunsCloseToFp32) {
  const PlanarImage in = rgb18x20_input();
  for (const Case& c : {kX4, kLight}) {
    const Model m = load_model(dat_file(c.model + c.ext));
    EngineOptions o = exact_options();
    o.precision = Precision::BF16;
    const auto out = run(m, o, in);
    const auto golden = read_f32(dat_file("golden." + c.model + ".rgb18x20.f32"));
    const double p = psnr(out, golden);
    std::printf("%s in bf16: PSNR to the fp32 reference %.1f dB, max |diff| %.3g\n", c.model.c_str(), p, max_abs_diff(out, golden));
    EXPECT_GT(p, 36.0);  // measured (emulated bf16, no AMX): 40.6 dB (x4), 55.9 dB (light)
  }
}

TEST(DAT, BrokenLayoutsAreNamedErrors) {
  const StateDict& sd = x4().weights;
  StateDict missing = sd;
  missing.erase("layers.0.blocks.1.attn.proj.weight");
  expect_model_error(missing, "layers.0.blocks.1.attn.proj.weight");
  StateDict no_bn = sd;
  no_bn.erase("layers.1.blocks.0.attn.spatial_interaction.1.running_var");
  expect_model_error(no_bn, "spatial_interaction.1.running_var");
  StateDict extra = sd;
  extra["layers.0.blocks.0.attn.extra"] = HostTensor{{1}, {0.f}};
  expect_model_error(extra, "not part of DAT");
  StateDict shape = sd;
  shape["layers.0.blocks.0.ffn.fc2.weight"] = HostTensor{{32, 15}, std::vector<float>(32 * 15)};
  expect_model_error(shape, "ffn.fc2.weight has shape [32,15], expected [32,16]");
  StateDict heads = sd;
  heads["layers.0.blocks.1.attn.temperature"] = HostTensor{{8, 1, 1}, std::vector<float>(8, 1.f)};
  expect_model_error(heads, "not half the channel blocks' 8");
  StateDict split = sd;  // group 1's window 4x8 (7 x 15 offsets) where group 0 has 2x8
  std::vector<float> offsets;
  for (int dy = -3; dy <= 3; ++dy)
    for (int dx = -7; dx <= 7; ++dx) offsets.insert(offsets.end(), {static_cast<float>(dy), static_cast<float>(dx)});
  split["layers.1.blocks.0.attn.attns.0.rpe_biases"] = HostTensor{{105, 2}, offsets};
  expect_model_error(split, "split_size [4,8] where earlier blocks have [2,8]");
  StateDict scrambled = sd;
  std::swap(scrambled["layers.0.blocks.0.attn.attns.1.rpe_biases"].values[1], scrambled["layers.0.blocks.0.attn.attns.1.rpe_biases"].values[3]);
  expect_model_error(scrambled, "is not the offset");
  StateDict mask = sd;  // a shift mask on a block the reference does not shift
  mask["layers.0.blocks.0.attn.attn_mask_0"] = HostTensor{{4, 16, 16}, std::vector<float>(4 * 16 * 16)};
  expect_model_error(mask, "non-shifted window");
  StateDict no_up = sd;
  for (const char* k : {"conv_before_upsample.0.weight", "conv_before_upsample.0.bias", "upsample.0.weight", "upsample.0.bias",
                        "upsample.2.weight", "upsample.2.bias", "conv_last.weight", "conv_last.bias"})
    no_up.erase(k);
  expect_model_error(no_up, "upsampler");
  StateDict gray = light().weights;
  gray["conv_first.weight"] = HostTensor{{64, 1, 3, 3}, std::vector<float>(64 * 9)};
  expect_model_error(gray, "1 input channels");
}
