// End-to-end: the image workflow (issue: complete `yamiro upscale`) on real files.
#include <signal.h>

#include <chrono>
#include <thread>

#include "e2e/harness.hpp"

using namespace e2e;
namespace fs = std::filesystem;

namespace {

const std::string kLogo = "/usr/share/doc/opencv-doc/examples/data/opencv-logo.png";
const std::string kFruits = "/usr/share/doc/opencv-doc/examples/data/fruits.jpg";

// A JPEG with an APP1 EXIF segment whose orientation tag is `orientation`.
void write_jpeg_with_orientation(const std::string& path, const cv::Mat& img, int orientation) {
  std::vector<unsigned char> jpg;
  cv::imencode(".jpg", img, jpg);
  const unsigned char exif[] = {0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,               // APP1, length 34
                                'I',  'I',  0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,                  // TIFF header, IFD at 8
                                0x01, 0x00,                                                      // one entry
                                0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,                  // 0x0112 SHORT x1
                                static_cast<unsigned char>(orientation), 0x00, 0x00, 0x00,       // value
                                0x00, 0x00, 0x00, 0x00};                                         // no next IFD
  std::vector<unsigned char> out(jpg.begin(), jpg.begin() + 2);
  out.insert(out.end(), std::begin(exif), std::end(exif));
  out.insert(out.end(), jpg.begin() + 2, jpg.end());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

cv::Mat read(const std::string& p) { return cv::imread(p, cv::IMREAD_UNCHANGED); }

}  // namespace

TEST_F(Cli, RgbaKeepsItsAlpha) {
  for (const std::string mode : {"model", "bicubic"}) {
    const std::string out = path("logo_" + mode + ".png");
    const auto r = yamiro("-q upscale " + kLogo + " -o " + out + " --alpha " + mode + kTiny);
    ASSERT_EQ(r.code, 0) << r.err;
    const cv::Mat in = read(kLogo), m = read(out);
    ASSERT_EQ(m.channels(), 4);
    EXPECT_EQ(m.cols, in.cols * 4);
    EXPECT_EQ(m.rows, in.rows * 4);
    std::vector<cv::Mat> a, b;
    cv::split(in, a);
    cv::split(m, b);
    cv::Mat small;
    cv::resize(b[3], small, a[3].size(), 0, 0, cv::INTER_AREA);
    EXPECT_GT(cv::PSNR(small, a[3]), 25.0) << mode;  // the alpha plane survived
    EXPECT_EQ(b[3].at<unsigned char>(0, 0), a[3].at<unsigned char>(0, 0));  // transparent corner
  }
}

TEST_F(Cli, GrayStaysGray) {
  cv::Mat gray;
  cv::cvtColor(cv::imread(kFixtures + "/rgb48x60.png"), gray, cv::COLOR_BGR2GRAY);
  cv::imwrite(path("g.png"), gray);
  ASSERT_EQ(yamiro("-q upscale " + path("g.png") + kTiny).code, 0);
  const cv::Mat m = read(path("g_x4.png"));
  EXPECT_EQ(m.channels(), 1);
  EXPECT_EQ(m.cols, 240);
}

TEST_F(Cli, SixteenBitStaysSixteenBit) {
  cv::Mat img16;
  cv::imread(kFixtures + "/rgb48x60.png").convertTo(img16, CV_16U, 257.0);
  cv::imwrite(path("deep.png"), img16);
  for (const std::string ext : {"png", "tif"}) {
    ASSERT_EQ(yamiro("-q upscale " + path("deep.png") + " -o " + path("deep_out." + ext) + kTiny).code, 0);
    const cv::Mat m = read(path("deep_out." + ext));
    EXPECT_EQ(m.depth(), CV_16U) << ext;
    EXPECT_EQ(m.channels(), 3);
    EXPECT_EQ(m.cols, 240);
  }
}

TEST_F(Cli, ExifOrientationIsApplied) {
  const cv::Mat img = cv::imread(kFixtures + "/rgb48x60.png");  // 60 wide, 48 high
  write_jpeg_with_orientation(path("rot.jpg"), img, 6);     // "rotate 90 clockwise to view"
  ASSERT_EQ(yamiro("-q upscale " + path("rot.jpg") + kTiny).code, 0);
  const cv::Mat m = read(path("rot_x4.jpg"));
  EXPECT_EQ(m.cols, 48 * 4);
  EXPECT_EQ(m.rows, 60 * 4);
  // The top-left of the upright image is the input's bottom-left.
  cv::Mat small, upright;
  cv::resize(m, small, cv::Size(48, 60), 0, 0, cv::INTER_AREA);
  cv::rotate(img, upright, cv::ROTATE_90_CLOCKWISE);
  EXPECT_GT(cv::PSNR(small, upright), 20.0);
}

TEST_F(Cli, DirectoryTreeMirrorsAndSkipsNonImages) {
  fs::create_directories(path("in/sub/deeper"));
  fs::copy_file(kFixtures + "/rgb48x60.png", path("in/a.png"));
  fs::copy_file(kFixtures + "/rgb48x60.png", path("in/sub/B.PNG"));
  cv::imwrite(path("in/sub/deeper/c.bmp"), cv::imread(kFixtures + "/rgb48x60.png"));
  std::ofstream(path("in/Thumbs.db")) << "x";
  std::ofstream(path("in/sub/.DS_Store")) << "x";
  std::ofstream(path("in/notes.txt")) << "x";
  auto r = yamiro("-q upscale " + path("in") + " -o " + path("out") + kTiny);  // not recursive: top level only
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("out/a_x4.png")));
  EXPECT_FALSE(fs::exists(path("out/sub")));
  r = yamiro("-q upscale -r " + path("in") + " -o " + path("out") + " --skip-existing --json" + kTiny);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("out/sub/B_x4.png")));  // extensions are written in lower case
  EXPECT_TRUE(fs::exists(path("out/sub/deeper/c_x4.png")));  // BMP in, PNG out
  EXPECT_EQ(read(path("out/sub/deeper/c_x4.png")).cols, 240);
  std::ifstream f(path("stdout.txt"));
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("\"status\":\"skipped\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"done\":2"), std::string::npos) << all;
  EXPECT_EQ(all.find("Thumbs"), std::string::npos);
}

TEST_F(Cli, OutscaleAndFormats) {
  const std::string in = kFixtures + "/rgb48x60.png";
  ASSERT_EQ(yamiro("-q upscale " + in + " -o " + path("o2.png") + " --outscale 2" + kTiny).code, 0);
  EXPECT_EQ(read(path("o2.png")).cols, 120);
  ASSERT_EQ(yamiro("-q upscale " + in + " -o " + path("o35.webp") + " --outscale 3.5" + kTiny).code, 0);
  EXPECT_EQ(read(path("o35.webp")).size(), cv::Size(210, 168));
  ASSERT_EQ(yamiro("-q upscale " + in + " -o " + path("fmt") + "/ --format tif --suffix _big" + kTiny).code, 0);
  EXPECT_EQ(read(path("fmt/rgb48x60_big.tif")).cols, 240);
  EXPECT_EQ(yamiro("-q upscale " + in + " -o " + path("x.gif") + kTiny).code, 2);
}

TEST_F(Cli, BombAndTruncatedFilesFailAloneInABatch) {
  // PNG header claiming 100000 x 100000 (a decompression bomb), then nothing.
  const unsigned char bomb[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0, 0, 0, 0, 0};
  fs::create_directories(path("in"));
  std::ofstream(path("in/bomb.png"), std::ios::binary).write(reinterpret_cast<const char*>(bomb), sizeof bomb);
  std::ifstream jf(kFruits, std::ios::binary);
  std::vector<char> jpg((std::istreambuf_iterator<char>(jf)), std::istreambuf_iterator<char>());
  std::ofstream(path("in/cut.jpg"), std::ios::binary).write(jpg.data(), 600);
  fs::copy_file(kFixtures + "/rgb48x60.png", path("in/good.png"));
  const auto r = yamiro("-q upscale " + path("in") + " -o " + path("out") + kTiny);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bomb.png: 100000x100000 exceeds the limit"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cut.jpg"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_TRUE(fs::exists(path("out/good_x4.png")));
  EXPECT_FALSE(fs::exists(path("out/bomb_x4.png")));
  EXPECT_FALSE(fs::exists(path("out/cut_x4.jpg")));
}

TEST_F(Cli, SigkillNeverLeavesATruncatedOutput) {
  // Kill -9 at several moments of a run whose output takes a while to encode; the final
  // name either does not exist or holds a complete image.
  cv::Mat big;
  cv::resize(cv::imread(kFruits), big, cv::Size(1024, 768));
  cv::imwrite(path("big.png"), big);
  for (int ms : {300, 700, 1100, 1500, 1900}) {
    fs::remove(path("big_x4.png"));
    const pid_t pid = fork();
    if (pid == 0) {
      execl(kBin.c_str(), kBin.c_str(), "-q", "upscale", path("big.png").c_str(), "-m",
            (kFixtures + "/compact-x4-nc4-nf16.param").c_str(), "--tile", "0", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (fs::exists(path("big_x4.png"))) EXPECT_EQ(read(path("big_x4.png")).cols, 4096) << ms;
  }
}

// True once `pid` has a handler for SIGINT (the SigCgt mask of /proc/PID/status).
bool catches_sigint(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGINT - 1)) & 1;
  return false;
}

TEST_F(Cli, SigintStopsWith130AndNoOutput) {
  cv::Mat big;
  cv::resize(cv::imread(kFruits), big, cv::Size(1024, 768));
  cv::imwrite(path("big.png"), big);
  const pid_t pid = fork();
  if (pid == 0) {
    execl(kBin.c_str(), kBin.c_str(), "-q", "upscale", path("big.png").c_str(), "-m",
          (kFixtures + "/rrdb-x4-nb2-nf16-gc8.param").c_str(), "--tile", "64", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the process catches SIGINT (libraries loaded, main() running), then let it
  // get into the tiles: a fixed delay is too short on a loaded machine.
  for (int i = 0; i < 200 && !catches_sigint(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const auto t0 = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // next tile boundary, on a loaded machine
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_FALSE(fs::exists(path("big_x4.png")));
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

TEST_F(Cli, PipelinedAndSequentialRunsWriteTheSameFiles) {
  fs::create_directories(path("in"));
  const cv::Mat img = cv::imread(kFruits);
  for (int i = 0; i < 4; ++i) cv::imwrite(path("in/p" + std::to_string(i) + ".png"), img(cv::Rect(i * 40, i * 30, 64, 48)));
  ASSERT_EQ(yamiro("-q upscale " + path("in") + " -o " + path("a") + kTiny).code, 0);
  ASSERT_EQ(yamiro("-q upscale " + path("in") + " -o " + path("b") + " --sequential" + kTiny).code, 0);
  for (int i = 0; i < 4; ++i) {
    const cv::Mat a = read(path("a/p" + std::to_string(i) + "_x4.png")), b = read(path("b/p" + std::to_string(i) + "_x4.png"));
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0) << i;  // in order, nothing mixed up between images
  }
}

// yamiro's PNG encoder against OpenCV's (YAMIRO_PNG=opencv): the files differ, the pixels
// libpng reads back from them do not, for RGBA, gray and 16-bit RGB outputs.
TEST_F(Cli, OwnPngEncoderMatchesOpenCvsPixelForPixel) {
  cv::Mat gray, deep;
  cv::cvtColor(cv::imread(kFixtures + "/rgb48x60.png"), gray, cv::COLOR_BGR2GRAY);
  cv::imwrite(path("g.png"), gray);
  cv::imread(kFixtures + "/rgb48x60.png").convertTo(deep, CV_16U, 257.0);
  cv::imwrite(path("deep.png"), deep);
  for (const std::string& in : {kLogo, path("g.png"), path("deep.png")}) {
    const std::string opts = " --outscale 0.5 --overwrite" + kTiny;
    ASSERT_EQ(yamiro("-q upscale " + in + " -o " + path("own.png") + opts).code, 0) << in;
    ASSERT_EQ(yamiro("-q upscale " + in + " -o " + path("ocv.png") + opts, "YAMIRO_PNG=opencv").code, 0) << in;
    const cv::Mat own = read(path("own.png")), ocv = read(path("ocv.png"));
    ASSERT_FALSE(own.empty()) << in;
    ASSERT_EQ(own.type(), ocv.type()) << in;
    ASSERT_EQ(own.size(), ocv.size()) << in;
    EXPECT_EQ(cv::norm(own, ocv, cv::NORM_INF), 0.0) << in;
    EXPECT_NE(read_file(path("own.png")), read_file(path("ocv.png"))) << "the same bytes: was the encoder switched at all?";
  }
}
