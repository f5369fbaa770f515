// End-to-end: SwinIR fixtures (tests/data/swinir) through the real binary.
#include <algorithm>
#include <cstdlib>

#include "e2e/harness.hpp"

using namespace e2e;

namespace {

const std::string kSwinir = std::string(YAMIRO_TEST_DATA) + "/swinir/";

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

}  // namespace

TEST_F(Cli, SwinIRGoldenThroughTheCommandLine) {
  // The PNG input decodes to the bytes the golden was made from; .f32 is the raw output.
  for (const std::string model : {"swinir-classical-x4-w8.pth", "swinir-light-x2-w4.pth", "swinir-real-x4-w4-3conv.safetensors"}) {
    const std::string stem = model.substr(0, model.find('.'));
    const std::string out = path(stem + ".f32");
    const auto r = yamiro("-q upscale " + kSwinir + "rgb18x20.png -o " + out + " -m " + kSwinir + model + " --tile 0 --precision fp32");
    ASSERT_EQ(r.code, 0) << r.err;
    const double d = max_diff(read_f32(out), read_f32(kSwinir + "golden." + stem + ".rgb18x20.f32"));
    std::printf("yamiro upscale -m %s --tile 0 --precision fp32: max |diff| to PyTorch %.3g\n", model.c_str(), d);
    EXPECT_LE(d, 1e-4) << model;
  }
}

TEST_F(Cli, SwinIRTiledPngMatchesUntiled) {
  const std::string m = " -m " + kSwinir + "swinir-classical-x4-w8.pth --precision fp32";
  const std::string in = kFixtures + "/rgb48x60.png";
  ASSERT_EQ(yamiro("-q upscale " + in + " -o " + path("whole.png") + m + " --tile 0").code, 0);
  // Tile 16 with 8 pixels of context: 49.6 dB to the untiled run (4: 44.3 dB; 12: identical).
  const auto r = yamiro("-q upscale " + in + " -o " + path("tiled.png") + m + " --tile 16 --tile-pad 8");
  ASSERT_EQ(r.code, 0) << r.err;
  const cv::Mat tiled = cv::imread(path("tiled.png"), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(tiled.cols, 240);
  EXPECT_EQ(tiled.rows, 192);
  const double p = psnr(path("tiled.png"), path("whole.png"));
  EXPECT_GT(p, 45.0);
  EXPECT_LT(p, 80.0);  // the pad does not reach across the whole image: this is a real tiled run
}

TEST_F(Cli, ModelsListShowsDetectedSwinIR) {
  fs::copy_file(kSwinir + "swinir-real-x4-w4-3conv.pth", dir_ / "my-swinir.pth");
  ::setenv("YAMIRO_MODELS", dir_.c_str(), 1);
  const auto r = yamiro("models list");
  ::unsetenv("YAMIRO_MODELS");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string out = read_file(path("stdout.txt"));
  EXPECT_NE(out.find("my-swinir"), std::string::npos) << out;
  EXPECT_NE(out.find("SwinIR x4 (embed_dim=16, num_feat=8, window_size=4, depths=2,2, mlp_ratio=1.5, num_heads=2,4, "
                     "resi_connection=3conv, upsampler=nearest+conv), pytorch"),
            std::string::npos)
      << out;
}

TEST_F(Cli, BrokenSwinIRIsOneLineNamingTheFile) {
  std::ifstream src(kSwinir + "swinir-classical-x4-w8.safetensors", std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  const std::string bad = path("cut.safetensors");
  std::ofstream(bad, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size() / 2));
  const auto r = yamiro("-q upscale " + kSwinir + "rgb18x20.png -o " + path("o.png") + " -m " + bad);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(path("o.png")));
}
