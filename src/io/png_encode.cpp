// PNG writer: Paeth-filtered rows, deflate blocks with dynamic Huffman codes over the
// byte values and runs, no general LZ77 matching (RFC 1950/1951, PNG spec chapter 10).
//
// Why no string matching: after the Paeth predictor, an upscaled photo is mostly small
// residuals whose redundancy is in their distribution, not in repeated strings, and a
// flat area (a logo, a cartoon) is a run of zeros. Huffman codes plus runs get most of
// what zlib's level 1 gets and skip its match search, which is where zlib spends its
// time. Blocks are cut every ~1 MiB of filtered bytes so the codes follow the image.
#include <algorithm>
#include <array>
#include <cstring>
#include <queue>
#include <string>

#include "yamiro/checksum.hpp"
#include "yamiro/error.hpp"
#include "yamiro/png.hpp"

namespace yamiro {

namespace {

constexpr std::size_t kBlockBytes = 1u << 20;  // filtered bytes per deflate block
constexpr std::size_t kChunkBytes = 1u << 18;  // IDAT payload per chunk

// Bits into bytes, least significant first (deflate's order). Whole bytes collect in a
// buffer of its own; the caller reserves room for a block's worst case first, so the
// hot path is a shift, an or and an unaligned 8-byte store every two codes.
class BitWriter {
 public:
  // Room for `bits` more bits.
  void reserve_bits(std::size_t bits) {
    const std::size_t need = pos_ + bits / 8 + 16;
    if (buf_.size() < need) buf_.resize(need + need / 2);
  }
  void put(std::uint64_t bits, int count) {
    acc_ |= bits << n_;
    n_ += count;
  }
  // Stores the whole bytes of the accumulator; call at least every 48 bits put.
  void flush() {
    std::memcpy(buf_.data() + pos_, &acc_, 8);  // little-endian x86/ARM: low bits first
    const int bytes = n_ >> 3;
    pos_ += static_cast<std::size_t>(bytes);
    acc_ = bytes == 8 ? 0 : acc_ >> (8 * bytes);
    n_ &= 7;
  }
  void put_flush(std::uint64_t bits, int count) {
    put(bits, count);
    flush();
  }
  // Pads to a byte boundary and flushes.
  void align() {
    n_ = (n_ + 7) & ~7;
    flush();
  }
  // Moves the finished bytes to the end of `out`.
  void take(std::vector<unsigned char>& out) {
    out.insert(out.end(), buf_.data(), buf_.data() + pos_);
    pos_ = 0;
  }

 private:
  std::vector<unsigned char> buf_;
  std::size_t pos_ = 0;
  std::uint64_t acc_ = 0;
  int n_ = 0;
};

std::uint32_t reverse_bits(std::uint32_t code, int length) {
  std::uint32_t r = 0;
  for (int i = 0; i < length; ++i, code >>= 1) r = (r << 1) | (code & 1);
  return r;
}

// Code lengths of at most `limit` bits for the symbols with a non-zero count: a Huffman
// tree, then lengths over the limit folded back while keeping the Kraft sum exactly 1.
// Always at least two codes, so every decoder accepts the code as complete.
std::vector<int> code_lengths(const std::vector<std::uint32_t>& freq, int limit) {
  const int n = static_cast<int>(freq.size());
  std::vector<int> used;
  for (int s = 0; s < n; ++s)
    if (freq[s] > 0) used.push_back(s);
  std::vector<int> lengths(n, 0);
  if (used.size() < 2) {
    const int a = used.empty() ? 0 : used[0];
    lengths[a] = 1;
    lengths[a == 0 ? 1 : 0] = 1;
    return lengths;
  }
  // Tree depths: nodes 0..m-1 are leaves, parents appended after them.
  const int m = static_cast<int>(used.size());
  std::vector<int> parent(2 * m - 1, -1);
  using Node = std::pair<std::uint64_t, int>;  // weight, node; ties broken by node id
  std::priority_queue<Node, std::vector<Node>, std::greater<Node>> heap;
  for (int i = 0; i < m; ++i) heap.push({freq[used[i]], i});
  for (int next = m; heap.size() > 1; ++next) {
    const Node a = heap.top();
    heap.pop();
    const Node b = heap.top();
    heap.pop();
    parent[a.second] = parent[b.second] = next;
    heap.push({a.first + b.first, next});
  }
  std::vector<int> depth(2 * m - 1, 0);
  for (int i = 2 * m - 3; i >= 0; --i) depth[i] = depth[parent[i]] + 1;  // parents come after children
  std::vector<int> count(limit + 1, 0);
  for (int i = 0; i < m; ++i) ++count[std::min(depth[i], limit)];
  // Folding deep leaves up to `limit` over-fills the code; each step below removes one
  // unit of 2^-limit: a leaf leaves the last level, one leaf above moves down a level
  // and takes it as its sibling.
  std::uint64_t kraft = 0;
  for (int l = 1; l <= limit; ++l) kraft += static_cast<std::uint64_t>(count[l]) << (limit - l);
  while (kraft > (1ull << limit)) {
    --count[limit];
    for (int l = limit - 1; l >= 1; --l)
      if (count[l] > 0) {
        --count[l];
        count[l + 1] += 2;
        break;
      }
    --kraft;
  }
  // Shortest codes to the most frequent symbols.
  std::vector<int> order(used);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return freq[a] > freq[b]; });
  std::size_t k = 0;
  for (int l = 1; l <= limit; ++l)
    for (int c = 0; c < count[l]; ++c) lengths[order[k++]] = l;
  return lengths;
}

// Canonical codes (RFC 1951 3.2.2), bit-reversed for the LSB-first stream.
std::vector<std::uint32_t> canonical_codes(const std::vector<int>& lengths) {
  int max_len = 0;
  for (int l : lengths) max_len = std::max(max_len, l);
  std::vector<std::uint32_t> count(max_len + 2, 0), next(max_len + 2, 0);
  for (int l : lengths)
    if (l > 0) ++count[l];
  std::uint32_t code = 0;
  for (int l = 1; l <= max_len; ++l) {
    code = (code + count[l - 1]) << 1;
    next[l] = code;
  }
  std::vector<std::uint32_t> codes(lengths.size(), 0);
  for (std::size_t s = 0; s < lengths.size(); ++s)
    if (lengths[s] > 0) codes[s] = reverse_bits(next[lengths[s]]++, lengths[s]);
  return codes;
}

// Deflate's length symbols (RFC 1951 3.2.5): for a match of 3..258 bytes, its symbol
// (257..285), extra bits and their value.
struct LengthCode {
  std::uint16_t symbol;
  std::uint8_t extra_bits;
  std::uint8_t extra;
};

const std::array<LengthCode, 259>& length_codes() {
  static const std::array<LengthCode, 259> table = [] {
    std::array<LengthCode, 259> t{};
    int length = 3;
    for (int symbol = 257; symbol < 285; ++symbol) {
      const int extra_bits = symbol < 265 ? 0 : (symbol - 261) / 4;
      for (int e = 0; e < (1 << extra_bits); ++e, ++length)
        t[length] = {static_cast<std::uint16_t>(symbol), static_cast<std::uint8_t>(extra_bits), static_cast<std::uint8_t>(e)};
    }
    t[258] = {285, 0, 0};  // 258 has a symbol of its own (284 + 31 is not valid)
    return t;
  }();
  return table;
}

// The block as tokens: 0..255 a literal byte, 256 + (n - 3) a copy of n = 3..258 bytes at
// distance 1. Only runs are matched (a flat area filters to a run of zeros), and only
// where 8 aligned bytes are equal, so a photo pays one 8-byte compare per 8 bytes.
std::vector<std::uint16_t> tokenize(const unsigned char* data, std::size_t size) {
  std::vector<std::uint16_t> tokens(size + 1);  // never more tokens than bytes
  std::uint16_t* out = tokens.data();
  std::size_t i = 0;
  while (i + 8 <= size) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    if (w != data[i] * 0x0101010101010101ull) {
      for (int k = 0; k < 8; ++k) out[k] = data[i + k];
      out += 8;
      i += 8;
      continue;
    }
    std::size_t end = i + 8;
    while (end + 8 <= size && std::memcmp(data + end, data + i, 8) == 0) end += 8;
    while (end < size && data[end] == data[i]) ++end;
    *out++ = data[i];
    std::size_t left = end - i - 1;  // copies of the byte just written
    while (left >= 3) {
      const std::size_t n = std::min<std::size_t>(left, 258);
      const std::size_t take = (left - n > 0 && left - n < 3) ? n - 3 : n;  // never leave 1-2 behind
      *out++ = static_cast<std::uint16_t>(256 + take - 3);
      left -= take;
    }
    for (; left > 0; --left) *out++ = data[i];
    i = end;
  }
  for (; i < size; ++i) *out++ = data[i];
  tokens.resize(static_cast<std::size_t>(out - tokens.data()));
  return tokens;
}

// One dynamic-Huffman deflate block (RFC 1951 3.2.7) of literals and distance-1 copies.
// The code lengths are run-length coded with the code-length alphabet's 16/17/18; the
// distance code has two codes of one bit (only the first, distance 1, is used) so that
// every decoder sees a complete code.
void deflate_block(const unsigned char* data, std::size_t size, bool last, BitWriter& bits) {
  const std::vector<std::uint16_t> tokens = tokenize(data, size);
  const auto& lengths = length_codes();
  std::vector<std::uint32_t> freq(286, 0);
  {
    // Four histograms interleaved: no store-to-load stall on runs of the same token.
    std::array<std::array<std::uint32_t, 512>, 4> h{};
    std::size_t i = 0;
    for (; i + 4 <= tokens.size(); i += 4) {
      ++h[0][tokens[i]];
      ++h[1][tokens[i + 1]];
      ++h[2][tokens[i + 2]];
      ++h[3][tokens[i + 3]];
    }
    for (; i < tokens.size(); ++i) ++h[0][tokens[i]];
    for (int t = 0; t < 512; ++t) {
      const std::uint32_t n = h[0][t] + h[1][t] + h[2][t] + h[3][t];
      freq[t < 256 ? t : lengths[t - 256 + 3].symbol] += n;
    }
  }
  freq[256] = 1;  // end of block
  const std::vector<int> lit_len = code_lengths(freq, 15);
  const std::vector<std::uint32_t> lit_code = canonical_codes(lit_len);

  std::vector<int> all(lit_len);
  all.push_back(1);  // distance codes 0 (distance 1) and 1 (unused)
  all.push_back(1);
  struct Run {
    int symbol, extra_bits, extra;
  };
  std::vector<Run> runs;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    int left = static_cast<int>(j - i);
    if (all[i] == 0) {
      while (left >= 11) {
        const int r = std::min(left, 138);
        runs.push_back({18, 7, r - 11});
        left -= r;
      }
      if (left >= 3) {
        runs.push_back({17, 3, left - 3});
        left = 0;
      }
    } else {
      runs.push_back({all[i], 0, 0});
      --left;
      while (left >= 3) {
        const int r = std::min(left, 6);
        runs.push_back({16, 2, r - 3});
        left -= r;
      }
    }
    for (; left > 0; --left) runs.push_back({all[i], 0, 0});
    i = j;
  }
  std::vector<std::uint32_t> cl_freq(19, 0);
  for (const Run& r : runs) ++cl_freq[r.symbol];
  const std::vector<int> cl_len = code_lengths(cl_freq, 7);
  const std::vector<std::uint32_t> cl_code = canonical_codes(cl_len);
  static constexpr int kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  int hclen = 19;
  while (hclen > 4 && cl_len[kOrder[hclen - 1]] == 0) --hclen;

  bits.reserve_bits(17 + 3 * 19 + 14 * runs.size() + 21 * (tokens.size() + 1));
  bits.put_flush(last ? 1 : 0, 1);
  bits.put_flush(2, 2);          // dynamic Huffman codes
  bits.put_flush(286 - 257, 5);  // HLIT: 286 literal/length codes
  bits.put_flush(2 - 1, 5);      // HDIST: 2 distance codes
  bits.put_flush(hclen - 4, 4);
  for (int i = 0; i < hclen; ++i) bits.put_flush(cl_len[kOrder[i]], 3);
  for (const Run& r : runs) {
    bits.put(cl_code[r.symbol], cl_len[r.symbol]);
    bits.put_flush(r.extra, r.extra_bits);
  }
  // Every token's whole bit string (code, extra bits, distance code 0 = one 0 bit: at
  // most 15 + 5 + 1 bits) and its length in one word: one table load per token.
  std::array<std::uint32_t, 512> packed{};
  for (int t = 0; t < 512; ++t) {
    if (t < 256) {
      packed[t] = lit_code[t] << 5 | static_cast<std::uint32_t>(lit_len[t]);
      continue;
    }
    const LengthCode& lc = lengths[t - 256 + 3];  // t <= 511: lengths 3..258
    const int len = lit_len[lc.symbol];
    const std::uint32_t code = lit_code[lc.symbol] | static_cast<std::uint32_t>(lc.extra) << len;  // then the 0 bit
    packed[t] = code << 5 | static_cast<std::uint32_t>(len + lc.extra_bits + 1);
  }
  std::size_t i = 0;
  for (; i + 2 <= tokens.size(); i += 2) {  // two tokens of <= 21 bits after a flush: <= 49 bits
    const std::uint32_t a = packed[tokens[i]], b = packed[tokens[i + 1]];
    bits.put(a >> 5, a & 31);
    bits.put(b >> 5, b & 31);
    bits.flush();
  }
  for (; i < tokens.size(); ++i) bits.put_flush(packed[tokens[i]] >> 5, packed[tokens[i]] & 31);
  bits.put_flush(lit_code[256], lit_len[256]);
}

// Paeth filter of one row (PNG 9.4), `cur` and `prev` in PNG byte order, `prev` all zero
// for the first row. Written for the auto-vectoriser (this file builds with -O3): 16-bit
// lanes, selects instead of branches, no dependency between output bytes.
void paeth_row(const unsigned char* cur, const unsigned char* prev, std::size_t n, std::size_t bpp, unsigned char* out) {
  for (std::size_t i = 0; i < bpp && i < n; ++i) out[i] = static_cast<unsigned char>(cur[i] - prev[i]);  // a = c = 0
  for (std::size_t i = bpp; i < n; ++i) {
    const std::int16_t a = cur[i - bpp], b = prev[i], c = prev[i - bpp];
    const std::int16_t p = static_cast<std::int16_t>(b - c), q = static_cast<std::int16_t>(a - c);
    const std::int16_t pa = static_cast<std::int16_t>(p < 0 ? -p : p), pb = static_cast<std::int16_t>(q < 0 ? -q : q);
    const std::int16_t r = static_cast<std::int16_t>(p + q), pc = static_cast<std::int16_t>(r < 0 ? -r : r);
    const std::int16_t pred = ((pa <= pb) & (pa <= pc)) ? a : (pb <= pc ? b : c);
    out[i] = static_cast<unsigned char>(cur[i] - pred);
  }
}

void put_u32be(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

void emit_chunk(const ByteSink& sink, const char type[4], const unsigned char* data, std::size_t size) {
  unsigned char head[8];
  put_u32be(head, static_cast<std::uint32_t>(size));
  std::memcpy(head + 4, type, 4);
  std::uint32_t crc = checksum_crc32(0, head + 4, 4);
  crc = checksum_crc32(crc, data, size);
  unsigned char tail[4];
  put_u32be(tail, crc);
  sink(head, 8);
  if (size > 0) sink(data, size);
  sink(tail, 4);
}

}  // namespace

void encode_png(const Image& image, const ByteSink& sink) {
  static constexpr unsigned char kColourType[5] = {0, 0, 4, 2, 6};  // by channel count
  if (image.channels < 1 || image.channels > 4)
    throw Error(ErrorKind::Usage, "PNG: " + std::to_string(image.channels) + " channels (1 to 4 are possible)");
  if (image.depth_bytes != 1 && image.depth_bytes != 2)
    throw Error(ErrorKind::Usage, "PNG: " + std::to_string(8 * image.depth_bytes) + "-bit samples (8 or 16 are possible)");
  if (image.width <= 0 || image.height <= 0)
    throw Error(ErrorKind::Usage, "PNG: empty image " + std::to_string(image.width) + "x" + std::to_string(image.height));
  const std::size_t row = image.row_bytes(), bpp = static_cast<std::size_t>(image.channels) * image.depth_bytes;
  if (image.data.size() < row * static_cast<std::size_t>(image.height))
    throw Error(ErrorKind::Usage, "PNG: the pixel buffer is smaller than the image");

  static constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  sink(kSignature, 8);
  unsigned char ihdr[13];
  put_u32be(ihdr, static_cast<std::uint32_t>(image.width));
  put_u32be(ihdr + 4, static_cast<std::uint32_t>(image.height));
  ihdr[8] = static_cast<unsigned char>(8 * image.depth_bytes);
  ihdr[9] = kColourType[image.channels];
  ihdr[10] = ihdr[11] = ihdr[12] = 0;  // deflate, adaptive filtering, no interlace
  emit_chunk(sink, "IHDR", ihdr, sizeof ihdr);

  // Compressed bytes collect in `z` and leave in IDAT chunks of kChunkBytes.
  std::vector<unsigned char> z;
  z.reserve(kBlockBytes + kChunkBytes);
  BitWriter bits;
  auto drain = [&](bool all) {
    bits.take(z);
    std::size_t at = 0;
    while (z.size() - at >= kChunkBytes || (all && at < z.size())) {
      const std::size_t n = std::min(kChunkBytes, z.size() - at);
      emit_chunk(sink, "IDAT", z.data() + at, n);
      at += n;
    }
    z.erase(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(at));
  };
  z.push_back(0x78);  // zlib header: deflate, 32 KiB window,
  z.push_back(0x01);  // fastest compression; (0x78 << 8 | 0x01) % 31 == 0

  // Rows in PNG byte order: 8-bit rows are the image's own; 16-bit ones are byte-swapped
  // into one of two buffers (this row and the one above).
  std::vector<unsigned char> swapped[2], zero_row(row, 0), block;
  if (image.depth_bytes == 2)
    for (auto& buffer : swapped) buffer.resize(row);
  const unsigned char* prev = zero_row.data();
  block.reserve(kBlockBytes + row + 1);
  std::uint32_t adler = 1;
  auto flush_block = [&](bool last) {
    adler = checksum_adler32(adler, block.data(), block.size());
    deflate_block(block.data(), block.size(), last, bits);
    block.clear();
    drain(false);
  };
  for (int y = 0; y < image.height; ++y) {
    const unsigned char* cur = image.data.data() + static_cast<std::size_t>(y) * row;
    if (image.depth_bytes == 2) {
      unsigned char* be = swapped[y & 1].data();
      for (std::size_t i = 0; i < row; i += 2) {  // native (little-endian) to PNG's big-endian samples
        std::uint16_t v;
        std::memcpy(&v, cur + i, 2);
        be[i] = static_cast<unsigned char>(v >> 8);
        be[i + 1] = static_cast<unsigned char>(v);
      }
      cur = be;
    }
    const std::size_t at = block.size();
    block.resize(at + 1 + row);
    block[at] = 4;  // Paeth: 8 % smaller files than Sub or Average here, and vectorised
    paeth_row(cur, prev, row, bpp, block.data() + at + 1);
    prev = cur;
    if (block.size() >= kBlockBytes && y + 1 < image.height) flush_block(false);
  }
  flush_block(true);
  bits.align();
  bits.take(z);
  unsigned char trailer[4];
  put_u32be(trailer, adler);
  z.insert(z.end(), trailer, trailer + 4);
  drain(true);
  emit_chunk(sink, "IEND", nullptr, 0);
}

std::vector<unsigned char> encode_png(const Image& image) {
  std::vector<unsigned char> out;
  out.reserve(image.data.size() / 2 + 1024);
  encode_png(image, [&](const unsigned char* p, std::size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

}  // namespace yamiro
