// yamiro's PNG encoder, checked against zlib's inflate and a reference unfilter written
// here from the PNG specification: every chunk's CRC, the zlib stream (adler-32
// included), every row's filter, and the pixels exactly, over shapes that reach the
// encoder's edge cases (one pixel, one row, runs of every length, several deflate blocks
// and IDAT chunks, a byte distribution that needs length-limited codes).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "yamiro/checksum.hpp"
#include "yamiro/error.hpp"
#include "yamiro/png.hpp"

using namespace yamiro;

namespace {

std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

struct Decoded {
  int width = 0, height = 0, bit_depth = 0, colour_type = -1;
  std::vector<unsigned char> raw;  // filtered rows as inflated
  std::size_t idat_chunks = 0;
};

// Walks the chunks (checking each CRC with zlib's crc32) and inflates the IDAT stream.
Decoded parse(const std::vector<unsigned char>& png) {
  Decoded d;
  static const unsigned char kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  EXPECT_GE(png.size(), 8u + 25u + 12u);
  EXPECT_EQ(std::memcmp(png.data(), kSig, 8), 0);
  std::vector<unsigned char> z;
  std::size_t at = 8;
  std::string last;
  while (at + 12 <= png.size()) {
    const std::uint32_t len = be32(&png[at]);
    const std::string type(reinterpret_cast<const char*>(&png[at + 4]), 4);
    EXPECT_LE(at + 12 + len, png.size());
    const std::uint32_t crc = static_cast<std::uint32_t>(::crc32(0, &png[at + 4], len + 4));
    EXPECT_EQ(crc, be32(&png[at + 8 + len])) << type << " CRC";
    if (type == "IHDR") {
      EXPECT_EQ(len, 13u);
      d.width = static_cast<int>(be32(&png[at + 8]));
      d.height = static_cast<int>(be32(&png[at + 12]));
      d.bit_depth = png[at + 16];
      d.colour_type = png[at + 17];
      EXPECT_EQ(png[at + 18], 0);
      EXPECT_EQ(png[at + 19], 0);
      EXPECT_EQ(png[at + 20], 0);
    } else if (type == "IDAT") {
      z.insert(z.end(), &png[at + 8], &png[at + 8 + len]);
      ++d.idat_chunks;
    }
    last = type;
    at += 12 + len;
  }
  EXPECT_EQ(at, png.size());
  EXPECT_EQ(last, "IEND");
  const int channels[7] = {1, 0, 3, 0, 2, 0, 4};
  const std::size_t row = static_cast<std::size_t>(d.width) * channels[d.colour_type] * d.bit_depth / 8;
  d.raw.resize((row + 1) * d.height);
  uLongf n = d.raw.size();
  const int rc = ::uncompress(d.raw.data(), &n, z.data(), z.size());  // checks adler-32 too
  EXPECT_EQ(rc, Z_OK);
  EXPECT_EQ(n, d.raw.size());
  return d;
}

// PNG 9.2-9.4, byte-wise with `bpp` bytes per pixel, into big-endian sample bytes.
std::vector<unsigned char> unfilter(const Decoded& d, std::size_t row, std::size_t bpp) {
  std::vector<unsigned char> out(row * d.height), zero(row, 0);
  for (int y = 0; y < d.height; ++y) {
    const unsigned char* f = &d.raw[y * (row + 1)];
    unsigned char* cur = &out[y * row];
    const unsigned char* prev = y > 0 ? &out[(y - 1) * row] : zero.data();
    EXPECT_LE(f[0], 4) << "row " << y;
    for (std::size_t i = 0; i < row; ++i) {
      const int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      int pred = 0;
      switch (f[0]) {
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default: break;
      }
      cur[i] = static_cast<unsigned char>(f[1 + i] + pred);
    }
  }
  return out;
}

// Encodes, decodes, and compares sample by sample.
std::size_t round_trip(const Image& img) {
  const std::vector<unsigned char> png = encode_png(img);
  const Decoded d = parse(png);
  EXPECT_EQ(d.width, img.width);
  EXPECT_EQ(d.height, img.height);
  EXPECT_EQ(d.bit_depth, 8 * img.depth_bytes);
  const int types[5] = {-1, 0, 4, 2, 6};
  EXPECT_EQ(d.colour_type, types[img.channels]);
  const std::vector<unsigned char> pixels = unfilter(d, img.row_bytes(), static_cast<std::size_t>(img.channels) * img.depth_bytes);
  std::vector<unsigned char> expected(img.data);
  if (img.depth_bytes == 2)
    for (std::size_t i = 0; i < expected.size(); i += 2) {
      std::uint16_t v;
      std::memcpy(&v, &img.data[i], 2);
      expected[i] = static_cast<unsigned char>(v >> 8);
      expected[i + 1] = static_cast<unsigned char>(v);
    }
  EXPECT_TRUE(pixels == expected) << img.width << "x" << img.height << "x" << img.channels << " " << 8 * img.depth_bytes << "-bit";
  return png.size();
}

Image noise(int w, int h, int c, int depth, std::uint32_t seed) {
  Image img(w, h, c, depth);
  std::mt19937 rng(seed);
  for (auto& v : img.data) v = static_cast<unsigned char>(rng());
  return img;
}

}  // namespace

TEST(Png, ChecksumsMatchTheKnownValues) {
  const unsigned char digits[] = "123456789";
  EXPECT_EQ(checksum_crc32(0, digits, 9), 0xCBF43926u);
  const unsigned char wiki[] = "Wikipedia";
  EXPECT_EQ(checksum_adler32(1, wiki, 9), 0x11E60398u);
  // Long inputs: CRC's 8-byte steps and Adler's 5552-byte blocks against zlib.
  const Image big = noise(100003, 1, 1, 1, 7);
  EXPECT_EQ(checksum_crc32(0, big.data.data(), big.data.size()), ::crc32(0, big.data.data(), static_cast<uInt>(big.data.size())));
  EXPECT_EQ(checksum_adler32(1, big.data.data(), big.data.size()), ::adler32(1, big.data.data(), static_cast<uInt>(big.data.size())));
  const std::vector<unsigned char> ff(70000, 0xFF);  // Adler's sums at their largest
  EXPECT_EQ(checksum_adler32(1, ff.data(), ff.size()), ::adler32(1, ff.data(), static_cast<uInt>(ff.size())));
}

TEST(Png, EveryChannelCountAndDepthRoundTrips) {
  for (int c = 1; c <= 4; ++c)
    for (int depth : {1, 2})
      for (auto [w, h] : {std::pair{1, 1}, {1, 9}, {9, 1}, {3, 3}, {257, 33}}) round_trip(noise(w, h, c, depth, 100u * c + w + h));
}

TEST(Png, FlatAreasCompressToRunsOfEveryLength) {
  // Row y holds a run of y + 1 equal samples between noise, so every run length from 1 to
  // 700 meets the tokenizer at every alignment: never a copy of 1-2 bytes, never over 258.
  Image img(760, 700, 1, 1);
  std::mt19937 rng(3);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const int start = (y * 7) % 50;
      img.data[y * img.width + x] = (x >= start && x < start + y + 1) ? 77 : static_cast<unsigned char>(rng());
    }
  round_trip(img);
  // A flat 1024x1024 RGBA image is almost nothing.
  Image flat(1024, 1024, 4, 1);
  for (std::size_t i = 0; i < flat.data.size(); ++i) flat.data[i] = static_cast<unsigned char>(i % 4 * 50);
  EXPECT_LT(round_trip(flat), 30000u);
}

TEST(Png, LargeImagesSpanSeveralBlocksAndChunks) {
  // Smooth gradient plus mild noise, like an upscaled photo: 3.6 MB of rows.
  Image img(1200, 1000, 3, 1);
  std::mt19937 rng(5);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int c = 0; c < 3; ++c) img.data[(y * img.width + x) * 3 + c] = static_cast<unsigned char>((x + 2 * y + 40 * c) / 9 + rng() % 3);
  const std::vector<unsigned char> png = encode_png(img);
  EXPECT_GT(parse(png).idat_chunks, 1u);
  const std::size_t size = round_trip(img);
  EXPECT_LT(size, img.data.size() / 2) << "a smooth image should compress";
  // 16-bit with a full-range sample sequence.
  round_trip(noise(700, 800, 4, 2, 11));
}

TEST(Png, SkewedByteFrequenciesGetLengthLimitedCodes) {
  // One gray row whose left-neighbour differences (what the first row's Paeth filter
  // leaves) follow Fibonacci frequencies: an unlimited Huffman code would need more than
  // 15 bits for the rarest of the 24 values.
  std::vector<int> freq = {1, 1};
  while (freq.size() < 24) freq.push_back(freq[freq.size() - 1] + freq[freq.size() - 2]);
  std::vector<unsigned char> diffs;
  for (std::size_t s = 0; s < freq.size(); ++s) diffs.insert(diffs.end(), static_cast<std::size_t>(freq[s]), static_cast<unsigned char>(s * 7 + 1));
  std::shuffle(diffs.begin(), diffs.end(), std::mt19937(9));
  Image img(static_cast<int>(diffs.size()), 1, 1, 1);
  unsigned char v = 0;
  for (std::size_t i = 0; i < diffs.size(); ++i) img.data[i] = v = static_cast<unsigned char>(v + diffs[i]);
  round_trip(img);
}

TEST(Png, StreamsThroughTheSinkAndPassesItsErrorsOn) {
  const Image img = noise(300, 300, 3, 1, 1);
  std::vector<unsigned char> streamed;
  std::size_t calls = 0;
  encode_png(img, [&](const unsigned char* p, std::size_t n) {
    streamed.insert(streamed.end(), p, p + n);
    ++calls;
  });
  EXPECT_EQ(streamed, encode_png(img));
  EXPECT_GT(calls, 3u);
  EXPECT_THROW(encode_png(img, [](const unsigned char*, std::size_t) { throw Error(ErrorKind::Io, "out.png: disk full"); }), Error);
}

TEST(Png, RefusesWhatPngCannotHold) {
  EXPECT_THROW(encode_png(Image(4, 4, 5, 1)), Error);
  EXPECT_THROW(encode_png(Image(4, 4, 3, 4)), Error);
  EXPECT_THROW(encode_png(Image()), Error);
  Image short_buffer(4, 4, 3, 1);
  short_buffer.data.resize(10);
  EXPECT_THROW(encode_png(short_buffer), Error);
}
