#include "models/ncnn.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "yamiro/error.hpp"

namespace yamiro::ncnn {
namespace {

constexpr int kMagic = 7767517;
constexpr int kMaxLayers = 100000;
constexpr int kMaxParamId = 32;  // ncnn's NCNN_MAX_PARAM_COUNT
constexpr std::uint32_t kTagFp16 = 0x01306B47;
constexpr std::uint32_t kTagFp32 = 0x00000000;
const std::set<std::string> kKnownLayers = {"Input",   "Split",  "Convolution", "PReLU",
                                            "Concat",  "Eltwise", "BinaryOp",   "Interp",
                                            "PixelShuffle"};

[[noreturn]] void fail(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + ": " + why);
}

double parse_number(const std::string& s, const std::string& origin, int line) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    fail(origin, "line " + std::to_string(line) + ": bad number '" + s + "'");
  }
}

int parse_count(const std::string& s, const std::string& origin, int line, int max) {
  const double v = parse_number(s, origin, line);
  if (v < 0 || v > max || v != std::floor(v))
    fail(origin, "line " + std::to_string(line) + ": bad count '" + s + "'");
  return static_cast<int>(v);
}

// "k=v" or, for arrays, "-233kk=n,v1,...,vn".
void parse_param_token(const std::string& tok, Layer& layer, const std::string& origin, int line) {
  const auto eq = tok.find('=');
  if (eq == std::string::npos || eq == 0) fail(origin, "line " + std::to_string(line) + ": bad parameter '" + tok + "'");
  // ncnn knows ids 0..31, arrays as -23300 - id: anything else is not a parameter (and
  // a huge number must not reach the int conversion).
  const double id = parse_number(tok.substr(0, eq), origin, line);
  if (id != std::floor(id) || !((id >= 0 && id < kMaxParamId) || (id <= -23300 && id > -23300 - kMaxParamId)))
    fail(origin, "line " + std::to_string(line) + ": bad parameter id in '" + tok.substr(0, 64) + "'");
  const int key = static_cast<int>(id);
  const std::string value = tok.substr(eq + 1);
  if (key <= -23300) {
    std::vector<double> items;
    std::stringstream ss(value);
    std::string part;
    while (std::getline(ss, part, ',')) items.push_back(parse_number(part, origin, line));
    if (items.empty() || items[0] != static_cast<double>(items.size() - 1))
      fail(origin, "line " + std::to_string(line) + ": array parameter '" + tok + "' has the wrong count");
    items.erase(items.begin());
    layer.params[-key - 23300] = std::move(items);
  } else {
    layer.params[key] = {parse_number(value, origin, line)};
  }
}

class BinReader {
 public:
  BinReader(const std::vector<unsigned char>& bin, const std::string& origin) : bin_(bin), origin_(origin) {}

  std::uint32_t u32() {
    need(4, "a weight tag");
    std::uint32_t v;
    std::memcpy(&v, bin_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  std::vector<float> fp32(std::size_t count, const std::string& what) {
    need(count * 4, what);
    std::vector<float> out(count);
    std::memcpy(out.data(), bin_.data() + pos_, count * 4);
    pos_ += count * 4;
    return out;
  }
  std::vector<float> fp16(std::size_t count, const std::string& what) {
    const std::size_t bytes = (count * 2 + 3) / 4 * 4;  // padded to 4 bytes
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
  // Weights with a storage tag in front (ncnn's "type 0" data).
  std::vector<float> tagged(std::size_t count, const std::string& what) {
    const std::size_t at = pos_;
    const std::uint32_t tag = u32();
    if (tag == kTagFp16) return fp16(count, what);
    if (tag == kTagFp32) return fp32(count, what);
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", tag);
    fail(origin_, "unsupported weight storage tag " + std::string(buf) + " at offset " +
                      std::to_string(at) + " (" + what + "); only fp16 and fp32 are read");
  }
  std::size_t remaining() const { return bin_.size() - pos_; }

 private:
  void need(std::size_t bytes, const std::string& what) {
    if (bytes > bin_.size() - pos_)
      fail(origin_, "truncated: " + what + " needs " + std::to_string(bytes) + " bytes at offset " +
                        std::to_string(pos_) + ", the file has " + std::to_string(bin_.size()));
  }
  static float half_to_float(std::uint16_t h) {
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

  const std::vector<unsigned char>& bin_;
  const std::string& origin_;
  std::size_t pos_ = 0;
};

}  // namespace

double Layer::param(int id, double fallback) const {
  const auto it = params.find(id);
  return it == params.end() || it->second.empty() ? fallback : it->second[0];
}

Graph parse_param(const std::string& text, const std::string& origin) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  auto next_line = [&]() -> bool {
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") != std::string::npos) return true;
    }
    return false;
  };
  if (!next_line()) fail(origin, "empty file");
  {
    std::istringstream ls(line);
    std::string magic;
    ls >> magic;
    if (magic != std::to_string(kMagic))
      fail(origin, "not an ncnn .param file (magic '" + magic.substr(0, 16) + "', expected " + std::to_string(kMagic) + ")");
  }
  if (!next_line()) fail(origin, "missing layer and blob counts");
  int layer_count = 0, blob_count = 0;
  {
    std::istringstream ls(line);
    std::string a, b;
    if (!(ls >> a >> b)) fail(origin, "line " + std::to_string(line_no) + ": expected layer and blob counts");
    layer_count = parse_count(a, origin, line_no, kMaxLayers);
    blob_count = parse_count(b, origin, line_no, kMaxLayers * 8);
  }
  Graph g;
  g.layers.reserve(layer_count);
  std::set<std::string> produced;
  while (next_line()) {
    std::istringstream ls(line);
    Layer layer;
    std::string nin, nout;
    if (!(ls >> layer.type >> layer.name >> nin >> nout))
      fail(origin, "line " + std::to_string(line_no) + ": incomplete layer line");
    if (!kKnownLayers.count(layer.type)) {
      std::string known;
      for (const auto& k : kKnownLayers) known += (known.empty() ? "" : ", ") + k;
      fail(origin, "line " + std::to_string(line_no) + ": unknown layer type '" + layer.type +
                       "' (supported: " + known + ")");
    }
    const int ni = parse_count(nin, origin, line_no, 1024), no = parse_count(nout, origin, line_no, 1024);
    for (int i = 0; i < ni + no; ++i) {
      std::string blob;
      if (!(ls >> blob)) fail(origin, "line " + std::to_string(line_no) + ": layer '" + layer.name + "' lists fewer blobs than its counts");
      (i < ni ? layer.inputs : layer.outputs).push_back(blob);
    }
    for (const auto& b : layer.inputs)
      if (!produced.count(b)) fail(origin, "line " + std::to_string(line_no) + ": layer '" + layer.name + "' reads blob '" + b + "' before any layer produces it");
    for (const auto& b : layer.outputs)
      if (!produced.insert(b).second) fail(origin, "line " + std::to_string(line_no) + ": blob '" + b + "' is produced twice");
    std::string tok;
    while (ls >> tok) parse_param_token(tok, layer, origin, line_no);
    g.layers.push_back(std::move(layer));
    if (static_cast<int>(g.layers.size()) > layer_count) break;
  }
  if (static_cast<int>(g.layers.size()) != layer_count)
    fail(origin, "header says " + std::to_string(layer_count) + " layers, the file has " +
                     (static_cast<int>(g.layers.size()) > layer_count ? "more" : std::to_string(g.layers.size())));
  if (static_cast<int>(produced.size()) != blob_count)
    fail(origin, "header says " + std::to_string(blob_count) + " blobs, the layers produce " + std::to_string(produced.size()));
  return g;
}

void read_weights(Graph& graph, const std::vector<unsigned char>& bin, const std::string& origin) {
  BinReader r(bin, origin);
  for (auto& layer : graph.layers) {
    if (layer.type == "Convolution") {
      // Checked as doubles first: a value out of int's range must not be converted.
      const double outf = layer.param(0, 0), kwf = layer.param(1, 0), khf = layer.param(11, kwf);
      const double size = layer.param(6, 0);
      const auto bad = [](double v) { return !(v >= 1 && v <= 1e6) || v != std::floor(v); };
      const int out = bad(outf) ? 0 : static_cast<int>(outf);
      const int kw = bad(kwf) ? 0 : static_cast<int>(kwf);
      const int kh = bad(khf) ? 0 : static_cast<int>(khf);
      if (out <= 0 || kw <= 0 || kh <= 0 || size <= 0 || size > 1e9 ||
          std::fmod(size, static_cast<double>(out) * kw * kh) != 0)
        fail(origin, "convolution '" + layer.name + "': weight size " + std::to_string(static_cast<long long>(size)) +
                         " does not match " + std::to_string(out) + " outputs of " + std::to_string(kw) + "x" + std::to_string(kh));
      const std::int64_t in = static_cast<std::int64_t>(size) / (static_cast<std::int64_t>(out) * kw * kh);
      HostTensor w{{out, in, kh, kw}, r.tagged(static_cast<std::size_t>(size), "weights of '" + layer.name + "'")};
      layer.weights.push_back(std::move(w));
      if (layer.param(5, 0) != 0)
        layer.weights.push_back(HostTensor{{out}, r.fp32(out, "bias of '" + layer.name + "'")});
    } else if (layer.type == "PReLU") {
      const double n = layer.param(0, 0);
      if (n <= 0 || n > 1e6) fail(origin, "PReLU '" + layer.name + "': bad slope count");
      layer.weights.push_back(HostTensor{{static_cast<std::int64_t>(n)}, r.fp32(static_cast<std::size_t>(n), "slopes of '" + layer.name + "'")});
    }
  }
  if (r.remaining() != 0)
    fail(origin, std::to_string(r.remaining()) + " bytes left over after the last layer's weights: the .bin does not belong to this .param");
}

}  // namespace yamiro::ncnn
