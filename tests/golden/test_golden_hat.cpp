// HAT: detection from keys and shapes, the reference network's output to 1e-4 in fp32 through
// .pth and .safetensors, the tiling drift its image-global channel attention causes, bf16,
// and named errors for broken layouts. Fixtures in tests/data/hat come from
// tests/fixtures/make_hat.py (PyTorch, seeded random weights).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <iterator>

#include "golden/fixtures.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/heuristics.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

std::string hat_file(const std::string& name) { return data_file("hat/" + name); }

struct Case {
  std::string model;
  std::string ext;
  std::string format;
  int scale;
  std::map<std::string, int> hyper;
  std::map<std::string, std::string> options;
};

// What make_hat.py builds, as detection must read it back.
const Case kX4 = {"hat-x4-w4", ".pth", "pytorch", 4,
                  {{"embed_dim", 12}, {"window_size", 4}, {"overlap_window", 6}, {"num_feat", 8}, {"compress_ratio", 3}, {"squeeze_factor", 6}},
                  {{"upsampler", "pixelshuffle"}, {"resi_connection", "1conv"}, {"depths", "2,2"}, {"num_heads", "2,3"},
                   {"mlp_ratio", "2"}, {"overlap_ratio", "0.5"}, {"conv_scale", "0.01"}}};
const Case kX2 = {"hat-x2-w8-identity", ".pth", "pytorch", 2,
                  {{"embed_dim", 16}, {"window_size", 8}, {"overlap_window", 10}, {"num_feat", 8}, {"compress_ratio", 4}, {"squeeze_factor", 4}},
                  {{"upsampler", "pixelshuffle"}, {"resi_connection", "identity"}, {"depths", "2,1"}, {"num_heads", "4,2"},
                   {"mlp_ratio", "1.5"}, {"overlap_ratio", "0.25"}, {"conv_scale", "0.01"}, {"qkv_bias", "false"}}};

Case with_ext(Case c, const std::string& ext, const std::string& format) {
  c.ext = ext;
  c.format = format;
  return c;
}

const Model& x4() {
  static const Model m = load_model(hat_file("hat-x4-w4.pth"));
  return m;
}


void expect_model_error(const StateDict& w, const std::string& part) {
  try {
    detect_architecture(w);
    ADD_FAILURE() << "detected a broken layout (expected: " << part << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    const std::string what = e.what();
    EXPECT_NE(what.find(part), std::string::npos) << what;
    EXPECT_NE(what.find("found"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

class HATGolden : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(HATGolden, DetectedAndMatchesReferenceInFp32) {
  const Case& c = GetParam();
  const Model m = load_model(hat_file(c.model + c.ext));
  EXPECT_EQ(m.format, c.format);
  EXPECT_EQ(m.info.arch, "HAT");
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.in_channels, 3);
  EXPECT_EQ(m.info.out_channels, 3);
  EXPECT_EQ(m.info.hyper, c.hyper);
  EXPECT_EQ(m.info.options, c.options);
  EXPECT_EQ(m.info.tile_multiple, c.hyper.at("window_size"));
  EXPECT_TRUE(m.info.fp16_unsafe);
  EXPECT_TRUE(m.info.global_reduction);
  EXPECT_GT(m.info.live_values_per_px, 0);
  Engine engine(m, exact_options());
  const PlanarImage out = engine.upscale(rgb18x20_input());
  ASSERT_EQ(out.width, 20 * c.scale);
  ASSERT_EQ(out.height, 18 * c.scale);
  const double diff = max_abs_diff(out.data, read_f32(hat_file("golden." + c.model + ".rgb18x20.f32")));
  std::printf("%s%s: max |diff| to PyTorch %.3g\n", c.model.c_str(), c.ext.c_str(), diff);
  EXPECT_LE(diff, 1e-4);
}

// x4: .pth wrapped in params_ema, .safetensors with the index buffers; x2: .pth wrapped in
// params, .safetensors without the buffers (recomputed).
INSTANTIATE_TEST_SUITE_P(Fixtures, HATGolden,
                         ::testing::Values(kX4, with_ext(kX4, ".safetensors", "safetensors"), kX2,
                                           with_ext(kX2, ".safetensors", "safetensors")),
                         [](const auto& info) {
                           std::string n = info.param.model + info.param.ext;
                           for (auto& ch : n)
                             if (ch == '-' || ch == '.') ch = '_';
                           return n;
                         });

TEST(HAT, SummaryNamesTheHyperParameters) {
  EXPECT_EQ(x4().info.summary(),
            "HAT x4 (compress_ratio=3, embed_dim=12, num_feat=8, overlap_window=6, squeeze_factor=6, window_size=4, "
            "conv_scale=0.01, depths=2,2, mlp_ratio=2, num_heads=2,3, overlap_ratio=0.5, resi_connection=1conv, "
            "upsampler=pixelshuffle)");
}

TEST(HAT, FlopsCountTheBlocksAndTheUpsampler) {
  // embed 12, window 4 (N=16), OCAB window 6 (36 keys), mlp 24, CAB 4 channels, 2 groups of
  // 2 blocks, 1conv, pixelshuffle x4 with num_feat 8.
  const double lin = 3 * 12 * 12 + 12 * 12 + 2 * 12 * 24;  // qkv, proj, mlp
  const double hab = lin + 2 * 16 * 12 + 2 * 9 * 12 * 4;  // q.k, attn.v; the CAB's convs
  const double ocab = lin + 2 * 36 * 12;
  const double convs = 9 * 3 * 12 + 3 * 9 * 12 * 12;      // conv_first, two group convs, conv_after_body
  const double up = 9 * 12 * 8 + 9 * 8 * 32 + 4 * 9 * 8 * 32 + 16 * 9 * 8 * 3;
  EXPECT_DOUBLE_EQ(x4().info.flops_per_px, 2 * (4 * hab + 2 * ocab + convs + up));
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(x4().info), x4().info.flops_per_px);
  // The memory estimate uses the detector's live values.
  EXPECT_EQ(forward_bytes(x4().info, 4, 10, 10), static_cast<std::uint64_t>(std::ceil(x4().info.live_values_per_px)) * 400);
}

TEST(HAT, PlainForwardGivesTheSameNumbers) {
  EngineOptions plain = exact_options();
  plain.baseline = true;
  const PlanarImage in = rgb18x20_input();
  for (const Case& c : {kX4, kX2}) {
    const Model m = load_model(hat_file(c.model + c.ext));
    const double d = max_abs_diff(run(m, plain, in), run(m, exact_options(), in));
    std::printf("%s: plain vs fast max |diff| %.3g\n", c.model.c_str(), d);
    EXPECT_LE(d, 1e-5);
  }
}

TEST(HAT, TilesAreWholeWindowsAndAutoRunsSmallImagesWhole) {
  Engine e(x4(), tiled(30, 12));
  EXPECT_EQ(e.tile_for(60, 48) % 4, 0);
  // --tile auto: the CAB's pooling sees the whole image, so a small image runs whole...
  const Model& m = x4();
  Engine automatic(m, tiled(-1, 12));
  EXPECT_EQ(automatic.tile_for(60, 48), 0);
  const PlanarImage in = rgb18x20_input();
  EXPECT_EQ(run(m, tiled(-1, 12), in), run(m, exact_options(), in));
  // ...and one too large for the memory budget is tiled on the window grid.
  const int t = automatic.tile_for(20000, 20000);
  EXPECT_GT(t, 0);
  EXPECT_EQ(t % 4, 0);
}

TEST(HAT, TiledRunDriftIsBounded) {
  // Every CAB pools over its tile, not the whole image, so a tiled run is not exact (unlike
  // SwinIR's, whose difference is only the context beyond the pad). The CAB term is scaled by
  // conv_scale (0.01), so the drift is small, and it shrinks with the pad as a tile's means
  // approach the image's. Tiles on the window grid (60x48, tile 24).
  const PlanarImage in = golden_input();  // 60x48
  const auto whole = run(x4(), exact_options(), in);
  const auto pad8 = run(x4(), tiled(24, 8), in);
  const double p4 = psnr(run(x4(), tiled(24, 4), in), whole), p8 = psnr(pad8, whole), p12 = psnr(run(x4(), tiled(24, 12), in), whole);
  std::printf("hat-x4-w4 on 60x48, tile 24: PSNR to untiled %.1f dB (pad 4), %.1f dB (pad 8), %.1f dB (pad 12); max |diff| at pad 8 %.3g\n",
              p4, p8, p12, max_abs_diff(pad8, whole));
  EXPECT_GT(p4, 30.0);
  EXPECT_GT(p8, p4 + 5);
  EXPECT_GT(p12, p8 + 3);
  EXPECT_LT(p12, 90.0);  // not exact: the CAB means differ
  // The same network without its CAB term (conv_scale 0) is local: what remains is only the
  // context beyond the pad. At pad 12 that is nearly gone, and the CAB's part shows.
  Model local = x4();
  local.info.options["conv_scale"] = "0";
  const double l12 = psnr(run(local, tiled(24, 12), in), run(local, exact_options(), in));
  std::printf("  without the CAB term (conv_scale 0), pad 12: %.1f dB\n", l12);
  EXPECT_GT(l12, p12 + 4);  // measured: 77.9 vs 70.2 dB
  const Model m2 = load_model(hat_file(kX2.model + kX2.ext));
  const double q8 = psnr(run(m2, tiled(24, 8), in), run(m2, exact_options(), in));
  std::printf("hat-x2-w8-identity on 60x48, tile 24 pad 8: PSNR to untiled %.1f dB\n", q8);
  EXPECT_GT(q8, 45.0);
  // Batched tiles equal single ones.
  EngineOptions batched = tiled(24, 8);
  batched.batch = 4;
  EXPECT_LE(max_abs_diff(run(x4(), batched, in), pad8), 1e-5);
}

TEST(HAT, Bf16RunsCloseToFp32) {
  const PlanarImage in = rgb18x20_input();
  for (const Case& c : {kX4, kX2}) {
    const Model m = load_model(hat_file(c.model + c.ext));
    EngineOptions o = exact_options();
    o.precision = Precision::BF16;
    const auto out = run(m, o, in);
    const auto golden = read_f32(hat_file("golden." + c.model + ".rgb18x20.f32"));
    const double p = psnr(out, golden), d = max_abs_diff(out, golden);
    std::printf("%s bf16: PSNR to the fp32 reference %.1f dB, max |diff| %.3g\n", c.model.c_str(), p, d);
    EXPECT_GT(p, 35.0);
  }
}

TEST(HAT, BrokenLayoutsAreNamedErrors) {
  const StateDict& sd = x4().weights;
  StateDict missing = sd;
  missing.erase("layers.1.residual_group.overlap_attn.proj.weight");
  expect_model_error(missing, "overlap_attn.proj.weight");
  StateDict cab = sd;
  cab["layers.0.residual_group.blocks.1.conv_block.cab.0.weight"] = HostTensor{{6, 12, 3, 3}, std::vector<float>(6 * 12 * 9)};
  expect_model_error(cab, "cab.0's width");
  StateDict extra = sd;
  extra["layers.0.residual_group.blocks.0.attn.extra"] = HostTensor{{1}, {0.f}};
  expect_model_error(extra, "not part of HAT");
  StateDict table = sd;
  table["layers.0.residual_group.blocks.1.attn.relative_position_bias_table"] = HostTensor{{48, 2}, std::vector<float>(96)};
  expect_model_error(table, "not a square");
  // An OCAB window of 7 for window 4: the reference's unfold cannot run it.
  StateDict odd = sd;
  odd["layers.0.residual_group.overlap_attn.relative_position_bias_table"] = HostTensor{{100, 2}, std::vector<float>(200)};
  expect_model_error(odd, "ow - ws even");
  StateDict index = sd;
  index.at("relative_position_index_OCA").values[5] += 1;
  expect_model_error(index, "relative_position_index_OCA differs");
  StateDict resi = sd;
  resi.erase("layers.1.conv.weight");
  resi.erase("layers.1.conv.bias");
  expect_model_error(resi, "identity where earlier groups use 1conv");
  StateDict heads = sd;
  heads["layers.1.residual_group.overlap_attn.relative_position_bias_table"] = HostTensor{{81, 2}, std::vector<float>(162)};
  expect_model_error(heads, "head count");
  StateDict no_up = sd;
  no_up.erase("upsample.0.weight");
  expect_model_error(no_up, "pixelshuffle upsampler");
  StateDict ape = sd;
  ape["absolute_pos_embed"] = HostTensor{{1, 16, 12}, std::vector<float>(192)};
  expect_model_error(ape, "ape");
  // SwinIR keys alone are still SwinIR, not HAT.
  StateDict swin = sd;
  for (auto it = swin.begin(); it != swin.end();)
    it = it->first.find("conv_block") != std::string::npos || it->first.find("overlap_attn") != std::string::npos ? swin.erase(it) : std::next(it);
  try {
    detect_architecture(swin);
    ADD_FAILURE() << "a HAT without CABs and OCABs was detected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SwinIR"), std::string::npos) << e.what();
  }
}

TEST(HAT, OnCudaInFp32AndBf16) {
  if (device_profile().cuda_devices == 0) GTEST_SKIP() << "no CUDA device here (this check runs on the GPU machine)";
  const PlanarImage in = rgb18x20_input();
  for (const Case& c : {kX4, kX2}) {
    const Model m = load_model(hat_file(c.model + c.ext));
    const auto golden = read_f32(hat_file("golden." + c.model + ".rgb18x20.f32"));
    EngineOptions o = exact_options();
    o.device = "cuda";
    // cuDNN convolutions may use TF32 (LibTorch's default), hence not the CPU's 1e-4.
    const double d32 = max_abs_diff(run(m, o, in), golden);
    o.precision = Precision::BF16;
    const double p16 = psnr(run(m, o, in), golden);
    std::printf("%s on CUDA: fp32 max |diff| %.3g; bf16 PSNR %.1f dB\n", c.model.c_str(), d32, p16);
    EXPECT_LE(d32, 1e-2);
    EXPECT_GT(p16, 35.0);
  }
}
