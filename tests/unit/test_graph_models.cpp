// The graph executor on real models, where they are installed:
//  - on the two built-in graphs the hand-written networks recognise, the executor equals
//    them (fp32, max |diff| <= 1e-4);
//  - tiled runs of the 29 waifu2x@1.6.5 models (from YAMIRO_NCNN_ZOO, the package's folder,
//    or the model folders under their built-in names) equal their untiled runs. Their
//    untiled outputs against the committed reference goldens: test_ncnn_goldens.cpp.
// A test skips only when its files are absent; a load error fails it.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "arch/network.hpp"
#include "arch/winograd.hpp"
#include "golden/fixtures.hpp"
#include "models/readers.hpp"
#include "unit/test_graph_util.hpp"
#include "yamiro/engine.hpp"

using namespace yamiro;
using namespace yamiro::test;
namespace fs = std::filesystem;

namespace {

std::string find_model(const std::string& stem) {
  for (const auto& dir : model_dirs())
    if (fs::is_regular_file(fs::path(dir) / (stem + ".param"))) return (fs::path(dir) / (stem + ".param")).string();
  return "";
}

std::string text_of(const std::string& path) {
  const auto b = read_bytes(path);
  return std::string(b.begin(), b.end());
}

std::string bin_path(std::string param) { return param.replace(param.size() - 6, 6, ".bin"); }

void executor_equals_handwritten(const std::string& stem, const std::string& arch) {
  const std::string param = find_model(stem);
  if (param.empty()) GTEST_SKIP() << stem << " is not installed (scripts/fetch-models.sh)";
  const Model fast = load_model(param);
  ASSERT_EQ(fast.info.arch, arch);
  const Model graph = ncnn_graph_from_bytes(text_of(param), read_bytes(bin_path(param)), param, bin_path(param));
  ASSERT_EQ(graph.info.arch, "Graph");
  EXPECT_EQ(graph.info.scale, fast.info.scale);
  EXPECT_EQ(graph.info.shrink, 0);
  EXPECT_EQ(graph.info.border, "zero");
  at::manual_seed(3);
  const at::Tensor x = at::rand({1, 3, 20, 24});
  c10::InferenceMode guard;
  // Both direct, and both with Winograd 3x3 convolutions (and fused activations) where the CPU has them.
  for (const bool winograd : {false, true}) {
    if (winograd && !arch::winograd_supported()) continue;
    arch::NetOptions o;
    o.winograd = winograd;
    const at::Tensor a = arch::make_network(fast.info, fast.weights, o)->forward(x);
    const at::Tensor b = arch::make_network(graph.info, graph.weights, o)->forward(x);
    ASSERT_EQ(a.sizes(), b.sizes());
    const double diff = (a - b).abs().max().item<double>();
    std::printf("%s (winograd %d): executor vs hand-written max |diff| %.3g\n", stem.c_str(), winograd, diff);
    EXPECT_LE(diff, 1e-4);
  }
}

// The 29 models: built-in name -> path inside the npm package.
const std::vector<std::pair<std::string, std::string>>& zoo() {
  static const std::vector<std::pair<std::string, std::string>> z = [] {
    std::vector<std::pair<std::string, std::string>> v;
    for (const char* n : {"x2-conservative", "x2-no-denoise", "x2-denoise1x", "x2-denoise2x", "x2-denoise3x", "x3-conservative",
                          "x3-no-denoise", "x3-denoise3x", "x4-conservative", "x4-no-denoise", "x4-denoise3x"}) {
      const std::string s(n);
      v.emplace_back("realcugan-" + s, "real-cugan/models-se/up" + s.substr(1, 1) + "x" + s.substr(2));
    }
    v.emplace_back("waifu2x-cunet-x2", "waifu2x/models-cunet/scale2.0x_model");
    for (int k = 0; k < 4; ++k) {
      const std::string n = std::to_string(k);
      v.emplace_back("waifu2x-cunet-x2-noise" + n, "waifu2x/models-cunet/noise" + n + "_scale2.0x_model");
      v.emplace_back("waifu2x-cunet-noise" + n, "waifu2x/models-cunet/noise" + n + "_model");
      v.emplace_back("waifu2x-upconv7-x2-noise" + n, "waifu2x/models-upconv_7_anime_style_art_rgb/noise" + n + "_scale2.0x_model");
    }
    v.emplace_back("waifu2x-upconv7-x2", "waifu2x/models-upconv_7_anime_style_art_rgb/scale2.0x_model");
    for (const char* s : {"x2", "x3", "x4"})
      v.emplace_back(std::string("realesr-animevideov3-") + s, std::string("real-esrgan/models/realesr-animevideov3-") + s);
    v.emplace_back("realesrgan-x4plus-anime", "real-esrgan/models/realesrgan-x4plus-anime");
    return v;
  }();
  return z;
}

std::string zoo_model(const std::string& name) {
  const std::string installed = find_model(name);
  if (!installed.empty()) return installed;
  const char* dir = std::getenv("YAMIRO_NCNN_ZOO");
  if (!dir || !*dir) return "";
  for (const auto& [n, rel] : zoo())
    if (n == name && fs::is_regular_file(fs::path(dir) / (rel + ".param"))) return (fs::path(dir) / (rel + ".param")).string();
  return "";
}

PlanarImage planar_of(const std::vector<unsigned char>& rgb, int w, int h) {
  PlanarImage p(w, h, 3);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < w * h; ++i) p.plane(c)[i] = static_cast<float>(rgb[static_cast<std::size_t>(i) * 3 + c]) * (1.0f / 255.0f);
  return p;
}

double psnr01(const std::vector<float>& a, const std::vector<float>& b) {
  double se = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::clamp(a[i], 0.f, 1.f) - std::clamp(b[i], 0.f, 1.f);
    se += d * d;
  }
  return se == 0 ? 999 : 10 * std::log10(1.0 / (se / static_cast<double>(a.size())));
}

}  // namespace

TEST(GraphExecutor, EqualsSrvggCompactOnRealesrganX4fast) { executor_equals_handwritten("realesrgan-x4fast", "SRVGGNetCompact"); }
TEST(GraphExecutor, EqualsRrdbnetOnRealesrganX4plus) { executor_equals_handwritten("realesrgan-x4plus", "RRDBNet"); }

namespace {

// A 96x120 test image from the repository's 48x60 photo crop: itself and mirror images.
PlanarImage mosaic() {
  const auto rgb = read_bytes(data_file("rgb48x60.rgb"));
  PlanarImage p(96, 120, 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 120; ++y)
      for (int x = 0; x < 96; ++x) {
        const int sx = x < 48 ? x : 95 - x, sy = y < 60 ? y : 119 - y;
        p.plane(c)[y * 96 + x] = static_cast<float>(rgb[(static_cast<std::size_t>(sy) * 48 + sx) * 3 + c]) / 255.0f;
      }
  return p;
}

}  // namespace

TEST(GraphExecutor, TiledRunsEqualTheUntiledRun) {
  // SE graphs through the gathering passes (>= 50 dB asked for Real-CUGAN at tile 32);
  // graphs without global layers are exact up to rounding.
  const std::vector<std::pair<std::string, double>> cases = {
      {"realcugan-x2-conservative", 50}, {"waifu2x-cunet-noise1", 50}, {"waifu2x-upconv7-x2", 80}};
  const PlanarImage in = mosaic();
  int checked = 0;
  for (const auto& [name, floor_db] : cases) {
    const std::string param = zoo_model(name);
    if (param.empty()) continue;
    SCOPED_TRACE(name);
    const Model model = load_model(param);
    const auto t0 = std::chrono::steady_clock::now();
    const PlanarImage whole = Engine(model, exact_options()).upscale(in);
    const auto t1 = std::chrono::steady_clock::now();
    EngineOptions tiled = exact_options();
    tiled.tile = 32;
    const PlanarImage t = Engine(model, tiled).upscale(in);
    const auto t2 = std::chrono::steady_clock::now();
    const double db = psnr01(t.data, whole.data);
    std::printf("%-28s tile 32 vs untiled %.1f dB (untiled %.2f s, tiled %.2f s)\n", name.c_str(), db,
                std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
    EXPECT_GE(db, floor_db) << name;
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "none of the models is installed (or YAMIRO_NCNN_ZOO unset)";
}
