// Gray+alpha TIFF through libtiff (see tiff_gray_alpha.hpp). libtiff's messages go to a
// per-handle sink (libtiff 4.5's TIFFOpenOptions), never to stderr: the first error becomes
// the one-line reason of the Error thrown, warnings are logged at debug level.
#include "io/tiff_gray_alpha.hpp"

#include <spdlog/spdlog.h>
#include <tiffio.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include "yamiro/error.hpp"
#include "yamiro/image_header.hpp"

namespace yamiro {
namespace {

// What libtiff said about one handle.
struct Messages {
  std::string error;
};

int on_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* m = static_cast<Messages*>(user);
  if (m->error.empty()) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    m->error = buf;
    if (module && *module && m->error.rfind(module, 0) != 0) m->error = std::string(module) + ": " + m->error;
  }
  return 1;  // handled: libtiff's default handler (stderr) is not called
}

int on_warning(TIFF*, void*, const char* module, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  spdlog::debug("libtiff: {}: {}", module ? module : "", buf);
  return 1;
}

struct OptionsDeleter {
  void operator()(TIFFOpenOptions* o) const { TIFFOpenOptionsFree(o); }
};
struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

std::unique_ptr<TIFFOpenOptions, OptionsDeleter> options_for(Messages& m, tmsize_t max_alloc) {
  std::unique_ptr<TIFFOpenOptions, OptionsDeleter> o(TIFFOpenOptionsAlloc());
  if (!o) throw std::bad_alloc();
  TIFFOpenOptionsSetErrorHandlerExtR(o.get(), on_error, &m);
  TIFFOpenOptionsSetWarningHandlerExtR(o.get(), on_warning, &m);
  if (max_alloc > 0) TIFFOpenOptionsSetMaxSingleMemAlloc(o.get(), max_alloc);
  return o;
}

// A byte buffer as a libtiff file: read-only over `bytes`, or growing for writing.
struct Memory {
  const unsigned char* in = nullptr;
  std::vector<unsigned char>* out = nullptr;
  std::uint64_t size = 0, at = 0;
};

tmsize_t mem_read(thandle_t h, void* buf, tmsize_t n) {
  auto* m = static_cast<Memory*>(h);
  const std::uint64_t left = m->at < m->size ? m->size - m->at : 0;
  const auto k = static_cast<std::uint64_t>(std::min<std::uint64_t>(left, static_cast<std::uint64_t>(n)));
  if (k) std::memcpy(buf, (m->in ? m->in : m->out->data()) + m->at, k);
  m->at += k;
  return static_cast<tmsize_t>(k);
}

tmsize_t mem_write(thandle_t h, void* buf, tmsize_t n) {
  auto* m = static_cast<Memory*>(h);
  if (!m->out || n < 0) return -1;
  const std::uint64_t end = m->at + static_cast<std::uint64_t>(n);
  if (end > m->out->size()) m->out->resize(end);
  std::memcpy(m->out->data() + m->at, buf, static_cast<std::size_t>(n));
  m->at = end;
  m->size = std::max<std::uint64_t>(m->size, end);
  return n;
}

toff_t mem_seek(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<Memory*>(h);
  std::uint64_t base = whence == SEEK_CUR ? m->at : whence == SEEK_END ? m->size : 0;
  m->at = base + off;  // toff_t is unsigned: a negative SEEK_CUR offset wraps back, as intended
  return m->at;
}

int mem_close(thandle_t) { return 0; }
toff_t mem_size(thandle_t h) { return static_cast<Memory*>(h)->size; }
int no_map(thandle_t, void**, toff_t*) { return 0; }
void no_unmap(thandle_t, void*, toff_t) {}

template <typename T>
T get(TIFF* t, ttag_t tag, T fallback) {
  T v = fallback;
  return TIFFGetFieldDefaulted(t, tag, &v) == 1 ? v : fallback;
}

// Copies `rows` x `cols` samples of one block (a strip or a tile) into the image.
// `block_stride` samples per block row, `spp` samples per pixel in the block (2 chunky, 1
// planar), `plane` the sample a planar block holds.
void place(const unsigned char* block, std::size_t block_stride, int spp, int plane, Image& img, int x0, int y0, int cols,
           int rows) {
  const std::size_t d = static_cast<std::size_t>(img.depth_bytes);
  for (int y = 0; y < rows; ++y) {
    const unsigned char* src = block + static_cast<std::size_t>(y) * block_stride * d;
    unsigned char* dst = img.data.data() + (static_cast<std::size_t>(y0 + y) * img.width + x0) * 2 * d;
    if (spp == 2) {
      std::memcpy(dst, src, static_cast<std::size_t>(cols) * 2 * d);
      continue;
    }
    for (int x = 0; x < cols; ++x) std::memcpy(dst + (static_cast<std::size_t>(x) * 2 + plane) * d, src + x * d, d);
  }
}

template <typename T>
void fix_samples(Image& img, bool min_is_white, bool associated) {
  auto* px = reinterpret_cast<T*>(img.data.data());
  const std::size_t n = static_cast<std::size_t>(img.width) * img.height;
  const T top = static_cast<T>(~T{0});
  for (std::size_t i = 0; i < n; ++i, px += 2) {
    if (min_is_white) px[0] = static_cast<T>(top - px[0]);
    if (associated) {  // premultiplied: gray <= alpha; back to the unassociated value
      const std::uint32_t a = px[1];
      px[0] = a == 0 ? 0 : static_cast<T>(std::min<std::uint32_t>(top, (std::uint32_t{px[0]} * top + a / 2) / a));
    }
  }
}

}  // namespace

Image decode_tiff_gray_alpha(const std::vector<unsigned char>& bytes, const std::string& name, std::int64_t max_pixels) {
  Messages msg;
  Memory mem;
  mem.in = bytes.data();
  mem.size = bytes.size();
  // libtiff allocates at most a strip or tile at once; nothing it needs is larger than the
  // decoded image or the file itself.
  const std::uint64_t cap = std::min<std::uint64_t>(std::uint64_t{8} * static_cast<std::uint64_t>(std::max<std::int64_t>(max_pixels, 1)), 1ULL << 40) +
                            bytes.size() + (1u << 20);
  auto opts = options_for(msg, static_cast<tmsize_t>(std::min<std::uint64_t>(cap, static_cast<std::uint64_t>(INT64_MAX))));
  auto fail = [&](const std::string& what) {
    return Error(ErrorKind::Input, name + ": " + what + (msg.error.empty() ? "" : " (" + msg.error + ")"));
  };
  TiffPtr t(TIFFClientOpenExt(name.c_str(), "rm", &mem, mem_read, mem_write, mem_seek, mem_close, mem_size, no_map, no_unmap,
                              opts.get()));
  if (!t) throw fail("not a readable TIFF");
  const auto w = get<std::uint32_t>(t.get(), TIFFTAG_IMAGEWIDTH, 0), h = get<std::uint32_t>(t.get(), TIFFTAG_IMAGELENGTH, 0);
  const auto spp = get<std::uint16_t>(t.get(), TIFFTAG_SAMPLESPERPIXEL, 1), bits = get<std::uint16_t>(t.get(), TIFFTAG_BITSPERSAMPLE, 1);
  const auto format = get<std::uint16_t>(t.get(), TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
  const auto photometric = get<std::uint16_t>(t.get(), TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  const auto planar = get<std::uint16_t>(t.get(), TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  if (w == 0 || h == 0) throw fail("header claims an empty image");
  if (exceeds_pixels(ImageHeader{"tiff", w, h}, max_pixels))
    throw Error(ErrorKind::Input, name + ": " + std::to_string(w) + "x" + std::to_string(h) + " exceeds the limit of " +
                                      std::to_string(max_pixels) + " pixels (--max-pixels); not decoded");
  if (w > 0x7fffffffu || h > 0x7fffffffu) throw fail("dimensions out of range");
  if (spp != 2) throw fail(std::to_string(spp) + " samples a pixel where gray+alpha has 2");
  if (bits != 8 && bits != 16) throw fail(std::to_string(bits) + "-bit samples (8- and 16-bit images are supported)");
  if (format != SAMPLEFORMAT_UINT) throw fail("signed or floating-point samples (unsigned 8- and 16-bit are supported)");
  if (photometric != PHOTOMETRIC_MINISBLACK && photometric != PHOTOMETRIC_MINISWHITE)
    throw fail("two samples a pixel with photometric interpretation " + std::to_string(photometric) + " (gray+alpha is supported)");
  if (planar != PLANARCONFIG_CONTIG && planar != PLANARCONFIG_SEPARATE) throw fail("unknown planar configuration");
  const std::uint16_t compression = get<std::uint16_t>(t.get(), TIFFTAG_COMPRESSION, COMPRESSION_NONE);
  if (!TIFFIsCODECConfigured(compression)) throw fail("compression " + std::to_string(compression) + " is not supported by this libtiff");
  bool associated = false;
  std::uint16_t n_extra = 0;
  std::uint16_t* extra = nullptr;
  if (TIFFGetField(t.get(), TIFFTAG_EXTRASAMPLES, &n_extra, &extra) == 1 && n_extra == 1 && extra)
    associated = extra[0] == EXTRASAMPLE_ASSOCALPHA;

  Image img(static_cast<int>(w), static_cast<int>(h), 2, bits / 8);
  const bool separate = planar == PLANARCONFIG_SEPARATE;
  const int block_spp = separate ? 1 : 2;
  const int planes = separate ? 2 : 1;
  std::vector<unsigned char> block;
  if (TIFFIsTiled(t.get())) {
    const auto tw = get<std::uint32_t>(t.get(), TIFFTAG_TILEWIDTH, 0), th = get<std::uint32_t>(t.get(), TIFFTAG_TILELENGTH, 0);
    const tmsize_t size = TIFFTileSize(t.get());
    if (tw == 0 || th == 0 || size <= 0) throw fail("damaged tile layout");
    if (static_cast<std::uint64_t>(size) < std::uint64_t{tw} * th * block_spp * (bits / 8)) throw fail("damaged tile layout");
    block.resize(static_cast<std::size_t>(size));
    for (int p = 0; p < planes; ++p)
      for (std::uint32_t y = 0; y < h; y += th)
        for (std::uint32_t x = 0; x < w; x += tw) {
          const uint32_t tile = TIFFComputeTile(t.get(), x, y, 0, static_cast<std::uint16_t>(p));
          if (TIFFReadEncodedTile(t.get(), tile, block.data(), size) < 0)
            throw fail("damaged or truncated tile at " + std::to_string(x) + "," + std::to_string(y));
          place(block.data(), tw * static_cast<std::size_t>(block_spp), block_spp, p, img, static_cast<int>(x), static_cast<int>(y),
                static_cast<int>(std::min(tw, w - x)), static_cast<int>(std::min(th, h - y)));
        }
  } else {
    const auto rps = std::min<std::uint32_t>(get<std::uint32_t>(t.get(), TIFFTAG_ROWSPERSTRIP, h), h);
    const tmsize_t size = TIFFStripSize(t.get());
    const std::size_t row_bytes = static_cast<std::size_t>(w) * block_spp * (bits / 8);
    if (rps == 0 || size <= 0 || static_cast<std::uint64_t>(size) < std::uint64_t{rps} * row_bytes) throw fail("damaged strip layout");
    block.resize(static_cast<std::size_t>(size));
    for (int p = 0; p < planes; ++p)
      for (std::uint32_t y = 0; y < h; y += rps) {
        const std::uint32_t rows = std::min(rps, h - y);
        const uint32_t strip = TIFFComputeStrip(t.get(), y, static_cast<std::uint16_t>(p));
        const tmsize_t got = TIFFReadEncodedStrip(t.get(), strip, block.data(), static_cast<tmsize_t>(rows * row_bytes));
        if (got < 0 || static_cast<std::size_t>(got) < rows * row_bytes)
          throw fail("damaged or truncated data at row " + std::to_string(y));
        place(block.data(), static_cast<std::size_t>(w) * block_spp, block_spp, p, img, 0, static_cast<int>(y), static_cast<int>(w),
              static_cast<int>(rows));
      }
  }
  if (!msg.error.empty()) throw fail("damaged data");
  const bool white = photometric == PHOTOMETRIC_MINISWHITE;
  if (white || associated) {
    if (bits == 16) fix_samples<std::uint16_t>(img, white, associated);
    else fix_samples<std::uint8_t>(img, white, associated);
  }
  return img;
}

namespace {

// The directory and pixels of `img` into an open handle; false when libtiff failed.
bool write_to(TIFF* t, const Image& img) {
  const std::uint16_t bits = static_cast<std::uint16_t>(img.depth_bytes * 8);
  const std::uint16_t extra[1] = {EXTRASAMPLE_UNASSALPHA};
  const std::size_t row = img.row_bytes();
  // Strips of about 64 KiB (libtiff's advice: 8 KiB or more).
  const auto rps = static_cast<std::uint32_t>(std::max<std::size_t>(1, (64u << 10) / std::max<std::size_t>(row, 1)));
  if (!TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(img.width)) ||
      !TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(img.height)) ||
      !TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t{2}) || !TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits) ||
      !TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, std::uint16_t{SAMPLEFORMAT_UINT}) ||
      !TIFFSetField(t, TIFFTAG_PHOTOMETRIC, std::uint16_t{PHOTOMETRIC_MINISBLACK}) ||
      !TIFFSetField(t, TIFFTAG_PLANARCONFIG, std::uint16_t{PLANARCONFIG_CONTIG}) ||
      !TIFFSetField(t, TIFFTAG_EXTRASAMPLES, std::uint16_t{1}, extra) ||
      !TIFFSetField(t, TIFFTAG_COMPRESSION, std::uint16_t{COMPRESSION_LZW}) ||
      !TIFFSetField(t, TIFFTAG_PREDICTOR, std::uint16_t{PREDICTOR_HORIZONTAL}) ||
      !TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rps))
    return false;
  std::vector<unsigned char> strip;
  for (std::uint32_t y = 0; y < static_cast<std::uint32_t>(img.height); y += rps) {
    const std::uint32_t rows = std::min<std::uint32_t>(rps, static_cast<std::uint32_t>(img.height) - y);
    // libtiff's predictor works in place on what it is given: hand it a copy.
    strip.assign(img.data.begin() + static_cast<std::ptrdiff_t>(y * row), img.data.begin() + static_cast<std::ptrdiff_t>((y + rows) * row));
    if (TIFFWriteEncodedStrip(t, TIFFComputeStrip(t, y, 0), strip.data(), static_cast<tmsize_t>(strip.size())) < 0) return false;
  }
  return TIFFWriteDirectory(t) == 1 && TIFFFlush(t) == 1;
}

void check_image(const Image& img, const std::string& what) {
  if (img.channels != 2 || (img.depth_bytes != 1 && img.depth_bytes != 2) || img.width <= 0 || img.height <= 0)
    throw Error(ErrorKind::Io, what + " failed: not a gray+alpha image");
}

}  // namespace

std::vector<unsigned char> encode_tiff_gray_alpha(const Image& image, const std::string& what) {
  check_image(image, what);
  Messages msg;
  std::vector<unsigned char> out;
  Memory mem;
  mem.out = &out;
  auto opts = options_for(msg, 0);
  TiffPtr t(TIFFClientOpenExt("memory", "w", &mem, mem_read, mem_write, mem_seek, mem_close, mem_size, no_map, no_unmap,
                              opts.get()));
  if (!t || !write_to(t.get(), image)) throw Error(ErrorKind::Io, what + " failed" + (msg.error.empty() ? "" : ": " + msg.error));
  t.reset();
  out.resize(static_cast<std::size_t>(mem.size));
  return out;
}

void write_tiff_gray_alpha(const Image& image, const std::string& path, const std::string& what) {
  check_image(image, what);
  Messages msg;
  auto opts = options_for(msg, 0);
  errno = 0;
  TiffPtr t(TIFFOpenExt(path.c_str(), "w", opts.get()));
  bool ok = t && write_to(t.get(), image);
  const int err = errno;
  t.reset();  // TIFFClose: its own failures surface as errors in `msg`
  ok = ok && msg.error.empty();
  if (!ok) {
    const bool known = err == ENOSPC || err == EFBIG || err == EDQUOT || err == EIO || err == EROFS;
    throw Error(ErrorKind::Io, what + " failed" + (known ? std::string(": ") + std::strerror(err) : msg.error.empty() ? "" : ": " + msg.error));
  }
}

}  // namespace yamiro
