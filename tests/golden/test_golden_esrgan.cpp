// ESRGAN family at every scale and channel count: RRDBNet x1/x2/x8 (no pixel_unshuffle),
// x1 through pixel_unshuffle(4), gray (1->1) and RGBA (4->4), in the basicsr and the 2018
// ESRGAN layouts, and SRVGGNetCompact on gray. Detection from keys and shapes, the
// reference network's output to 1e-4 in fp32, tiling, the engine's channel plans, broken
// layouts. Fixtures in tests/data/esrgan come from tests/fixtures/make_esrgan.py.
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

std::string esrgan_file(const std::string& name) { return data_file("esrgan/" + name); }

// rgb18x20 (20 wide, 18 high) as the reference saw it; `w` x `h` from its top-left corner.
PlanarImage rgb_input(int w = 20, int h = 18) {
  const auto rgb = read_bytes(data_file("swinir/rgb18x20.rgb"));
  EXPECT_EQ(rgb.size(), 20u * 18u * 3u);
  PlanarImage p(w, h, 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) p.plane(c)[y * w + x] = static_cast<float>(rgb.at((y * 20 + x) * 3 + c)) / 255.0f;
  return p;
}

Image u8_image(const std::vector<unsigned char>& bytes, int channels) {
  Image img(20, 18, channels, 1);
  img.data = bytes;
  return img;
}

// Plane `c` of rgb18x20 as an 8-bit gray image.
Image gray_plane(int c) {
  const auto rgb = read_bytes(data_file("swinir/rgb18x20.rgb"));
  Image g(20, 18, 1, 1);
  for (std::size_t i = 0; i < 20u * 18u; ++i) g.data[i] = rgb[i * 3 + c];
  return g;
}

// Largest difference, in 8-bit levels, between interleaved `img` channel `c` and the
// golden float plane `plane` (clamped and rounded as the engine quantises).
int max_level_diff(const Image& img, int c, const std::vector<float>& golden, int plane) {
  const std::size_t n = static_cast<std::size_t>(img.width) * img.height;
  int worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float g = std::min(1.0f, std::max(0.0f, golden.at(plane * n + i)));
    const int want = static_cast<int>(std::lround(g * 255.0f));
    worst = std::max(worst, std::abs(static_cast<int>(img.data.at(i * img.channels + c)) - want));
  }
  return worst;
}

struct Case {
  std::string model;  // file stem
  std::string file;   // model + extension
  std::string format;
  std::string arch;
  int scale, channels;
  std::map<std::string, int> hyper;
  std::map<std::string, std::string> options;
};

const std::map<std::string, int> kSmall = {{"num_feat", 4}, {"num_block", 1}, {"num_grow_ch", 2}};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](const std::string& model, const std::vector<std::string>& exts, const std::string& arch, int scale, int channels,
                 std::map<std::string, int> hyper, std::map<std::string, std::string> options = {}) {
    for (const auto& ext : exts)
      out.push_back({model, model + ext, ext == ".safetensors" ? "safetensors" : "pytorch", arch, scale, channels, hyper, options});
  };
  add("esrgan-x1-nf4-gc2", {".pth", ".safetensors", ".old.pth"}, "RRDBNet", 1, 3, kSmall);
  add("esrgan-x2-nf4-gc2", {".pth", ".safetensors", ".old.pth"}, "RRDBNet", 2, 3, kSmall);
  add("esrgan-x8-nf4-gc2", {".pth", ".safetensors", ".old.pth"}, "RRDBNet", 8, 3, kSmall);
  add("esrgan-x1-unshuffle4-nf4-gc2", {".pth"}, "RRDBNet", 1, 3, kSmall, {{"pixel_unshuffle", "4"}});
  add("esrgan-gray-x2-nf4-gc2", {".pth", ".safetensors"}, "RRDBNet", 2, 1, kSmall);
  add("esrgan-rgba-x1-nf4-gc2", {".pth", ".safetensors"}, "RRDBNet", 1, 4, kSmall);
  add("compact-gray-x2-nc2-nf8", {".pth", ".safetensors"}, "SRVGGNetCompact", 2, 1, {{"num_feat", 8}, {"num_conv", 2}});
  return out;
}

class EsrganGolden : public ::testing::TestWithParam<Case> {};

const Model& loaded(const std::string& file) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(file);
  if (it == cache.end()) it = cache.emplace(file, load_model(esrgan_file(file))).first;
  return it->second;
}

// The golden of a model: 3-channel models on rgb18x20 (x8: its top-left 10x9), 1-channel
// ones on each of its planes, 4-channel ones on it with an opaque alpha (RGB kept).
std::vector<float> golden(const std::string& model) {
  const bool x8 = model.find("-x8-") != std::string::npos;
  return read_f32(esrgan_file("golden." + model + (x8 ? ".rgb9x10.f32" : ".rgb18x20.f32")));
}

PlanarImage golden_in(const std::string& model) {
  return model.find("-x8-") != std::string::npos ? rgb_input(10, 9) : rgb_input();
}


}  // namespace

TEST_P(EsrganGolden, DetectedAndMatchesReferenceInFp32) {
  const Case& c = GetParam();
  const Model& m = loaded(c.file);
  EXPECT_EQ(m.format, c.format);
  EXPECT_EQ(m.info.arch, c.arch);
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.in_channels, c.channels);
  EXPECT_EQ(m.info.out_channels, c.channels);
  EXPECT_EQ(m.info.hyper, c.hyper);
  EXPECT_EQ(m.info.options, c.options);
  EXPECT_GT(m.info.flops_per_px, 0);
  EXPECT_GT(m.info.live_values_per_px, 0);
  EXPECT_EQ(m.info.cpu_tile, c.arch == "RRDBNet" ? 128 : 256);
  EXPECT_FALSE(m.info.fp16_unsafe);
  EXPECT_FALSE(m.info.global_reduction);
  const PlanarImage in = golden_in(c.model);
  Engine engine(m, exact_options());
  const PlanarImage out = engine.upscale(in);
  ASSERT_EQ(out.width, in.width * c.scale);
  ASSERT_EQ(out.height, in.height * c.scale);
  const double diff = max_abs_diff(out.data, golden(c.model));
  std::printf("%s: max |diff| to PyTorch %.3g\n", c.file.c_str(), diff);
  EXPECT_LE(diff, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EsrganGolden, ::testing::ValuesIn(cases()), [](const auto& param_info) {
  std::string n = param_info.param.file;
  for (auto& ch : n)
    if (ch == '-' || ch == '.') ch = '_';
  return n;
});

TEST(Esrgan, SummaryNamesChannelsAndUnshuffle) {
  EXPECT_EQ(loaded("esrgan-gray-x2-nf4-gc2.pth").info.summary(),
            "RRDBNet x2, 1->1 channels (num_block=1, num_feat=4, num_grow_ch=2)");
  EXPECT_EQ(loaded("esrgan-x8-nf4-gc2.old.pth").info.summary(), "RRDBNet x8 (num_block=1, num_feat=4, num_grow_ch=2)");
  EXPECT_EQ(loaded("esrgan-x1-unshuffle4-nf4-gc2.pth").info.summary(),
            "RRDBNet x1 (num_block=1, num_feat=4, num_grow_ch=2, pixel_unshuffle=4)");
  EXPECT_EQ(loaded("esrgan-x1-unshuffle4-nf4-gc2.pth").info.tile_multiple, 4);
  EXPECT_EQ(loaded("compact-gray-x2-nc2-nf8.pth").info.summary(), "SRVGGNetCompact x2, 1->1 channels (num_conv=2, num_feat=8)");
}

TEST(Esrgan, FlopsCountEveryConvolutionAtItsResolution) {
  // nf 4, gc 2, one block: conv_first 3->4, 15 dense convs, conv_body at the input size;
  // upsampler k at 4^k the pixels; conv_hr and conv_last (4->3) at scale^2.
  const double dense = 2 * (4 + 6 + 8 + 10) + 12 * 4;  // per RDB: conv1..4 (to gc) and conv5 (to nf)
  const double body = 9 * (3 * 4 + 3 * dense + 4 * 4);
  const double tail = 9 * 4 * (4 + 3);
  EXPECT_DOUBLE_EQ(loaded("esrgan-x1-nf4-gc2.pth").info.flops_per_px, 2 * (body + tail));
  EXPECT_DOUBLE_EQ(loaded("esrgan-x8-nf4-gc2.pth").info.flops_per_px, 2 * (body + (4 + 16 + 64) * 9 * 16 + 64 * tail));
  EXPECT_DOUBLE_EQ(flops_per_input_pixel(loaded("esrgan-x8-nf4-gc2.pth").info), loaded("esrgan-x8-nf4-gc2.pth").info.flops_per_px);
  // The body of an unshuffled x1 runs on 1/16 of the pixels: conv_first takes 48 channels.
  const double unshuffled = 9 * (48 * 4 + 3 * dense + 4 * 4) / 16 + 9 * 16 * (4 + 16) / 16.0 + tail;
  EXPECT_DOUBLE_EQ(loaded("esrgan-x1-unshuffle4-nf4-gc2.pth").info.flops_per_px, 2 * unshuffled);
  // Gray Compact: body.0 1->8, two 8->8, last 8->1*4.
  EXPECT_DOUBLE_EQ(loaded("compact-gray-x2-nc2-nf8.pth").info.flops_per_px, 2 * 9 * (8 + 2 * 64 + 8 * 4));
  // The x4plus layout: the detector's figures are the ones the bench and tiling used before
  // they moved into the detector (FLOPs: test_bench.cpp's hand count; memory: trunk, dense
  // buffer and conv output (4 nf + 5 gc), then three nf maps at 4x and 16x the pixels).
  const Model x4 = load_model(fixture("rrdb-x4-nb2-nf16-gc8.pth"));
  EXPECT_DOUBLE_EQ(x4.info.flops_per_px, 2.0 * 9 * 20272);
  EXPECT_EQ(forward_bytes(x4.info, 4, 64, 64), 64ull * 64 * ((4 * 16 + 5 * 8) + 3 * 16 * 4 + 3 * 16 * 16) * 4);
  EXPECT_EQ(cpu_preferred_tile(x4.info), 128);
  // More upsamplers, more memory.
  EXPECT_GT(forward_bytes(loaded("esrgan-x8-nf4-gc2.pth").info, 4, 64, 64), forward_bytes(loaded("esrgan-x2-nf4-gc2.pth").info, 4, 64, 64));
}

TEST(Esrgan, TiledRunsEqualTheUntiledRunWithEnoughContext) {
  // RRDBNet is local: one block (17 convolutions at the body's resolution plus conv_hr and
  // conv_last) sees 19 input pixels each side, so a pad of 24 reproduces the untiled run;
  // the default pad (12) does not reach that far, and is close.
  const PlanarImage in = golden_input();  // 60x48
  for (const std::string file : {"esrgan-x1-nf4-gc2.pth", "esrgan-x8-nf4-gc2.safetensors", "esrgan-gray-x2-nf4-gc2.pth",
                                 "esrgan-rgba-x1-nf4-gc2.pth"}) {
    const Model& m = loaded(file);
    const auto whole = run(m, exact_options(), in);
    const double exact = max_abs_diff(run(m, tiled(16, 24), in), whole);
    const double p12 = psnr(run(m, tiled(16, -1), in), whole);
    std::printf("%s on 60x48, tile 16: max |diff| to untiled %.3g (pad 24), PSNR %.1f dB (default pad)\n", file.c_str(), exact, p12);
    EXPECT_LE(exact, 1e-5) << file;
    EXPECT_GT(p12, 40.0) << file;
  }
  // The unshuffled x1 tiles on its 4-pixel grid: tile 17 becomes 16.
  Engine e(loaded("esrgan-x1-unshuffle4-nf4-gc2.pth"), tiled(17, 12));
  EXPECT_EQ(e.tile_for(60, 48), 16);
  // Its receptive field is 4x wider (the body runs at 1/4 the resolution), so pad 12 is an
  // approximation. An odd image size goes through reflection padding to the grid.
  const Model& u = loaded("esrgan-x1-unshuffle4-nf4-gc2.pth");
  const double pu = psnr(run(u, tiled(16, 12), in), run(u, exact_options(), in));
  std::printf("esrgan-x1-unshuffle4 on 60x48, tile 16 pad 12: PSNR to untiled %.1f dB\n", pu);
  EXPECT_GT(pu, 30.0);
  const PlanarImage odd = rgb_input(19, 17);
  const PlanarImage out = Engine(u, exact_options()).upscale(odd);
  EXPECT_EQ(out.width, 19);
  EXPECT_EQ(out.height, 17);
}

TEST(Esrgan, OneChannelModelsRunEveryPlaneOnItsOwn) {
  for (const std::string model : {"esrgan-gray-x2-nf4-gc2", "compact-gray-x2-nc2-nf8"}) {
    const Model& m = loaded(model + ".pth");
    const auto want = golden(model);
    Engine e(m, exact_options());
    // A gray image: one pass, the golden's plane of the same input.
    for (int c = 0; c < 3; ++c) {
      const Image out = e.upscale(gray_plane(c));
      ASSERT_EQ(out.channels, 1);
      ASSERT_EQ(out.width, 40);
      ASSERT_EQ(out.height, 36);
      EXPECT_LE(max_level_diff(out, 0, want, c), 1) << model << " plane " << c;
    }
    // RGB: three passes, one per plane.
    const Image rgb = e.upscale(u8_image(read_bytes(data_file("swinir/rgb18x20.rgb")), 3));
    ASSERT_EQ(rgb.channels, 3);
    for (int c = 0; c < 3; ++c) EXPECT_LE(max_level_diff(rgb, c, want, c), 1) << model << " channel " << c;
    // RGBA: four passes; the alpha plane is upscaled like any other.
    const Image rgba = e.upscale(u8_image(read_bytes(esrgan_file("rgba18x20.rgba")), 4));
    ASSERT_EQ(rgba.channels, 4);
    for (int c = 0; c < 3; ++c) EXPECT_LE(max_level_diff(rgba, c, want, c), 1) << model << " channel " << c;
    Image alpha(20, 18, 1, 1);
    const auto bytes = read_bytes(esrgan_file("rgba18x20.rgba"));
    for (std::size_t i = 0; i < 20u * 18u; ++i) alpha.data[i] = bytes[i * 4 + 3];
    const Image a = e.upscale(alpha);
    for (std::size_t i = 0; i < a.data.size(); ++i) ASSERT_EQ(rgba.data[i * 4 + 3], a.data[i]) << model;
  }
}

TEST(Esrgan, FourChannelModelTakesRgbaWhole) {
  const Model& m = loaded("esrgan-rgba-x1-nf4-gc2.safetensors");
  Engine e(m, exact_options());
  const Image out = e.upscale(u8_image(read_bytes(esrgan_file("rgba18x20.rgba")), 4));
  ASSERT_EQ(out.channels, 4);
  ASSERT_EQ(out.width, 20);
  const auto want = read_bytes(esrgan_file("golden.esrgan-rgba-x1-nf4-gc2.rgba18x20.u8"));
  ASSERT_EQ(want.size(), out.data.size());
  int worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(int(want[i]) - int(out.data[i])));
  EXPECT_LE(worst, 1);
  // RGB: an opaque alpha goes in, the output's alpha is dropped.
  const Image rgb = e.upscale(u8_image(read_bytes(data_file("swinir/rgb18x20.rgb")), 3));
  ASSERT_EQ(rgb.channels, 3);
  const auto golden_rgb = golden("esrgan-rgba-x1-nf4-gc2");
  for (int c = 0; c < 3; ++c) EXPECT_LE(max_level_diff(rgb, c, golden_rgb, c), 1) << c;
  // Gray: replicated to RGB with an opaque alpha; the output comes back as luma.
  const Image g = e.upscale(gray_plane(1));
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.width, 20);
  EXPECT_EQ(g.height, 18);
}

TEST(Esrgan, ModelsWhoseOutputHasOtherChannelsAreRefused) {
  Model m = loaded("esrgan-x1-nf4-gc2.pth");
  m.info.out_channels = 1;
  try {
    Engine e(m, exact_options());
    FAIL() << "a 3->1 model ran";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find("3 channels to 1"), std::string::npos) << e.what();
  }
}

namespace {

void expect_model_error(const StateDict& w, const std::string& part) {
  try {
    detect_architecture(to_basicsr_names(w));
    FAIL() << "detected a broken layout (expected: " << part << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

// basicsr names -> the 2019 ESRGAN / BSRGAN names.
StateDict to_2019(const StateDict& sd) {
  StateDict out;
  for (const auto& [k, t] : sd) {
    std::string n = k;
    auto swap = [&](const std::string& from, const std::string& to) {
      if (n.compare(0, from.size(), from) == 0) n = to + n.substr(from.size());
    };
    swap("conv_body.", "trunk_conv.");
    swap("conv_hr.", "HRconv.");
    swap("conv_up", "upconv");
    if (n.compare(0, 5, "body.") == 0) {
      n = "RRDB_trunk." + n.substr(5);
      for (const char r : {'1', '2', '3'}) {
        const std::string from = std::string(".rdb") + r + ".";
        if (const auto p = n.find(from); p != std::string::npos) n.replace(p, from.size(), std::string(".RDB") + r + ".");
      }
    }
    out[n] = t;
  }
  return out;
}

}  // namespace

TEST(Esrgan, OtherKeyLayoutsDetectTheSameNetwork) {
  for (const std::string model : {"esrgan-x1-nf4-gc2", "esrgan-x8-nf4-gc2", "esrgan-gray-x2-nf4-gc2"}) {
    const Model& m = loaded(model + ".pth");
    const ArchInfo info = detect_architecture(to_basicsr_names(to_2019(m.weights)));
    EXPECT_EQ(info.summary(), m.info.summary()) << model;
  }
  // The 2018 file names the same tensors as the basicsr one.
  for (const std::string model : {"esrgan-x1-nf4-gc2", "esrgan-x2-nf4-gc2", "esrgan-x8-nf4-gc2"}) {
    const Model& a = loaded(model + ".pth");
    const Model& b = loaded(model + ".old.pth");
    ASSERT_EQ(a.weights.size(), b.weights.size());
    for (const auto& [k, t] : a.weights) {
      ASSERT_TRUE(b.weights.count(k)) << model << ": " << k;
      EXPECT_EQ(b.weights.at(k).values, t.values) << k;
    }
  }
}

TEST(Esrgan, BrokenLayoutsAreNamedErrors) {
  const StateDict x8 = loaded("esrgan-x8-nf4-gc2.pth").weights;
  StateDict shape = x8;
  shape["conv_body.weight"] = HostTensor{{4, 4, 1, 1}, std::vector<float>(16)};
  expect_model_error(shape, "conv_body.weight has shape [4,4,1,1], expected [4,4,3,3]");
  StateDict gap = x8;
  gap.erase("conv_up2.weight");
  gap.erase("conv_up2.bias");
  expect_model_error(gap, "conv_up3.");
  StateDict half = x8;
  half.erase("conv_up1.bias");
  expect_model_error(half, "missing conv_up1.bias");
  StateDict extra = x8;
  extra["conv_extra.weight"] = HostTensor{{1}, {0.f}};
  expect_model_error(extra, "conv_extra.weight[1] is not part of RRDBNet");
  StateDict body = x8;
  body.erase("body.0.rdb2.conv3.bias");
  expect_model_error(body, "missing body.0.rdb2.conv3.bias");
  StateDict plus = x8;
  plus["body.0.rdb1.conv1x1.weight"] = HostTensor{{2, 4, 1, 1}, std::vector<float>(8)};
  expect_model_error(plus, "ESRGAN+");
  StateDict five = x8;
  five["conv_last.weight"] = HostTensor{{5, 4, 3, 3}, std::vector<float>(180)};
  five["conv_last.bias"] = HostTensor{{5}, std::vector<float>(5)};
  expect_model_error(five, "from 3 to 5 channels");
  // The 2018 layout: a missing upsampler convolution, a missing conv_hr (model.3n+2).
  StateDict old = loaded("esrgan-x8-nf4-gc2.old.pth").weights;  // renamed already; back to model.N
  StateDict raw;
  for (const auto& [k, t] : old) {
    std::string n = k;
    const std::map<std::string, std::string> tops = {{"conv_first", "model.0"}, {"conv_up1", "model.3"}, {"conv_up2", "model.6"},
                                                     {"conv_up3", "model.9"},   {"conv_hr", "model.11"}, {"conv_last", "model.13"},
                                                     {"conv_body", "model.1.sub.1"}};
    const std::string head = k.substr(0, k.find('.'));
    if (tops.count(head)) n = tops.at(head) + k.substr(head.size());
    else n = "model.1.sub.0.RDB" + k.substr(10, 1) + ".conv" + k.substr(16, 1) + ".0" + k.substr(17);  // body.0.rdbR.convK.x
    raw[n] = t;
  }
  EXPECT_EQ(detect_architecture(to_basicsr_names(raw)).summary(), loaded("esrgan-x8-nf4-gc2.pth").info.summary());
  StateDict no_up = raw;
  no_up.erase("model.6.weight");
  no_up.erase("model.6.bias");
  expect_model_error(no_up, "model.6.weight");
  StateDict no_hr = raw;
  no_hr.erase("model.11.weight");
  no_hr.erase("model.11.bias");
  expect_model_error(no_hr, "without model.11.weight");
  // Compact: a wrong shape, a left-over tensor, channels that are no image.
  const StateDict compact = loaded("compact-gray-x2-nc2-nf8.pth").weights;
  StateDict cw = compact;
  cw["body.2.weight"] = HostTensor{{8, 4, 3, 3}, std::vector<float>(288)};
  expect_model_error(cw, "body.2.weight has shape [8,4,3,3], expected [8,8,3,3]");
  StateDict cx = compact;
  cx["upsampler.weight"] = HostTensor{{1}, {0.f}};
  expect_model_error(cx, "upsampler.weight[1] is not part of SRVGGNetCompact");
  StateDict cl = compact;
  cl["body.6.weight"] = HostTensor{{6, 8, 3, 3}, std::vector<float>(432)};
  cl["body.6.bias"] = HostTensor{{6}, std::vector<float>(6)};
  expect_model_error(cl, "last convolution gives 6 channels, not 1 * scale^2");
}

TEST(Esrgan, Bf16RunsEveryLayout) {
  // bf16 (8 mantissa bits) against fp32, on an odd size so the unshuffled x1 pads too.
  const PlanarImage in = rgb_input(19, 17);
  for (const std::string file : {"esrgan-gray-x2-nf4-gc2.pth", "esrgan-rgba-x1-nf4-gc2.pth", "esrgan-x8-nf4-gc2.pth",
                                 "esrgan-x1-unshuffle4-nf4-gc2.pth", "compact-gray-x2-nc2-nf8.pth"}) {
    const Model& m = loaded(file);
    EngineOptions o = exact_options();
    o.precision = Precision::BF16;
    const auto bf16 = run(m, o, in);
    const auto fp32 = run(m, exact_options(), in);
    ASSERT_EQ(bf16.size(), fp32.size()) << file;
    const double p = psnr(bf16, fp32);
    std::printf("%s in bf16 on 19x17: PSNR to fp32 %.1f dB\n", file.c_str(), p);
    EXPECT_GT(p, 30.0) << file;
  }
}
