// End-to-end: the OmniSR fixtures (tests/data/omnisr, made by tests/fixtures/make_omnisr.py)
// through the real binary: the raw output against PyTorch's, `models list`, and the warning
// a forced tile gives an image-global network.
#include <algorithm>
#include <cstdlib>

#include "e2e/harness.hpp"

using namespace e2e;

namespace {

const std::string kOmni = std::string(YAMIRO_TEST_DATA) + "/omnisr/";
const std::string kRgbPng = std::string(YAMIRO_TEST_DATA) + "/swinir/rgb18x20.png";
const std::string kWarning = "gives a different result from a whole-image run";

}  // namespace

TEST_F(Cli, OmniSRGoldenThroughTheCommandLine) {
  for (const std::string model : {"omnisr-x4-w8.pth", "omnisr-x2-w4-nobias.safetensors"}) {
    const std::string stem = model.substr(0, model.find('.'));
    const auto r = yamiro("upscale " + kRgbPng + " -o " + path(stem + ".f32") + " -m " + kOmni + model + " --precision fp32");
    ASSERT_EQ(r.code, 0) << r.err;
    // --tile auto runs this image whole (no warning): the output is PyTorch's.
    EXPECT_EQ(r.err.find(kWarning), std::string::npos) << r.err;
    const auto got = read_f32(path(stem + ".f32")), want = read_f32(kOmni + "golden." + stem + ".rgb18x20.f32");
    ASSERT_EQ(got.size(), want.size());
    double d = 0;
    for (std::size_t i = 0; i < got.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(got[i] - want[i])));
    std::printf("yamiro upscale -m %s --precision fp32: max |diff| to PyTorch %.3g\n", model.c_str(), d);
    EXPECT_LE(d, 1e-4) << model;
  }
}

TEST_F(Cli, OmniSRForcedTileWarnsOnceAndStillWritesTheImage) {
  const auto r = yamiro("upscale " + kFixtures + "/rgb48x60.png -o " + path("t.png") + " -m " + kOmni + "omnisr-x2-w4-nobias.pth --tile 16");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto at = r.err.find(kWarning);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kWarning, at + 1), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("OmniSR: its image-global layers see only their tile, so tile 16"), std::string::npos) << r.err;
  const cv::Mat out = cv::imread(path("t.png"), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(out.cols, 120);
  EXPECT_EQ(out.rows, 96);
}

TEST_F(Cli, ModelsListShowsOmniSR) {
  fs::copy_file(kOmni + "omnisr-x4-w8.pth", dir_ / "my-omni.pth");
  ::setenv("YAMIRO_MODELS", dir_.c_str(), 1);
  const auto r = yamiro("models list");
  ::unsetenv("YAMIRO_MODELS");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string out = read_file(path("stdout.txt"));
  EXPECT_NE(out.find("OmniSR x4 (block_num=1, num_feat=16, res_num=2, window_size=8, bias=true, pe=true)"), std::string::npos) << out;
}
