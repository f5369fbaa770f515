// End-to-end: the ESRGAN-family fixtures (tests/data/esrgan, made by
// tests/fixtures/make_esrgan.py) through the real binary: gray and RGBA pictures with
// 1- and 4-channel models, x8 in the 2018 layout, raw float output of a gray model.
#include <algorithm>
#include <cstdlib>

#include "e2e/harness.hpp"

using namespace e2e;

namespace {

const std::string kData = std::string(YAMIRO_TEST_DATA) + "/esrgan/";
const std::string kRgbPng = std::string(YAMIRO_TEST_DATA) + "/swinir/rgb18x20.png";

// Largest difference in 8-bit levels between `img` channel `c` (its own channel order)
// and the golden float plane `plane` of `golden` (planar), quantised as yamiro does.
int level_diff(const cv::Mat& img, int c, const std::vector<float>& golden, int plane) {
  const std::size_t n = static_cast<std::size_t>(img.cols) * img.rows;
  int worst = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const float g = std::min(1.0f, std::max(0.0f, golden.at(plane * n + static_cast<std::size_t>(y) * img.cols + x)));
      const int want = static_cast<int>(std::lround(g * 255.0f));
      worst = std::max(worst, std::abs(static_cast<int>(img.ptr<std::uint8_t>(y)[x * img.channels() + c]) - want));
    }
  return worst;
}

}  // namespace

TEST_F(Cli, GrayPngThroughAOneChannelModelStaysGray) {
  // gray18x20.png is the G plane of rgb18x20: the golden's plane 1.
  const auto r = yamiro("-q upscale " + kData + "gray18x20.png -o " + path("g.png") + " -m " + kData +
                        "esrgan-gray-x2-nf4-gc2.pth --precision fp32");
  ASSERT_EQ(r.code, 0) << r.err;
  const cv::Mat out = cv::imread(path("g.png"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.channels(), 1);
  EXPECT_EQ(out.cols, 40);
  EXPECT_EQ(out.rows, 36);
  EXPECT_LE(level_diff(out, 0, read_f32(kData + "golden.esrgan-gray-x2-nf4-gc2.rgb18x20.f32"), 1), 1);
}

TEST_F(Cli, RgbaPngThroughAFourChannelModelKeepsItsAlpha) {
  const auto r = yamiro("-q upscale " + kData + "rgba18x20.png -o " + path("a.png") + " -m " + kData +
                        "esrgan-rgba-x1-nf4-gc2.safetensors --precision fp32");
  ASSERT_EQ(r.code, 0) << r.err;
  cv::Mat out = cv::imread(path("a.png"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.channels(), 4);
  EXPECT_EQ(out.cols, 20);
  EXPECT_EQ(out.rows, 18);
  cv::cvtColor(out, out, cv::COLOR_BGRA2RGBA);
  const std::string want = read_file(kData + "golden.esrgan-rgba-x1-nf4-gc2.rgba18x20.u8");
  ASSERT_EQ(want.size(), out.total() * 4);
  int worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<int>(static_cast<unsigned char>(want[i])) - static_cast<int>(out.data[i])));
  EXPECT_LE(worst, 1);
}

TEST_F(Cli, RgbaPngThroughAOneChannelModelRunsEveryPlane) {
  const auto r = yamiro("-q upscale " + kData + "rgba18x20.png -o " + path("c.png") + " -m " + kData +
                        "compact-gray-x2-nc2-nf8.safetensors --precision fp32");
  ASSERT_EQ(r.code, 0) << r.err;
  cv::Mat out = cv::imread(path("c.png"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(out.channels(), 4);
  EXPECT_EQ(out.cols, 40);
  EXPECT_EQ(out.rows, 36);
  cv::cvtColor(out, out, cv::COLOR_BGRA2RGBA);
  const auto golden = read_f32(kData + "golden.compact-gray-x2-nc2-nf8.rgb18x20.f32");
  for (int c = 0; c < 3; ++c) EXPECT_LE(level_diff(out, c, golden, c), 1) << c;
}

TEST_F(Cli, RawFloatOutputOfOneChannelAndX8Models) {
  // .f32 (planar RGB float) from the 8-bit RGB picture: each plane through the gray model.
  auto r = yamiro("-q upscale " + kRgbPng + " -o " + path("g.f32") + " -m " + kData +
                  "esrgan-gray-x2-nf4-gc2.safetensors --tile 0 --precision fp32");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto got = read_f32(path("g.f32"));
  const auto want = read_f32(kData + "golden.esrgan-gray-x2-nf4-gc2.rgb18x20.f32");
  ASSERT_EQ(got.size(), want.size());
  double d = 0;
  for (std::size_t i = 0; i < got.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(got[i] - want[i])));
  std::printf("yamiro upscale -m esrgan-gray-x2 -o .f32: max |diff| to PyTorch %.3g\n", d);
  EXPECT_LE(d, 1e-4);
  // x8 in the 2018 ESRGAN layout, tiled: the size and channels of the picture.
  r = yamiro("-q upscale " + kRgbPng + " -o " + path("x8.png") + " -m " + kData + "esrgan-x8-nf4-gc2.old.pth --tile 16");
  ASSERT_EQ(r.code, 0) << r.err;
  const cv::Mat x8 = cv::imread(path("x8.png"), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(x8.channels(), 3);
  EXPECT_EQ(x8.cols, 160);
  EXPECT_EQ(x8.rows, 144);
}

TEST_F(Cli, ModelsListShowsChannels) {
  fs::copy_file(kData + "esrgan-gray-x2-nf4-gc2.pth", dir_ / "my-gray.pth");
  ::setenv("YAMIRO_MODELS", dir_.c_str(), 1);
  const auto r = yamiro("models list");
  ::unsetenv("YAMIRO_MODELS");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string out = read_file(path("stdout.txt"));
  EXPECT_NE(out.find("RRDBNet x2, 1->1 channels (num_block=1, num_feat=4, num_grow_ch=2)"), std::string::npos) << out;
}
