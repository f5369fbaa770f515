// yamiro_psnr A B: prints the PSNR (dB, 8-bit peak) of two same-sized images; exit 2 on error.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: yamiro_psnr A B\n");
    return 2;
  }
  const cv::Mat a = cv::imread(argv[1], cv::IMREAD_UNCHANGED), b = cv::imread(argv[2], cv::IMREAD_UNCHANGED);
  if (a.empty() || b.empty() || a.size() != b.size() || a.type() != b.type()) {
    std::fprintf(stderr, "yamiro_psnr: unreadable or different images\n");
    return 2;
  }
  std::printf("%.3f\n", cv::PSNR(a, b, a.depth() == CV_16U ? 65535.0 : 255.0));
  return 0;
}
