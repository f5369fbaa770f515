#include "yamiro/image_header.hpp"

#include <algorithm>
#include <cstring>
#include <set>

namespace yamiro {
namespace {

using Bytes = std::vector<unsigned char>;

std::uint32_t be32(const Bytes& b, std::size_t i) {
  return (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16) | (std::uint32_t{b[i + 2]} << 8) | b[i + 3];
}
std::uint16_t be16(const Bytes& b, std::size_t i) { return static_cast<std::uint16_t>((b[i] << 8) | b[i + 1]); }
std::uint32_t le32(const Bytes& b, std::size_t i) {
  return (std::uint32_t{b[i + 3]} << 24) | (std::uint32_t{b[i + 2]} << 16) | (std::uint32_t{b[i + 1]} << 8) | b[i];
}
std::uint16_t le16(const Bytes& b, std::size_t i) { return static_cast<std::uint16_t>((b[i + 1] << 8) | b[i]); }

bool starts(const Bytes& b, const char* magic, std::size_t n, std::size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

std::optional<ImageHeader> jpeg(const Bytes& b) {
  std::size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF) return std::nullopt;
    const unsigned char marker = b[i + 1];
    if (marker == 0xFF) { ++i; continue; }  // fill bytes
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }
    const std::size_t len = be16(b, i + 2);
    if (len < 2) return std::nullopt;
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) return std::nullopt;
      return ImageHeader{"jpeg", be16(b, i + 7), be16(b, i + 5)};
    }
    i += 2 + len;
  }
  return std::nullopt;
}

// TIFF structure (also EXIF's): returns the value of `tag` in IFD0, or -1.
long tiff_tag(const Bytes& b, std::size_t base, std::size_t end, std::uint16_t tag) {
  if (base + 8 > end) return -1;
  const bool le = b[base] == 'I';
  auto r16 = [&](std::size_t i) { return le ? le16(b, i) : be16(b, i); };
  auto r32 = [&](std::size_t i) { return le ? le32(b, i) : be32(b, i); };
  const std::size_t ifd = base + r32(base + 4);
  if (ifd + 2 > end || ifd < base) return -1;
  const std::size_t n = r16(ifd);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t e = ifd + 2 + 12 * k;
    if (e + 12 > end) return -1;
    if (r16(e) != tag) continue;
    const std::uint16_t type = r16(e + 2);
    return type == 3 ? r16(e + 8) : type == 4 ? static_cast<long>(r32(e + 8)) : -1;
  }
  return -1;
}

}  // namespace

std::optional<ImageHeader> probe_image_header(const Bytes& b) {
  if (starts(b, "\x89PNG\r\n\x1a\n", 8)) {
    if (b.size() < 24 || !starts(b, "IHDR", 4, 12)) return std::nullopt;
    return ImageHeader{"png", be32(b, 16), be32(b, 20)};
  }
  if (starts(b, "\xFF\xD8", 2)) return jpeg(b);
  if (starts(b, "RIFF", 4) && starts(b, "WEBP", 4, 8) && b.size() >= 30) {
    if (starts(b, "VP8 ", 4, 12)) return ImageHeader{"webp", le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF};
    if (starts(b, "VP8L", 4, 12) && b.size() >= 25) {
      const std::uint32_t v = le32(b, 21);
      return ImageHeader{"webp", (v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1};
    }
    if (starts(b, "VP8X", 4, 12)) {
      const std::int64_t w = 1 + (b[24] | (b[25] << 8) | (b[26] << 16));
      const std::int64_t h = 1 + (b[27] | (b[28] << 8) | (b[29] << 16));
      return ImageHeader{"webp", w, h};
    }
    return std::nullopt;
  }
  if (starts(b, "BM", 2) && b.size() >= 26) {
    const std::int32_t w = static_cast<std::int32_t>(le32(b, 18)), h = static_cast<std::int32_t>(le32(b, 22));
    return ImageHeader{"bmp", w < 0 ? -static_cast<std::int64_t>(w) : w, h < 0 ? -static_cast<std::int64_t>(h) : h};
  }
  if (starts(b, "II*\0", 4) || starts(b, "MM\0*", 4)) {
    const long w = tiff_tag(b, 0, b.size(), 256), h = tiff_tag(b, 0, b.size(), 257);
    if (w < 0 || h < 0) return std::nullopt;
    return ImageHeader{"tiff", w, h};
  }
  return std::nullopt;
}

bool exceeds_pixels(const ImageHeader& h, std::int64_t max_pixels) {
  if (h.width <= 0 || h.height <= 0) return true;
  return h.width > max_pixels / h.height;  // width * height > max_pixels, no overflow
}

bool is_gray_alpha_png(const Bytes& b) {
  return starts(b, "\x89PNG\r\n\x1a\n", 8) && b.size() > 25 && starts(b, "IHDR", 4, 12) && b[25] == 4;
}

int tiff_page_count(const Bytes& b) {
  if (!(starts(b, "II*\0", 4) || starts(b, "MM\0*", 4)) || b.size() < 8) return 0;
  const bool le = b[0] == 'I';
  auto r16 = [&](std::size_t i) { return le ? le16(b, i) : be16(b, i); };
  auto r32 = [&](std::size_t i) { return le ? le32(b, i) : be32(b, i); };
  int pages = 0;
  std::size_t ifd = r32(4);
  std::set<std::size_t> seen;
  // Each IFD points to the next; a loop or a cut-off chain ends the count.
  while (ifd != 0 && ifd + 2 <= b.size() && seen.insert(ifd).second && pages < 100000) {
    ++pages;
    const std::size_t next_at = ifd + 2 + 12 * static_cast<std::size_t>(r16(ifd));
    if (next_at + 4 > b.size()) break;
    ifd = r32(next_at);
  }
  return pages;
}

int tiff_samples_per_pixel(const Bytes& b) {
  if (!(starts(b, "II*\0", 4) || starts(b, "MM\0*", 4))) return 0;
  const long v = tiff_tag(b, 0, b.size(), 277);
  return v < 0 ? 1 : static_cast<int>(v);  // absent: the default, 1
}

int exif_orientation(const Bytes& b) {
  if (!starts(b, "\xFF\xD8", 2)) return 1;
  std::size_t i = 2;
  while (i + 4 <= b.size() && b[i] == 0xFF) {
    const unsigned char marker = b[i + 1];
    const std::size_t len = be16(b, i + 2);
    if (marker == 0xDA || len < 2) break;  // start of scan: no more metadata
    if (marker == 0xE1 && starts(b, "Exif\0\0", 6, i + 4)) {
      const long v = tiff_tag(b, i + 10, std::min(b.size(), i + 2 + len), 0x0112);
      return (v >= 1 && v <= 8) ? static_cast<int>(v) : 1;
    }
    i += 2 + len;
  }
  return 1;
}

}  // namespace yamiro
