// yamiro's PNG encoder against OpenCV's PNG writer (its default, fastest setting) on one
// image, one thread, interleaved run by run so both see the same machine: median seconds,
// file sizes, and that libpng reads the same pixels back from both. bench/png.sh runs it.
// Usage: yamiro_png_speed IMAGE [RUNS]
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "yamiro/bench.hpp"
#include "yamiro/png.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: yamiro_png_speed IMAGE [RUNS]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 9;
  cv::setNumThreads(1);
  const cv::Mat bgr = cv::imread(argv[1], cv::IMREAD_UNCHANGED);
  if (bgr.empty() || (bgr.depth() != CV_8U && bgr.depth() != CV_16U)) {
    std::fprintf(stderr, "%s: cannot read an 8- or 16-bit image\n", argv[1]);
    return 1;
  }
  // yamiro's Image holds RGB(A); OpenCV's writer takes BGR(A).
  cv::Mat rgb;  // a new matrix: converting into one that shares bgr's pixels would swap them in place
  if (bgr.channels() == 3) cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  else if (bgr.channels() == 4) cv::cvtColor(bgr, rgb, cv::COLOR_BGRA2RGBA);
  else rgb = bgr;
  yamiro::Image img(rgb.cols, rgb.rows, rgb.channels(), static_cast<int>(rgb.elemSize1()));
  for (int y = 0; y < rgb.rows; ++y) std::memcpy(img.data.data() + y * img.row_bytes(), rgb.ptr(y), img.row_bytes());

  std::vector<double> own_s, cv_s;
  std::vector<unsigned char> own, ocv;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    own = yamiro::encode_png(img);
    own_s.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    cv::imencode(".png", bgr, ocv);
    cv_s.push_back(seconds_since(t0));
  }
  const cv::Mat a = cv::imdecode(own, cv::IMREAD_UNCHANGED), b = cv::imdecode(ocv, cv::IMREAD_UNCHANGED);
  const bool same = !a.empty() && a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
  const double mo = yamiro::summarize(own_s).median, mc = yamiro::summarize(cv_s).median;
  std::printf("%s: %dx%d, %d channel(s), %d-bit, %d runs each, interleaved, one thread\n", argv[1], img.width, img.height,
              img.channels, 8 * img.depth_bytes, runs);
  std::printf("  yamiro  %8.1f ms  %10zu bytes\n", mo * 1e3, own.size());
  std::printf("  OpenCV  %8.1f ms  %10zu bytes\n", mc * 1e3, ocv.size());
  std::printf("  speed-up %.2fx, size %.1f %% of OpenCV's; pixels read back by libpng %s\n", mc / mo,
              100.0 * static_cast<double>(own.size()) / static_cast<double>(ocv.size()), same ? "identical" : "DIFFER");
  return same ? 0 : 1;
}
