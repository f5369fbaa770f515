// Shared harness for end-to-end tests: runs the real yamiro binary in a temp folder.
#pragma once
#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

namespace fs = std::filesystem;

namespace e2e {

inline const std::string kBin = YAMIRO_BIN;
// tests/data/fixtures: the tiny RRDB/Compact models in every format, their goldens and
// rgb48x60.png (made by tests/fixtures/make_fixtures.py).
inline const std::string kFixtures = YAMIRO_FIXTURES;
inline const std::string kTiny = " -m " + kFixtures + "/compact-x4-nc4-nf16.param";
inline const std::string kButterfly = "/usr/share/doc/opencv-doc/examples/dnn_superres/butterfly.png";

// The whole file as bytes ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct Result {
  int code;
  std::string err;
};

class Cli : public yamiro::test::TempDirTest {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs yamiro with `args` (a shell fragment) and `env` ("NAME=value ...", may be empty);
  // returns the exit code and stderr.
  Result yamiro(const std::string& args, const std::string& env = "") const {
    const std::string err = path("stderr.txt");
    const std::string command = (env.empty() ? "" : env + " ") + kBin + " " + args;
    const int status = std::system((command + " > " + path("stdout.txt") + " 2> " + err).c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err)};
  }

  static bool have_real_models() {
    const char* home = std::getenv("HOME");
    return home && fs::exists(fs::path(home) / ".cache/yamiro/models/realesrgan-x4plus.param");
  }

};

inline std::vector<float> read_f32(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

inline double psnr(const std::string& a, const std::string& b) {
  const cv::Mat x = cv::imread(a, cv::IMREAD_UNCHANGED), y = cv::imread(b, cv::IMREAD_UNCHANGED);
  EXPECT_FALSE(x.empty());
  EXPECT_EQ(x.size(), y.size());
  return cv::PSNR(x, y);
}

}  // namespace e2e
