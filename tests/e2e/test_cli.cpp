// End-to-end: the real yamiro binary on real files; checks pixels, sizes and exit codes.
#include "e2e/harness.hpp"

using namespace e2e;
namespace fs = std::filesystem;

TEST_F(Cli, GoldenThroughTheCommandLine) {
  for (const std::string model : {"rrdb-x4-nb2-nf16-gc8", "compact-x4-nc4-nf16"}) {
    const std::string out = path(model + ".f32");
    const auto r = yamiro("-q upscale " + kFixtures + "/rgb48x60.png -o " + out + " -m " + kFixtures + "/" + model +
                          ".param --tile 0 --precision fp32");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto got = read_f32(out), want = read_f32(kFixtures + "/golden." + model + ".rgb48x60.f32");
    ASSERT_EQ(got.size(), want.size());
    double m = 0;
    for (std::size_t i = 0; i < got.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(got[i] - want[i])));
    EXPECT_LE(m, 1e-4) << model;
  }
}

// SPEC §3: the weights decide the output, not the file format they came in.
TEST_F(Cli, SameWeightsInEveryFormatGiveIdenticalOutput) {
  for (const std::string model : {"rrdb-x4-nb2-nf16-gc8", "compact-x4-nc4-nf16"}) {
    std::string first;
    for (const std::string ext : {"param", "pth", "safetensors"}) {
      const std::string out = path(model + "." + ext + ".f32");
      const Result r = yamiro("upscale " + kFixtures + "/rgb48x60.png -m " + kFixtures + "/" + model + "." + ext +
                              " --precision fp32 --tile 0 -o " + out);
      ASSERT_EQ(r.code, 0) << r.err;
      const std::string got = read_file(out);
      ASSERT_FALSE(got.empty());
      if (first.empty()) first = got;
      EXPECT_EQ(got, first) << model << "." << ext << " differs from the ncnn export's output";
    }
  }
}

TEST_F(Cli, FixtureModelGivesA4xPng) {
  const auto r = yamiro("-q upscale " + kFixtures + "/rgb48x60.png -o " + path("o.png") + " -m " + kFixtures + "/compact-x4-nc4-nf16.param");
  ASSERT_EQ(r.code, 0) << r.err;
  const cv::Mat m = cv::imread(path("o.png"), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(m.cols, 240);
  EXPECT_EQ(m.rows, 192);
  EXPECT_EQ(m.channels(), 3);
}

TEST_F(Cli, DefaultNameBesideTheInput) {
  fs::copy_file(kFixtures + "/rgb48x60.png", path("photo.png"));
  const auto r = yamiro("-q upscale " + path("photo.png") + " -m " + kFixtures + "/compact-x4-nc4-nf16.param");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("photo_x4.png")));
  // No temporary files left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.path().filename().string()[0] == '.';
  EXPECT_EQ(files, 0);
}

TEST_F(Cli, ExistingOutputIsRefusedAndKept) {
  std::ofstream(path("o.png")) << "keep me";
  const auto r = yamiro("-q upscale " + kFixtures + "/rgb48x60.png -o " + path("o.png") + " -m " + kFixtures + "/compact-x4-nc4-nf16.param");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(path("o.png")), "keep me");
  EXPECT_EQ(yamiro("-q upscale " + kFixtures + "/rgb48x60.png -o " + path("o.png") + " --overwrite -m " + kFixtures +
                   "/compact-x4-nc4-nf16.param").code, 0);
  EXPECT_EQ(cv::imread(path("o.png")).cols, 240);
}

TEST_F(Cli, OutputNeverReplacesItsInput) {
  fs::copy_file(kFixtures + "/rgb48x60.png", path("in.png"));
  fs::create_hard_link(path("in.png"), path("link.png"));
  const auto size = fs::file_size(path("in.png"));
  for (const std::string target : {"in.png", "link.png"}) {
    const auto r = yamiro("-q upscale " + path("in.png") + " -o " + path(target) + " --overwrite -m " + kFixtures + "/compact-x4-nc4-nf16.param");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("replace its input"), std::string::npos) << r.err;
  }
  EXPECT_EQ(fs::file_size(path("in.png")), size);
}

TEST_F(Cli, BadInputsGiveOneLineAndExitOneWhileOthersAreWritten) {
  std::ofstream(path("notimage.png")) << "this is text";
  fs::copy_file(kFixtures + "/rgb48x60.png", path("good.png"));
  fs::create_directories(path("out"));
  const auto r = yamiro("-q upscale " + path("notimage.png") + " " + path("missing.png") + " " + path("good.png") + " -o " +
                        path("out") + " -m " + kFixtures + "/compact-x4-nc4-nf16.param");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("notimage.png: not a readable image"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.png: cannot open"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_TRUE(fs::exists(path("out/good_x4.png")));
  EXPECT_FALSE(fs::exists(path("out/notimage_x4.png")));
}

TEST_F(Cli, ExitCodesForModelDeviceAndUsage) {
  const std::string in = kFixtures + "/rgb48x60.png -o " + path("o.png");
  EXPECT_EQ(yamiro("upscale " + in + " -m no-such-model").code, 3);
  EXPECT_EQ(yamiro("upscale " + in + " -m " + kFixtures + "/rgb48x60.png").code, 3);
  auto r = yamiro("upscale " + in + " -m " + kFixtures + "/compact-x4-nc4-nf16.param --device cuda:7");
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(yamiro("upscale " + in + " --precision int4").code, 2);
  EXPECT_EQ(yamiro("upscale " + in + " --tile -5").code, 2);
  EXPECT_EQ(yamiro("upscale").code, 2);
  EXPECT_EQ(yamiro("frobnicate").code, 2);
  EXPECT_FALSE(fs::exists(path("o.png")));
}

TEST_F(Cli, JsonLinesOnStdout) {
  const auto r = yamiro("-q upscale " + kFixtures + "/rgb48x60.png -o " + path("o.png") + " --json -m " + kFixtures + "/compact-x4-nc4-nf16.param");
  ASSERT_EQ(r.code, 0);
  std::ifstream f(path("stdout.txt"));
  std::string line;
  std::getline(f, line);
  EXPECT_NE(line.find("\"status\":\"done\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"width\":240"), std::string::npos) << line;
}

TEST_F(Cli, RealModelsOnAPhoto) {
  if (!have_real_models()) GTEST_SKIP() << "run scripts/fetch-models.sh first";
  ASSERT_TRUE(fs::exists(kButterfly)) << "opencv-doc is not installed";
  // The default model, default settings: 256x256 -> 1024x1024.
  auto r = yamiro("-q upscale " + kButterfly + " -o " + path("fast.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  const cv::Mat out = cv::imread(path("fast.png"), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(out.cols, 1024);
  EXPECT_EQ(out.rows, 1024);
  // It is an upscale of the photo: its area-downscale is close to the input.
  cv::Mat small;
  cv::resize(out, small, cv::Size(256, 256), 0, 0, cv::INTER_AREA);
  EXPECT_GT(cv::PSNR(small, cv::imread(kButterfly)), 25.0);
  // bf16 within 45 dB of fp32, for both built-in models.
  for (const std::string m : {"realesrgan-x4fast", "realesrgan-x4plus"}) {
    ASSERT_EQ(yamiro("-q upscale " + kButterfly + " -m " + m + " --tile 0 --precision fp32 -o " + path(m + "_fp32.png")).code, 0);
    ASSERT_EQ(yamiro("-q upscale " + kButterfly + " -m " + m + " --tile 0 --precision bf16 -o " + path(m + "_bf16.png")).code, 0);
    EXPECT_GE(psnr(path(m + "_fp32.png"), path(m + "_bf16.png")), 45.0) << m;
  }
  // Seams: tile 128 with the default pad within 45 dB of the untiled fp32 run.
  ASSERT_EQ(yamiro("-q upscale " + kButterfly + " -m realesrgan-x4plus --tile 128 --precision fp32 -o " + path("tiled.png")).code, 0);
  EXPECT_GE(psnr(path("realesrgan-x4plus_fp32.png"), path("tiled.png")), 45.0);
}

TEST_F(Cli, TorchScriptNeedsTrustModel) {
  const std::string ts = kFixtures + "/compact-x4-nc4-nf16.torchscript.pt";
  auto r = yamiro("upscale " + kFixtures + "/rgb48x60.png -o " + path("o.f32") + " -m " + ts + " --tile 0 --precision fp32");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("--trust-model"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("o.f32")));
  r = yamiro("-q upscale " + kFixtures + "/rgb48x60.png -o " + path("o.f32") + " -m " + ts + " --tile 0 --precision fp32 --trust-model");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto got = read_f32(path("o.f32")), want = read_f32(kFixtures + "/golden.compact-x4-nc4-nf16.rgb48x60.f32");
  ASSERT_EQ(got.size(), want.size());
  double m = 0;
  for (std::size_t i = 0; i < got.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(got[i] - want[i])));
  EXPECT_LE(m, 1e-4);
}

// Global options (-q, -v, --no-progress) are accepted before and after the subcommand and
// listed in each command's --help.
TEST_F(Cli, GlobalOptionsAfterTheSubcommand) {
  const std::string in = kFixtures + "/rgb48x60.png";
  Result r = yamiro("upscale " + in + " -o " + path("a.png") + kTiny + " -q --no-progress");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "-q after the subcommand keeps stderr quiet";
  r = yamiro("upscale " + in + " -o " + path("b.png") + kTiny + " -v");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("debug"), std::string::npos) << "-v after the subcommand shows debug lines: " << r.err;
  r = yamiro("-q upscale " + in + " -o " + path("c.png") + kTiny);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(yamiro("info -q").code, 0);
  EXPECT_EQ(yamiro("models list -q").code, 0);
  // An input error, not "arguments were not expected" (exit 2).
  r = yamiro("video " + path("missing.mp4") + " -v --no-progress");
  EXPECT_NE(r.code, 2) << r.err;
  for (const std::string cmd : {"upscale", "video", "bench", "info", "models", "models list"}) {
    r = yamiro(cmd + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    const std::string out = read_file(path("stdout.txt"));
    for (const std::string flag : {"--quiet", "--verbose", "--no-progress"})
      EXPECT_NE(out.find(flag), std::string::npos) << cmd << " --help does not list " << flag;
  }
}
