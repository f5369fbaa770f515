// PLKSR and RealPLKSR: detection from keys and shapes, the reference networks' output to
// 1e-4 in fp32 (GroupNorm / LayerNorm, PLK / RectSparsePLK, CCM / ICCM / DCCM, pixel shuffle
// / DySample), the tiling of GroupNorm models, and broken layouts. Fixtures in
// tests/data/plksr come from tests/fixtures/make_plksr.py (PyTorch, seeded random weights).
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

std::string plksr_file(const std::string& name) { return data_file("plksr/" + name); }

struct Case {
  std::string model, ext, format, arch;
  int scale;
  std::map<std::string, int> hyper;
  std::map<std::string, std::string> options;
};

using Opts = std::map<std::string, std::string>;
// What make_plksr.py builds, as detection must read it back.
const Case kRealGn = {"realplksr-x4-gn", ".pth", "pytorch", "RealPLKSR", 4,
                      {{"dim", 8}, {"n_blocks", 2}, {"kernel_size", 7}, {"partial_channels", 2}},
                      Opts{{"upsampler", "pixelshuffle"}, {"channel_mixer", "DCCM"}, {"large_kernel", "PLK"}, {"norm", "GroupNorm"}}};
const Case kRealLnDys = {"realplksr-x2-ln-dysample", ".pth", "pytorch", "RealPLKSR", 2,
                         {{"dim", 8}, {"n_blocks", 2}, {"kernel_size", 5}, {"partial_channels", 2}, {"dysample_groups", 4}},
                         Opts{{"upsampler", "dysample"}, {"channel_mixer", "DCCM"}, {"large_kernel", "PLK"}, {"norm", "LayerNorm"}}};
const Case kRealGnDys3 = {"realplksr-x3-gn-dysample", ".pth", "pytorch", "RealPLKSR", 3,
                          {{"dim", 8}, {"n_blocks", 1}, {"kernel_size", 5}, {"partial_channels", 2}, {"dysample_groups", 3}},
                          Opts{{"upsampler", "dysample"}, {"channel_mixer", "DCCM"}, {"large_kernel", "PLK"}, {"norm", "GroupNorm"},
                               {"element_attention", "false"}}};
const Case kCcm = {"plksr-x2-ccm", ".pth", "pytorch", "PLKSR", 2,
                   {{"dim", 8}, {"n_blocks", 2}, {"kernel_size", 7}, {"partial_channels", 2}},
                   Opts{{"upsampler", "pixelshuffle"}, {"channel_mixer", "CCM"}, {"large_kernel", "PLK"}}};
const Case kRect = {"plksr-x4-iccm-rect-noea", ".pth", "pytorch", "PLKSR", 4,
                    {{"dim", 8}, {"n_blocks", 2}, {"kernel_size", 9}, {"partial_channels", 4}},
                    Opts{{"upsampler", "pixelshuffle"}, {"channel_mixer", "ICCM"}, {"large_kernel", "RectSparsePLK"},
                         {"element_attention", "false"}}};
const Case kDccm = {"plksr-x3-dccm", ".pth", "pytorch", "PLKSR", 3,
                    {{"dim", 8}, {"n_blocks", 1}, {"kernel_size", 5}, {"partial_channels", 2}},
                    Opts{{"upsampler", "pixelshuffle"}, {"channel_mixer", "DCCM"}, {"large_kernel", "PLK"}}};

Case safetensors(Case c) {
  c.ext = ".safetensors";
  c.format = "safetensors";
  return c;
}

const Model& load(const std::string& name) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, load_model(plksr_file(name + ".pth"))).first;
  return it->second;
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

class PlksrGolden : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(PlksrGolden, DetectedAndMatchesReferenceInFp32) {
  const Case& c = GetParam();
  const Model m = load_model(plksr_file(c.model + c.ext));
  EXPECT_EQ(m.format, c.format);
  EXPECT_EQ(m.info.arch, c.arch);
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.hyper, c.hyper);
  EXPECT_EQ(m.info.options, c.options);
  const bool group_norm = c.options.count("norm") && c.options.at("norm") == "GroupNorm";
  EXPECT_EQ(m.info.global_reduction, group_norm);
  EXPECT_EQ(m.info.fp16_unsafe, group_norm);
  EXPECT_GT(m.info.flops_per_px, 0);
  EXPECT_GT(m.info.live_values_per_px, 0);
  Engine engine(m, exact_options());
  const PlanarImage out = engine.upscale(rgb18x20_input());
  ASSERT_EQ(out.width, 20 * c.scale);
  ASSERT_EQ(out.height, 18 * c.scale);
  const double diff = max_abs_diff(out.data, read_f32(plksr_file("golden." + c.model + ".rgb18x20.f32")));
  std::printf("%s%s: max |diff| to PyTorch %.3g\n", c.model.c_str(), c.ext.c_str(), diff);
  EXPECT_LE(diff, 1e-4);
  EngineOptions plain = exact_options();
  plain.baseline = true;  // the textbook forward is the same network
  EXPECT_LE(max_abs_diff(run(m, plain, rgb18x20_input()), out.data), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PlksrGolden,
                         ::testing::Values(kRealGn, safetensors(kRealGn), kRealLnDys, safetensors(kRealLnDys), kRealGnDys3,
                                           safetensors(kRealGnDys3), kCcm, safetensors(kCcm), kRect, safetensors(kRect), kDccm,
                                           safetensors(kDccm)),
                         [](const auto& info) {
                           std::string n = info.param.model + info.param.ext;
                           for (auto& ch : n)
                             if (ch == '-' || ch == '.') ch = '_';
                           return n;
                         });

TEST(Plksr, FlopsCountTheBlocksAndTheUpsampler) {
  // RealPLKSR x4, dim 8, 2 blocks: DCCM (3x3 8->16, 3x3 16->8), PLK 7x7 on 2 channels, EA
  // 3x3, refine 1x1; feats.0 and the last conv (8 -> 48).
  const double block = 2 * 9 * 8 * 16 + 49 * 2 * 2 + 9 * 64 + 64;
  EXPECT_DOUBLE_EQ(load("realplksr-x4-gn").info.flops_per_px, 2 * (9 * 3 * 8 + 2 * block + 9 * 8 * 48));
  // DySample x2 (12 channels, 4 groups -> 32 offsets): offset and scope, 4 taps per sampled
  // value and the 12 -> 3 end conv at the 4 output pixels.
  const double ln_block = 2 * 9 * 8 * 16 + 25 * 2 * 2 + 9 * 64 + 64;
  const double dys = 2 * 12 * 32 + 4 * (4 * 12 + 3 * 12);
  EXPECT_DOUBLE_EQ(load("realplksr-x2-ln-dysample").info.flops_per_px, 2 * (9 * 3 * 8 + 2 * ln_block + 9 * 8 * 12 + dys));
  // PLKSR RectSparsePLK 9: 9x3 + 3x9 + 3x3 on 4 channels; ICCM 1x1 then 3x3; no EA.
  const double rect = (1 * 8 * 16 + 9 * 16 * 8) + (27 + 27 + 9) * 16 + 64;
  EXPECT_DOUBLE_EQ(load("plksr-x4-iccm-rect-noea").info.flops_per_px, 2 * (9 * 3 * 8 + 2 * rect + 9 * 8 * 48));
}

TEST(Plksr, GroupNormModelsRunWholeAndDriftWhenTiled) {
  const Model& m = load("realplksr-x4-gn");
  const PlanarImage in = golden_input();  // 60x48
  // --tile auto runs a GroupNorm model whole where memory allows; a LayerNorm one of the
  // same width on a CPU is tiled at its preferred tile.
  EngineOptions automatic = exact_options();
  automatic.tile = -1;
  EXPECT_EQ(Engine(m, automatic).tile_for(60, 48), 0);
  EXPECT_EQ(Engine(m, automatic).tile_for(600, 600), 0);
  EXPECT_EQ(Engine(load("realplksr-x2-ln-dysample"), automatic).tile_for(600, 600), 256);
  const auto whole = run(m, exact_options(), in);
  EXPECT_LE(max_abs_diff(run(m, automatic, in), whole), 0.0);
  // Forced tiles: each tile's GroupNorm sees only its own statistics. Measured with these
  // weights: tile 16 pad 12 drifts by 0.2 at most, 30 dB; tile 32 42 dB.
  const auto t16 = run(m, tiled(16, 12), in);
  const auto t32 = run(m, tiled(32, 12), in);
  const double d16 = max_abs_diff(t16, whole), p16 = psnr(t16, whole), p32 = psnr(t32, whole);
  std::printf("RealPLKSR GroupNorm x4 on 60x48: tile 16 pad 12 max |diff| %.3g, PSNR %.1f dB; tile 32 pad 12 PSNR %.1f dB\n", d16,
              p16, p32);
  EXPECT_GT(d16, 1e-3);  // the drift is real: why global_reduction is set
  EXPECT_GT(p16, 20.0);
  EXPECT_GT(p32, p16);
}

TEST(Plksr, LayerNormDySampleTiledConvergesToUntiled) {
  // No global statistics: the only difference is context beyond the pad (the large kernels
  // and the DySample border clamp at the tile's edge).
  const Model& m = load("realplksr-x2-ln-dysample");
  const PlanarImage in = golden_input();
  const auto whole = run(m, exact_options(), in);
  const double p4 = psnr(run(m, tiled(16, 4), in), whole);
  const double p12 = psnr(run(m, tiled(16, 12), in), whole);
  // Two blocks of 3x3, 3x3, 5x5, 3x3 plus feats.0 and the last conv: 12 pixels of context,
  // and DySample's offsets stay within a pixel or two: a pad of 16 sees all of it.
  const double exact = max_abs_diff(run(m, tiled(8, 16), in), whole);
  std::printf("RealPLKSR LayerNorm DySample x2 on 60x48, tile 16: PSNR to untiled %.1f (pad 4), %.1f dB (pad 12); "
              "tile 8 pad 16: max |diff| %.3g\n", p4, p12, exact);
  EXPECT_GT(p12, p4);
  EXPECT_GT(p12, 40.0);
  EXPECT_LE(exact, 1e-5);
}

TEST(Plksr, Bf16StaysCloseToFp32) {
  for (const char* name : {"realplksr-x2-ln-dysample", "realplksr-x4-gn", "plksr-x2-ccm"}) {
    EngineOptions o = exact_options();
    o.precision = Precision::BF16;
    const double p = psnr(run(load(name), o, rgb18x20_input()), read_f32(plksr_file(std::string("golden.") + name + ".rgb18x20.f32")));
    std::printf("%s bf16: PSNR to the fp32 reference %.1f dB\n", name, p);
    EXPECT_GT(p, 30.0);
  }
}

TEST(Plksr, BrokenLayoutsAreNamedErrors) {
  const StateDict& real = load("realplksr-x4-gn").weights;
  StateDict missing = real;
  missing.erase("feats.2.attn.f.0.bias");
  expect_model_error(missing, "feats.2.attn.f.0.bias");
  StateDict shape = real;
  shape["feats.1.channel_mixer.2.weight"] = HostTensor{{8, 16, 1, 1}, std::vector<float>(128)};
  expect_model_error(shape, "feats.1.channel_mixer.2.weight has shape [8,16,1,1], expected [8,16,3,3]");
  StateDict mixed = real;  // one block with LayerNorm, the other with GroupNorm
  mixed.erase("feats.2.norm.weight");
  mixed.erase("feats.2.norm.bias");
  mixed["feats.2.layer_norm.weight"] = HostTensor{{8}, std::vector<float>(8, 1.f)};
  mixed["feats.2.layer_norm.bias"] = HostTensor{{8}, std::vector<float>(8)};
  expect_model_error(mixed, "feats.2. has a different norm");
  StateDict extra = real;
  extra["feats.3.weight"] = HostTensor{{1}, {0.f}};
  expect_model_error(extra, "not part of RealPLKSR");
  StateDict odd = real;
  odd["feats.1.lk.conv.weight"] = HostTensor{{2, 2, 6, 6}, std::vector<float>(144)};
  expect_model_error(odd, "odd k");

  StateDict dys = load("realplksr-x2-ln-dysample").weights;
  dys["to_img.init_pos"] = HostTensor{{1, 16, 1, 1}, std::vector<float>(16)};
  expect_model_error(dys, "to_img.init_pos has shape [1,16,1,1], expected [1,32,1,1]");

  const StateDict& plksr = load("plksr-x2-ccm").weights;
  StateDict sparse = plksr;
  for (const char* k : {"feats.1.lk.conv.weight", "feats.1.lk.conv.bias"}) sparse.erase(k);
  sparse["feats.1.lk.convs.0.weight"] = HostTensor{{2, 2, 5, 5}, std::vector<float>(100)};
  expect_model_error(sparse, "dilations are not stored");
  StateDict mixer = plksr;
  mixer["feats.2.channe_mixer.0.weight"] = HostTensor{{16, 8, 5, 5}, std::vector<float>(16 * 8 * 25)};
  expect_model_error(mixer, "CCM 3/1, ICCM 1/3, DCCM 3/3 expected");
  StateDict gray = plksr;
  gray["feats.3.weight"] = HostTensor{{4, 8, 3, 3}, std::vector<float>(288)};
  gray["feats.3.bias"] = HostTensor{{4}, std::vector<float>(4)};
  expect_model_error(gray, "not 3 * scale^2");
}

TEST(Plksr, OnCudaInFp32AndBf16) {
  if (device_profile().cuda_devices == 0) GTEST_SKIP() << "no CUDA device here (this check runs on the GPU machine)";
  for (const Case& c : {kRealGn, kRealLnDys, kRealGnDys3, kCcm, kRect}) {
    const Model& m = load(c.model);
    const auto golden = read_f32(plksr_file("golden." + c.model + ".rgb18x20.f32"));
    EngineOptions o = exact_options();
    o.device = "cuda";
    const double d32 = max_abs_diff(run(m, o, rgb18x20_input()), golden);  // TF32 convolutions
    o.precision = Precision::BF16;
    const double p16 = psnr(run(m, o, rgb18x20_input()), golden);
    std::printf("%s on CUDA: fp32 max |diff| %.3g; bf16 PSNR %.1f dB\n", c.model.c_str(), d32, p16);
    EXPECT_LE(d32, 1e-2);
    EXPECT_GT(p16, 30.0);
  }
}
