// yamiro_crop IN OUT X Y W H: writes a crop of IN (for bench scripts).
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: yamiro_crop IN OUT X Y W H\n");
    return 2;
  }
  const cv::Mat in = cv::imread(argv[1], cv::IMREAD_UNCHANGED);
  const cv::Rect r(std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]));
  if (in.empty() || (r & cv::Rect(0, 0, in.cols, in.rows)) != r) {
    std::fprintf(stderr, "yamiro_crop: unreadable input or crop outside it\n");
    return 2;
  }
  return cv::imwrite(argv[2], in(r)) ? 0 : 1;
}
