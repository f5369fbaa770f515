// SwinIR: detection from keys and shapes, the reference network's output to 1e-4 in fp32,
// and tiling on the window grid. Fixtures in tests/data/swinir come from
// tests/fixtures/make_swinir.py (PyTorch, seeded random weights).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "golden/fixtures.hpp"
#include "temp_dir.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"
#include "yamiro/heuristics.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

std::string swinir_file(const std::string& name) { return data_file("swinir/" + name); }

struct Case {
  std::string model;
  std::string ext;
  std::string format;
  int scale;
  std::map<std::string, int> hyper;
  std::map<std::string, std::string> options;
};

// What make_swinir.py builds, as detection must read it back.
const Case kClassical = {"swinir-classical-x4-w8", ".pth", "pytorch", 4,
                         {{"embed_dim", 16}, {"window_size", 8}, {"num_feat", 8}},
                         {{"upsampler", "pixelshuffle"}, {"resi_connection", "1conv"}, {"depths", "2"}, {"num_heads", "2"}, {"mlp_ratio", "2"}}};
const Case kLight = {"swinir-light-x2-w4", ".pth", "pytorch", 2,
                     {{"embed_dim", 12}, {"window_size", 4}},
                     {{"upsampler", "pixelshuffledirect"}, {"resi_connection", "1conv"}, {"depths", "2,2"}, {"num_heads", "2,3"},
                      {"mlp_ratio", "2"}, {"qkv_bias", "false"}}};
const Case kReal = {"swinir-real-x4-w4-3conv", ".pth", "pytorch", 4,
                    {{"embed_dim", 16}, {"window_size", 4}, {"num_feat", 8}},
                    {{"upsampler", "nearest+conv"}, {"resi_connection", "3conv"}, {"depths", "2,2"}, {"num_heads", "2,4"}, {"mlp_ratio", "1.5"}}};

Case with_ext(Case c, const std::string& ext, const std::string& format) {
  c.ext = ext;
  c.format = format;
  return c;
}

class SwinIRGolden : public ::testing::TestWithParam<Case> {};

const Model& classical() {
  static const Model m = load_model(swinir_file("swinir-classical-x4-w8.pth"));
  return m;
}


}  // namespace

TEST_P(SwinIRGolden, DetectedAndMatchesReferenceInFp32) {
  const Case& c = GetParam();
  const Model m = load_model(swinir_file(c.model + c.ext));
  EXPECT_EQ(m.format, c.format);
  EXPECT_EQ(m.info.arch, "SwinIR");
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.in_channels, 3);
  EXPECT_EQ(m.info.out_channels, 3);
  EXPECT_EQ(m.info.hyper, c.hyper);
  EXPECT_EQ(m.info.options, c.options);
  EXPECT_EQ(m.info.tile_multiple, c.hyper.at("window_size"));
  Engine engine(m, exact_options());
  const PlanarImage out = engine.upscale(rgb18x20_input());
  ASSERT_EQ(out.width, 20 * c.scale);
  ASSERT_EQ(out.height, 18 * c.scale);
  const double diff = max_abs_diff(out.data, read_f32(swinir_file("golden." + c.model + ".rgb18x20.f32")));
  std::printf("%s%s: max |diff| to PyTorch %.3g\n", c.model.c_str(), c.ext.c_str(), diff);
  EXPECT_LE(diff, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SwinIRGolden,
                         ::testing::Values(kClassical, with_ext(kClassical, ".safetensors", "safetensors"), kLight, kReal,
                                           with_ext(kReal, ".safetensors", "safetensors")),
                         [](const auto& info) {
                           std::string n = info.param.model + info.param.ext;
                           for (auto& ch : n)
                             if (ch == '-' || ch == '.') ch = '_';
                           return n;
                         });

TEST(SwinIR, SummaryNamesTheHyperParameters) {
  EXPECT_EQ(classical().info.summary(),
            "SwinIR x4 (embed_dim=16, num_feat=8, window_size=8, depths=2, mlp_ratio=2, num_heads=2, resi_connection=1conv, "
            "upsampler=pixelshuffle)");
}

TEST(SwinIR, TilesAreWholeWindows) {
  Engine e(classical(), tiled(30, 12));
  EXPECT_EQ(e.tile_for(60, 48), 24);
  Engine tiny(classical(), tiled(5, 12));
  EXPECT_EQ(tiny.tile_for(60, 48), 8);
  // --tile auto on a large image: the CPU's preferred tile, still whole windows.
  Engine automatic(classical(), tiled(-1, 12));
  const int t = automatic.tile_for(4000, 3000);
  EXPECT_GT(t, 0);
  EXPECT_EQ(t % 8, 0);
  // The memory estimate (from the detector) counts each window's attention matrices:
  // 2 x heads x window^2 values per token, here 2 x 2 x 64.
  EXPECT_GE(classical().info.live_values_per_px, 2 * 2 * 64);
  EXPECT_EQ(forward_bytes(classical().info, 4, 64, 64),
            64ull * 64 * static_cast<std::uint64_t>(std::ceil(classical().info.live_values_per_px)) * 4);
  EXPECT_TRUE(classical().info.fp16_unsafe);
}

TEST(SwinIR, TiledRunConvergesToUntiled) {
  // On the window grid, a tile's windows are the whole image's windows: the only
  // difference is context beyond the pad, and that shrinks as the pad grows.
  const PlanarImage in = golden_input();  // 60x48
  const auto whole = run(classical(), exact_options(), in);
  const double p4 = psnr(run(classical(), tiled(16, 4), in), whole);
  const auto pad8 = run(classical(), tiled(16, 8), in);
  const double p8 = psnr(pad8, whole);
  const double p12 = psnr(run(classical(), tiled(16, 12), in), whole);
  // Peak 1.0 on the raw output, which spans about [-2.7, 2.7] with these random weights.
  std::printf("classical x4 w8 on 60x48, tile 16: PSNR to untiled %.1f dB (pad 4), %.1f dB (pad 8), %.1f dB (pad 12)\n", p4,
              p8, p12);
  EXPECT_GT(p4, 30.0);
  EXPECT_GT(p8, p4 + 3);
  EXPECT_GT(p12, p8 + 3);
  EXPECT_GT(p12, 60.0);
  // Batched tiles equal single ones.
  EngineOptions batched = tiled(16, 8);
  batched.batch = 4;
  EXPECT_LE(max_abs_diff(run(classical(), batched, in), pad8), 1e-5);
}

TEST(SwinIR, LightweightTiledOnTheGrid) {
  const Model m = load_model(swinir_file("swinir-light-x2-w4.pth"));
  const PlanarImage in = golden_input();
  const auto whole = run(m, exact_options(), in);
  const double p = psnr(run(m, tiled(20, 12), in), whole);
  std::printf("lightweight x2 w4 on 60x48, tile 20 pad 12: PSNR to untiled %.1f dB\n", p);
  EXPECT_GT(p, 50.0);
}

TEST(SwinIR, FlopsCountTheBlocksAndTheUpsampler) {
  // embed 16, window 8 (N=64), mlp 32, 2 blocks, 1conv, pixelshuffle x4 with num_feat 8.
  const double block = 3 * 16 * 16 + 2 * 64 * 16 + 16 * 16 + 2 * 16 * 32;
  const double convs = 9 * 3 * 16 + 2 * 9 * 16 * 16;
  const double up = 9 * 16 * 8 + 9 * 8 * 32 + 4 * 9 * 8 * 32 + 16 * 9 * 8 * 3;
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(classical().info), 2 * (2 * block + convs + up));
}

TEST(SwinIR, BrokenLayoutsAreNamedErrors) {
  StateDict sd = classical().weights;
  auto expect_model_error = [](const StateDict& w, const std::string& part) {
    try {
      detect_architecture(w);
      FAIL() << "detected a broken layout";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("found"), std::string::npos) << e.what();
    }
  };
  StateDict missing = sd;
  missing.erase("layers.0.residual_group.blocks.1.attn.proj.weight");
  expect_model_error(missing, "attn.proj.weight");
  StateDict extra = sd;
  extra["layers.0.residual_group.blocks.0.attn.extra"] = HostTensor{{1}, {0.f}};
  expect_model_error(extra, "not part of SwinIR");
  StateDict table = sd;
  table["layers.0.residual_group.blocks.1.attn.relative_position_bias_table"] = HostTensor{{48, 2}, std::vector<float>(96)};
  expect_model_error(table, "(2w-1)^2");
  StateDict ape = sd;
  ape["absolute_pos_embed"] = HostTensor{{1, 256, 16}, std::vector<float>(4096)};
  expect_model_error(ape, "ape");
  StateDict no_up = sd;
  for (const char* k : {"conv_before_upsample.0.weight", "conv_before_upsample.0.bias", "upsample.0.weight", "upsample.0.bias",
                        "upsample.2.weight", "upsample.2.bias"})
    no_up.erase(k);
  expect_model_error(no_up, "upsampler");
}

class SwinIRFiles : public TempDirTest {};

TEST_F(SwinIRFiles, TruncatedOrCutDownFilesAreOneLineErrorsNamingTheFile) {
  for (const std::string name : {"swinir-real-x4-w4-3conv.safetensors", "swinir-light-x2-w4.pth"}) {
    const auto bytes = read_bytes(swinir_file(name));
    const std::string path = (dir_ / name).string();
    {
      std::ofstream f(path, std::ios::binary);
      f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() * 2 / 3));
    }
    try {
      load_model(path);
      FAIL() << "a truncated " << name << " loaded";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model);
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(SwinIR, OnCudaInFp32AndFp16) {
  if (device_profile().cuda_devices == 0) GTEST_SKIP() << "no CUDA device here (this check runs on the GPU machine)";
  const PlanarImage in = rgb18x20_input();
  for (const Case& c : {kClassical, kLight, kReal}) {
    const Model m = load_model(swinir_file(c.model + c.ext));
    const auto golden = read_f32(swinir_file("golden." + c.model + ".rgb18x20.f32"));
    EngineOptions o = exact_options();
    o.device = "cuda";
    // cuDNN convolutions may use TF32 (LibTorch's default), hence not the CPU's 1e-4.
    const double d32 = max_abs_diff(run(m, o, in), golden);
    o.precision = Precision::FP16;
    const double p16 = psnr(run(m, o, in), golden);
    o.tile = 8;
    o.tile_pad = 8;
    o.batch = 4;
    const double p16_tiled = psnr(run(m, o, in), golden);
    std::printf("%s on CUDA: fp32 max |diff| %.3g; fp16 PSNR %.1f dB, tiled (8, pad 8, batch 4) %.1f dB\n", c.model.c_str(), d32,
                p16, p16_tiled);
    EXPECT_LE(d32, 1e-2);
    EXPECT_GT(p16, 35.0);
    EXPECT_GT(p16_tiled, 30.0);
  }
}
