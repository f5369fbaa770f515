// Image decoding and encoding through OpenCV (core, imgproc, imgcodecs).
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "io/tiff_gray_alpha.hpp"
#include "yamiro/error.hpp"
#include "yamiro/image_header.hpp"
#include "yamiro/io.hpp"
#include "yamiro/log.hpp"
#include "yamiro/naming.hpp"
#include "yamiro/paths.hpp"
#include "yamiro/png.hpp"

namespace yamiro {
namespace {

constexpr std::size_t kEncodeInMemoryBytes = 64u << 20;

template <typename T>
void swap_red_blue(T* px, const Image& image) {
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  for (std::size_t i = 0; i < n; ++i, px += image.channels) std::swap(px[0], px[2]);
}

bool is_tiff(const std::string& ext) { return ext == ".tif" || ext == ".tiff"; }

int cv_type(const Image& image) { return CV_MAKETYPE(image.depth_bytes == 2 ? CV_16U : CV_8U, image.channels); }

Image resize_with(const Image& image, int width, int height, int interpolation) {
  const cv::Mat src(image.height, image.width, cv_type(image), const_cast<std::uint8_t*>(image.data.data()));
  Image out(width, height, image.channels, image.depth_bytes);
  cv::Mat dst(height, width, cv_type(out), out.data.data());
  cv::resize(src, dst, cv::Size(width, height), 0, 0, interpolation);
  return out;
}

// EXIF orientation 1-8 -> upright pixels.
void apply_orientation(cv::Mat& m, int orientation) {
  switch (orientation) {
    case 2: cv::flip(m, m, 1); break;
    case 3: cv::rotate(m, m, cv::ROTATE_180); break;
    case 4: cv::flip(m, m, 0); break;
    case 5: cv::transpose(m, m); break;
    case 6: cv::rotate(m, m, cv::ROTATE_90_CLOCKWISE); break;
    case 7: cv::transpose(m, m); cv::flip(m, m, -1); break;
    case 8: cv::rotate(m, m, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: break;
  }
}

// OpenCV's own worker pool would compete with LibTorch's threads for the same cores
// while the pipeline decodes and encodes beside the network: codecs run on the calling
// thread only (yamiro parallelises across images instead).
void single_threaded_opencv() {
  static const bool once = [] {
    cv::setNumThreads(0);
    return true;
  }();
  (void)once;
}

}  // namespace

bool image_io_available() { return true; }
std::string image_library_version() { return CV_VERSION; }

static std::uint64_t max_image_file_bytes(std::int64_t max_pixels) {
  // 8 bytes a pixel (16-bit RGBA stored uncompressed) plus room for metadata; nothing
  // yamiro decodes needs more.
  const std::uint64_t px = max_pixels > 0 ? static_cast<std::uint64_t>(max_pixels) : 0;
  constexpr std::uint64_t kMetadata = 64u << 20;
  return px > (UINT64_MAX - kMetadata) / 8 ? UINT64_MAX : px * 8 + kMetadata;
}

Image read_image(const std::string& path, const ReadLimits& limits) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (a signal could not end that);
  // only regular files are read, so the flag changes nothing for what is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw Error(ErrorKind::Input, path + ": cannot open (" + std::strerror(errno) + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Error(ErrorKind::Input, path + ": cannot stat (" + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::Input, path + ": not a regular file (" + file_kind(st.st_mode) + ")");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) throw Error(ErrorKind::Input, path + ": empty file");
  const std::uint64_t cap = max_image_file_bytes(limits.max_pixels);
  if (size > cap)
    throw Error(ErrorKind::Input, path + ": " + std::to_string(size) + " bytes, more than an image within --max-pixels needs (" +
                                      std::to_string(cap) + "); not read");
  auto read_upto = [&](std::vector<unsigned char>& bytes, std::size_t want) {
    while (bytes.size() < want) {
      const std::size_t at = bytes.size();
      bytes.resize(want);
      const ssize_t n = ::read(fd, bytes.data() + at, want - at);
      if (n < 0 && errno == EINTR) { bytes.resize(at); continue; }
      if (n < 0) throw Error(ErrorKind::Input, path + ": read failed (" + std::strerror(errno) + ")");
      bytes.resize(at + static_cast<std::size_t>(n));
      if (n == 0) break;
    }
  };
  // The header first: a bomb, or a small image in a huge file, is refused before the rest.
  std::vector<unsigned char> bytes;
  read_upto(bytes, static_cast<std::size_t>(std::min<std::uint64_t>(size, 256u << 10)));
  if (const auto h = probe_image_header(bytes)) {
    if (exceeds_pixels(*h, limits.max_pixels))
      throw Error(ErrorKind::Input, path + ": " + std::to_string(h->width) + "x" + std::to_string(h->height) +
                                        " exceeds the limit of " + std::to_string(limits.max_pixels) +
                                        " pixels (--max-pixels); not decoded");
    const std::uint64_t need = max_image_file_bytes(h->width * h->height);  // no overflow: within max_pixels
    if (size > need)
      throw Error(ErrorKind::Input, path + ": " + std::to_string(size) + " bytes, far more than a " + std::to_string(h->width) +
                                        "x" + std::to_string(h->height) + " image needs; not read");
  }
  read_upto(bytes, static_cast<std::size_t>(size));
  if (bytes.size() != size) throw Error(ErrorKind::Input, path + ": changed while being read");
  return decode_image(bytes, path, limits);
}

Image decode_image(const std::vector<unsigned char>& bytes, const std::string& path, const ReadLimits& limits) {
  single_threaded_opencv();
  if (bytes.empty()) throw Error(ErrorKind::Input, path + ": empty file");
  if (const auto h = probe_image_header(bytes)) {
    if (h->width <= 0 || h->height <= 0)
      throw Error(ErrorKind::Input, path + ": header claims an empty image");
    if (exceeds_pixels(*h, limits.max_pixels))
      throw Error(ErrorKind::Input, path + ": " + std::to_string(h->width) + "x" + std::to_string(h->height) +
                                        " exceeds the limit of " + std::to_string(limits.max_pixels) +
                                        " pixels (--max-pixels); not decoded");
  }
  // OpenCV would give a multi-page TIFF's first page, saying nothing: refused, naming the
  // page count. A gray+alpha TIFF, whose alpha OpenCV's decoder drops, is read by libtiff.
  if (const int pages = tiff_page_count(bytes); pages > 1)
    throw Error(ErrorKind::Input, path + ": a TIFF of " + std::to_string(pages) +
                                      " pages (yamiro reads one-page images; split it first, e.g. with tiffsplit)");
  if (tiff_samples_per_pixel(bytes) == 2) return decode_tiff_gray_alpha(bytes, path, limits.max_pixels);
  cv::Mat m;
  try {
    const LibraryOutputToLog quiet;  // libpng/libjpeg/libtiff complain on stderr
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::Input, path + ": cannot decode: " + e.err);
  }
  if (m.empty()) throw Error(ErrorKind::Input, path + ": not a readable image (unknown format or corrupt data)");
  if (static_cast<std::int64_t>(m.cols) * m.rows > limits.max_pixels)
    throw Error(ErrorKind::Input, path + ": exceeds the limit of " + std::to_string(limits.max_pixels) + " pixels (--max-pixels)");
  if (m.depth() != CV_8U && m.depth() != CV_16U)
    throw Error(ErrorKind::Input, path + ": unsupported sample type (8- and 16-bit images are supported)");
  if (m.channels() == 4 && is_gray_alpha_png(bytes)) {
    // OpenCV expands gray+alpha to BGRA; back to gray+alpha (B = G = R = the gray).
    cv::Mat ga;
    const int from_to[] = {0, 0, 3, 1};
    ga.create(m.rows, m.cols, CV_MAKETYPE(m.depth(), 2));
    cv::mixChannels(&m, 1, &ga, 1, from_to, 2);
    m = ga;
  }
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  else if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGBA);
  else if (m.channels() != 1 && m.channels() != 2) throw Error(ErrorKind::Input, path + ": unsupported channel count " + std::to_string(m.channels()));
  apply_orientation(m, exif_orientation(bytes));
  Image img(m.cols, m.rows, m.channels(), m.depth() == CV_16U ? 2 : 1);
  const std::size_t row = img.row_bytes();
  for (int y = 0; y < m.rows; ++y) std::memcpy(img.data.data() + y * row, m.ptr(y), row);
  return img;
}

Image resize_image(const Image& image, int width, int height) {
  const bool shrink = static_cast<std::int64_t>(width) * height < static_cast<std::int64_t>(image.width) * image.height;
  return resize_with(image, width, height, shrink ? cv::INTER_AREA : cv::INTER_LANCZOS4);
}

Image resize_cubic(const Image& image, int width, int height) { return resize_with(image, width, height, cv::INTER_CUBIC); }

void check_output_format(const std::string& path) {
  if (!is_writable_image_path(path))
    throw Error(ErrorKind::Usage, path + ": unknown output format '" + lower_extension(path) + "' (png, jpg, webp, tif)");
}

namespace {

// OpenCV's encoders take 1, 3 or 4 channels: gray+alpha goes to them as RGBA, or as gray to
// JPEG, which has no alpha (yamiro's PNG encoder and libtiff write gray+alpha as it is).
Image gray_alpha_for_opencv(const Image& ga, const std::string& ext) {
  const bool jpeg = ext == ".jpg" || ext == ".jpeg";
  Image out(ga.width, ga.height, jpeg ? 1 : 4, ga.depth_bytes);
  const std::size_t n = static_cast<std::size_t>(ga.width) * ga.height, d = ga.depth_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* px = &ga.data[i * 2 * d];
    if (jpeg) {
      std::memcpy(&out.data[i * d], px, d);
      continue;
    }
    for (int c = 0; c < 3; ++c) std::memcpy(&out.data[(i * 4 + c) * d], px, d);
    std::memcpy(&out.data[(i * 4 + 3) * d], px + d, d);
  }
  return out;
}

// The image as OpenCV's BGR(A) matrix over its own pixels (R and B swapped in place:
// OpenCV's in-place cvtColor copies its source, this does not), and the encoder
// parameters for `ext`. One function for files and memory, so both give the same bytes.
cv::Mat to_encoder_input(Image& image, const std::string& ext, int quality, std::vector<int>& params) {
  if (image.channels == 2) image = gray_alpha_for_opencv(image, ext);
  if (image.channels >= 3) {
    if (image.depth_bytes == 2) swap_red_blue(reinterpret_cast<std::uint16_t*>(image.data.data()), image);
    else swap_red_blue(image.data.data(), image);
  }
  cv::Mat bgr(image.height, image.width, cv_type(image), image.data.data());
  params.clear();
  if (ext == ".jpg" || ext == ".jpeg" || ext == ".webp") {
    params = {ext == ".webp" ? cv::IMWRITE_WEBP_QUALITY : cv::IMWRITE_JPEG_QUALITY, quality};
    if (bgr.depth() != CV_8U) bgr.convertTo(bgr, CV_8U, 1.0 / 257.0);
  }
  return bgr;
}

// PNG is written by yamiro's encoder (png.hpp); YAMIRO_PNG=opencv switches back to
// OpenCV's (libpng, its fastest setting), as a fallback and for side-by-side measurements.
bool own_png_encoder() {
  static const bool own = [] {
    const char* env = std::getenv("YAMIRO_PNG");
    return !(env && std::string(env) == "opencv");
  }();
  return own;
}

// OpenCV's in-memory encoder; `what` starts the error message ("x.png: encoding").
std::vector<unsigned char> encode_in_memory(const cv::Mat& bgr, const std::string& ext, const std::vector<int>& params,
                                            const std::string& what) {
  std::vector<unsigned char> bytes;
  bool ok = false;
  try {
    const LibraryOutputToLog quiet;
    ok = cv::imencode(ext, bgr, bytes, params);
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::Io, what + " failed: " + e.err);
  }
  if (!ok) throw Error(ErrorKind::Io, what + " failed");
  return bytes;
}

}  // namespace

std::vector<unsigned char> encode_image(Image image, const std::string& ext_in, int quality) {
  single_threaded_opencv();
  const std::string ext = lower_extension("x" + ext_in);
  check_output_format("image" + ext);
  if (ext == ".png" && own_png_encoder()) return encode_png(image);
  if (is_tiff(ext) && image.channels == 2) return encode_tiff_gray_alpha(image, "encoding " + ext);
  std::vector<int> params;
  return encode_in_memory(to_encoder_input(image, ext, quality, params), ext, params, "encoding " + ext);
}

void write_image(Image image, const std::string& path, int quality, bool overwrite) {
  single_threaded_opencv();
  check_output_format(path);
  const std::string ext = lower_extension(path);
  if (ext == ".png" && own_png_encoder()) {  // streamed into the file (see png.hpp)
    write_stream_atomic(path, [&](const ByteSink& sink) { encode_png(image, sink); }, overwrite);
    return;
  }
  if (is_tiff(ext) && image.channels == 2) {  // libtiff: OpenCV would write RGBA
    if (image.data.size() <= kEncodeInMemoryBytes) {
      write_file_atomic(path, encode_tiff_gray_alpha(image, path + ": encoding"), overwrite);
      return;
    }
    write_file_atomic(path, [&](const std::string& tmp) { write_tiff_gray_alpha(image, tmp, path + ": encoding or writing"); }, overwrite);
    return;
  }
  std::vector<int> params;
  cv::Mat bgr = to_encoder_input(image, ext, quality, params);
  // OpenCV's file encoders lose why a write failed (WebP's even reports success on a full
  // disk, leaving a truncated file) and libpng/libtiff print to stderr. Outputs up to
  // kEncodeInMemoryBytes are encoded in memory and written by write_file_atomic, which
  // checks every write and names the reason. Larger ones go straight to the file so a big
  // output is not held twice: PNG, JPEG and TIFF still report a failed write there, and
  // WebP (at most 16383 pixels a side) is encoded in memory by OpenCV anyway.
  if (ext == ".webp" || image.data.size() <= kEncodeInMemoryBytes) {
    const std::vector<unsigned char> encoded = encode_in_memory(bgr, ext, params, path + ": encoding");
    bgr.release();
    std::vector<std::uint8_t>().swap(image.data);  // the pixels are not needed any more
    write_file_atomic(path, encoded, overwrite);
    return;
  }
  write_file_atomic(
      path,
      [&](const std::string& tmp) {
        bool ok = false;
        errno = 0;
        try {
          const LibraryOutputToLog quiet;
          ok = cv::imwrite(tmp, bgr, params);
        } catch (const cv::Exception& e) {
          throw Error(ErrorKind::Io, path + ": encoding failed: " + e.err);
        }
        if (!ok) {
          const int err = errno;
          const bool known = err == ENOSPC || err == EFBIG || err == EDQUOT || err == EIO || err == EROFS;
          throw Error(ErrorKind::Io, path + ": encoding or writing failed" + (known ? std::string(": ") + std::strerror(err) : ""));
        }
      },
      overwrite);
}

}  // namespace yamiro
