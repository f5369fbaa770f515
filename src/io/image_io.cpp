// Image decoding and encoding through OpenCV (core, imgproc, imgcodecs).
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "yamiro/error.hpp"
#include "yamiro/io.hpp"

namespace yamiro {
namespace {

std::string lower_ext(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

}  // namespace

bool image_io_available() { return true; }

Image read_image(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorKind::Input, path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw Error(ErrorKind::Input, path + ": empty file");
  cv::Mat m;
  try {
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::Input, path + ": cannot decode: " + e.err);
  }
  if (m.empty()) throw Error(ErrorKind::Input, path + ": not a readable image (unknown format or corrupt data)");
  if (m.depth() != CV_8U && m.depth() != CV_16U)
    throw Error(ErrorKind::Input, path + ": unsupported sample type (8- and 16-bit images are supported)");
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  else if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGBA);
  else if (m.channels() != 1) throw Error(ErrorKind::Input, path + ": unsupported channel count " + std::to_string(m.channels()));
  Image img(m.cols, m.rows, m.channels(), m.depth() == CV_16U ? 2 : 1);
  const std::size_t row = img.row_bytes();
  for (int y = 0; y < m.rows; ++y) std::memcpy(img.data.data() + y * row, m.ptr(y), row);
  return img;
}

std::vector<unsigned char> encode_image(const Image& image, const std::string& path, int quality) {
  const std::string ext = lower_ext(path);
  static const std::vector<std::string> known = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"};
  if (std::find(known.begin(), known.end(), ext) == known.end())
    throw Error(ErrorKind::Usage, path + ": unknown output format '" + ext + "' (png, jpg, webp, tif)");
  const int type = CV_MAKETYPE(image.depth_bytes == 2 ? CV_16U : CV_8U, image.channels);
  cv::Mat m(image.height, image.width, type, const_cast<std::uint8_t*>(image.data.data()));
  cv::Mat bgr;
  if (image.channels == 3) cv::cvtColor(m, bgr, cv::COLOR_RGB2BGR);
  else if (image.channels == 4) cv::cvtColor(m, bgr, cv::COLOR_RGBA2BGRA);
  else bgr = m;
  std::vector<int> params;
  if (ext == ".jpg" || ext == ".jpeg") {
    params = {cv::IMWRITE_JPEG_QUALITY, quality};
    if (bgr.depth() != CV_8U) bgr.convertTo(bgr, CV_8U, 1.0 / 257.0);
  } else if (ext == ".webp") {
    params = {cv::IMWRITE_WEBP_QUALITY, std::clamp(quality, 1, 100)};
    if (bgr.depth() != CV_8U) bgr.convertTo(bgr, CV_8U, 1.0 / 257.0);
  }
  std::vector<unsigned char> out;
  try {
    if (!cv::imencode(ext, bgr, out, params)) throw Error(ErrorKind::Io, path + ": encoding failed");
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::Io, path + ": encoding failed: " + e.err);
  }
  return out;
}

}  // namespace yamiro
