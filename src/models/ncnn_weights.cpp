// ncnn .bin reading: each layer's weights in the order ncnn's load_model reads them.
// Tagged data ("type 0") carries a storage tag: fp32, fp16, raw fp32, int8 or a 256-entry
// codebook; untagged data ("type 1") is raw fp32.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "models/ncnn.hpp"
#include "yamiro/error.hpp"

namespace yamiro::ncnn {
namespace {

constexpr std::uint32_t kTagFp16 = 0x01306B47;
constexpr std::uint32_t kTagInt8 = 0x000D4B38;
constexpr std::uint32_t kTagRawFp32 = 0x0002C056;
constexpr std::int64_t kMaxValues = std::int64_t{1} << 31;

[[noreturn]] void fail(const std::string& origin, const std::string& why) { throw Error(ErrorKind::Model, origin + ": " + why); }

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) { mant <<= 1; --exp; }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

class BinReader {
 public:
  BinReader(const std::vector<unsigned char>& bin, const std::string& origin) : bin_(bin), origin_(origin) {}

  // Raw fp32 ("type 1").
  std::vector<float> fp32(std::size_t count, const std::string& what) {
    need(count * 4, what);
    std::vector<float> out(count);
    std::memcpy(out.data(), bin_.data() + pos_, count * 4);
    pos_ += count * 4;
    return out;
  }
  // Tagged ("type 0"). `int8` is set when the values are int8 codes still to be scaled.
  std::vector<float> tagged(std::size_t count, const std::string& what, bool* int8 = nullptr) {
    if (int8) *int8 = false;
    const std::size_t at = pos_;
    need(4, "the storage tag of " + what);
    unsigned char f[4];
    std::memcpy(f, bin_.data() + pos_, 4);
    std::uint32_t tag;
    std::memcpy(&tag, f, 4);
    pos_ += 4;
    if (tag == kTagFp16) {
      const std::size_t bytes = (count * 2 + 3) / 4 * 4;
      need(bytes, what);
      std::vector<float> out(count);
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t h;
        std::memcpy(&h, bin_.data() + pos_ + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      pos_ += bytes;
      return out;
    }
    if (tag == kTagInt8) {
      if (!int8) fail(origin_, "int8 weights where ncnn reads no scales (" + what + ")");
      const std::size_t bytes = (count + 3) / 4 * 4;
      need(bytes, what);
      std::vector<float> out(count);
      for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<signed char>(bin_[pos_ + i]));
      pos_ += bytes;
      *int8 = true;
      return out;
    }
    if (tag == kTagRawFp32) return fp32(count, what);
    if (f[0] + f[1] + f[2] + f[3] != 0) {  // a codebook of 256 floats, then one byte per value
      const std::size_t bytes = (count + 3) / 4 * 4;
      need(256 * 4 + bytes, what);
      float book[256];
      std::memcpy(book, bin_.data() + pos_, sizeof book);
      pos_ += sizeof book;
      std::vector<float> out(count);
      for (std::size_t i = 0; i < count; ++i) out[i] = book[bin_[pos_ + i]];
      pos_ += bytes;
      return out;
    }
    (void)at;
    return fp32(count, what);
  }
  std::size_t remaining() const { return bin_.size() - pos_; }

 private:
  void need(std::size_t bytes, const std::string& what) {
    if (bytes > bin_.size() - pos_)
      fail(origin_, "truncated: " + what + " needs " + std::to_string(bytes) + " bytes at offset " + std::to_string(pos_) +
                        ", the file has " + std::to_string(bin_.size()));
  }
  const std::vector<unsigned char>& bin_;
  const std::string& origin_;
  std::size_t pos_ = 0;
};

struct Ctx {
  Layer& layer;
  BinReader& r;
  const std::string& origin;  // the .bin
  std::string what(const char* part) const { return std::string(part) + " of '" + layer.name + "'"; }
  long long p(int id, long long fallback, long long lo, long long hi) const {
    return layer.int_param(id, fallback, lo, hi, origin);
  }
};

// Weights [O, rest...] where `size` values are out-major; int8 codes are divided by their
// per-output (or per-group) scale, read after the bias as ncnn does.
void conv_like(Ctx& c, bool depthwise, bool deconv) {
  const long long out = c.p(0, 0, 1, 1 << 20), kw = c.p(1, 0, 1, 4096), kh = c.p(11, kw, 1, 4096);
  const long long size = c.p(6, 0, 1, kMaxValues), group = depthwise ? c.p(7, 1, 1, 1 << 20) : 1;
  if (size % (out * kw * kh) != 0)
    fail(c.origin, c.layer.type + " '" + c.layer.name + "': weight size " + std::to_string(size) + " does not match " +
                       std::to_string(out) + " outputs of " + std::to_string(kw) + "x" + std::to_string(kh));
  if (out % group != 0) fail(c.origin, c.layer.type + " '" + c.layer.name + "': " + std::to_string(out) + " outputs in " + std::to_string(group) + " groups");
  bool int8 = false;
  const auto n = static_cast<std::size_t>(size);
  HostTensor w{{out, size / (out * kw * kh), kh, kw}, c.r.tagged(n, c.what("weights"), &int8)};
  c.layer.weights.push_back(std::move(w));
  if (c.p(5, 0, 0, 1)) c.layer.weights.push_back(HostTensor{{out}, c.r.fp32(static_cast<std::size_t>(out), c.what("bias"))});
  const long long int8_term = deconv ? 0 : c.p(8, 0, 0, 1000);
  if (int8_term) {
    const long long groups = depthwise ? group : out;
    const auto scales = c.r.fp32(static_cast<std::size_t>(groups), c.what("int8 weight scales"));
    c.r.fp32(depthwise ? static_cast<std::size_t>(group) : 1, c.what("int8 input scales"));
    if (int8_term > 100) c.r.fp32(1, c.what("int8 output scale"));
    if (int8) {
      auto& v = c.layer.weights[0].values;
      const std::size_t per = v.size() / static_cast<std::size_t>(groups);
      for (std::size_t i = 0; i < v.size(); ++i) {
        const float s = scales[i / per];
        v[i] = s == 0 ? 0.f : v[i] / s;
      }
    }
  } else if (int8) {
    fail(c.origin, c.layer.type + " '" + c.layer.name + "': int8 weights without int8 scales (parameter 8)");
  }
}

void inner_product(Ctx& c) {
  const long long out = c.p(0, 0, 1, 1 << 24), size = c.p(2, 0, 1, kMaxValues);
  if (size % out != 0) fail(c.origin, "InnerProduct '" + c.layer.name + "': weight size does not divide by the outputs");
  bool int8 = false;
  c.layer.weights.push_back(HostTensor{{out, size / out}, c.r.tagged(static_cast<std::size_t>(size), c.what("weights"), &int8)});
  if (c.p(1, 0, 0, 1)) c.layer.weights.push_back(HostTensor{{out}, c.r.fp32(static_cast<std::size_t>(out), c.what("bias"))});
  if (c.p(8, 0, 0, 1000)) {
    const auto scales = c.r.fp32(static_cast<std::size_t>(out), c.what("int8 weight scales"));
    c.r.fp32(1, c.what("int8 input scale"));
    if (int8) {
      auto& v = c.layer.weights[0].values;
      const std::size_t per = static_cast<std::size_t>(size / out);
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = scales[i / per] == 0 ? 0.f : v[i] / scales[i / per];
    }
  } else if (int8) {
    fail(c.origin, "InnerProduct '" + c.layer.name + "': int8 weights without int8 scales (parameter 8)");
  }
}

}  // namespace

void read_weights(Graph& graph, const std::vector<unsigned char>& bin, const std::string& origin) {
  BinReader r(bin, origin);
  for (auto& layer : graph.layers) {
    Ctx c{layer, r, origin};
    const std::string& t = layer.type;
    if (t == "Convolution") conv_like(c, false, false);
    else if (t == "ConvolutionDepthWise") conv_like(c, true, false);
    else if (t == "Deconvolution") conv_like(c, false, true);
    else if (t == "DeconvolutionDepthWise") conv_like(c, true, true);
    else if (t == "InnerProduct") inner_product(c);
    else if (t == "PReLU") {
      const long long n = c.p(0, 0, 1, 1 << 24);
      layer.weights.push_back(HostTensor{{n}, r.fp32(static_cast<std::size_t>(n), c.what("slopes"))});
    } else if (t == "Scale") {
      const long long n = c.p(0, 0, -233, 1 << 24);
      if (n == -233) continue;  // the scales come from a second input
      if (n < 1) fail(origin, "Scale '" + layer.name + "': bad scale count");
      layer.weights.push_back(HostTensor{{n}, r.fp32(static_cast<std::size_t>(n), c.what("scales"))});
      if (c.p(1, 0, 0, 1)) layer.weights.push_back(HostTensor{{n}, r.fp32(static_cast<std::size_t>(n), c.what("bias"))});
    } else if (t == "Padding") {
      const long long n = c.p(6, 0, 0, 1 << 24);
      if (n > 0) layer.weights.push_back(HostTensor{{n}, r.fp32(static_cast<std::size_t>(n), c.what("per-channel values"))});
    }
  }
  if (r.remaining() != 0)
    fail(origin, std::to_string(r.remaining()) + " bytes left over after the last layer's weights: the .bin does not belong to this .param");
}

}  // namespace yamiro::ncnn
