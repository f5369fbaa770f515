// The protobuf wire reader for ONNX files: each message is read by a cursor bounded by its
// own length, so a field can never reach past the message (or the buffer) that holds it.
#include "models/onnx_proto.hpp"

#include <cstring>

#include "models/tensor_data.hpp"
#include "yamiro/error.hpp"

namespace yamiro::onnx {

const char* data_type_name(int t) {
  switch (t) {
    case kFloat: return "float32";
    case kUint8: return "uint8";
    case kInt8: return "int8";
    case kUint16: return "uint16";
    case kInt16: return "int16";
    case kInt32: return "int32";
    case kInt64: return "int64";
    case kString: return "string";
    case kBool: return "bool";
    case kFloat16: return "float16";
    case kDouble: return "float64";
    case kUint32: return "uint32";
    case kUint64: return "uint64";
    case kBfloat16: return "bfloat16";
    default: return "an unknown type";
  }
}

bool is_float_type(int t) { return t == kFloat || t == kFloat16 || t == kDouble || t == kBfloat16; }

std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

const Attribute* Node::attr(const std::string& key) const {
  for (const auto& a : attrs)
    if (a.name == key) return &a;
  return nullptr;
}

namespace {

struct Ctx {
  const std::string& origin;
  const ExternalReader& external;
  std::int64_t total_values = 0;
  [[noreturn]] void fail(const std::string& why) const { throw Error(ErrorKind::Model, origin + ": " + why); }
};

// One message's bytes [p, end).
struct Cursor {
  const unsigned char* p;
  const unsigned char* end;
  Ctx& ctx;
  const char* what;  // the message, for errors

  bool done() const { return p >= end; }
  [[noreturn]] void fail(const std::string& why) const { ctx.fail(std::string(what) + ": " + why); }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) fail("truncated varint");
      const unsigned char b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  template <typename T>
  T fixed() {
    if (static_cast<std::size_t>(end - p) < sizeof(T)) fail("truncated fixed-size field");
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  // A length-delimited field: its bytes, checked against the end of this message.
  Cursor sub(const char* name) {
    const std::uint64_t len = varint();
    if (len > static_cast<std::uint64_t>(end - p)) fail(std::string(name) + ": length " + std::to_string(len) + " runs past the end");
    Cursor c{p, p + len, ctx, name};
    p += len;
    return c;
  }
  std::string bytes(const char* name) {
    const Cursor c = sub(name);
    return std::string(reinterpret_cast<const char*>(c.p), static_cast<std::size_t>(c.end - c.p));
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); return;
      case 1: fixed<std::uint64_t>(); return;
      case 2: sub("an unread field"); return;
      case 5: fixed<std::uint32_t>(); return;
      default: fail("wire type " + std::to_string(wire) + " (groups or garbage) is not valid here");
    }
  }
  // Field number and wire type of the next field.
  std::pair<std::uint64_t, int> tag() {
    const std::uint64_t t = varint();
    if ((t >> 3) == 0) fail("field number 0");
    return {t >> 3, static_cast<int>(t & 7)};
  }
  void expect(int wire, int want, const char* field) {
    if (wire != want) fail(std::string(field) + " has wire type " + std::to_string(wire) + ", expected " + std::to_string(want));
  }
};

std::int64_t as_int64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// A repeated varint field, packed (wire 2) or not (wire 0).
template <typename T>
void repeated_varint(Cursor& c, int wire, std::vector<T>& out, const char* field) {
  if (wire == 0) {
    out.push_back(static_cast<T>(as_int64(c.varint())));
    return;
  }
  c.expect(wire, 2, field);
  Cursor s = c.sub(field);
  while (!s.done()) out.push_back(static_cast<T>(as_int64(s.varint())));
}

// A repeated fixed-size field (float: fixed32, double/uint64: fixed64), packed or not.
template <typename T>
void repeated_fixed(Cursor& c, int wire, std::vector<T>& out, const char* field) {
  const int single = sizeof(T) == 4 ? 5 : 1;
  if (wire == single) {
    out.push_back(c.fixed<T>());
    return;
  }
  c.expect(wire, 2, field);
  Cursor s = c.sub(field);
  if ((s.end - s.p) % sizeof(T) != 0) c.fail(std::string(field) + ": packed length is not a multiple of " + std::to_string(sizeof(T)));
  while (!s.done()) out.push_back(s.fixed<T>());
}

std::size_t elem_bytes(int t) {
  switch (t) {
    case kFloat: case kInt32: case kUint32: return 4;
    case kInt64: case kDouble: case kUint64: return 8;
    case kFloat16: case kBfloat16: case kInt16: case kUint16: return 2;
    case kUint8: case kInt8: case kBool: return 1;
    default: return 0;
  }
}

// Decodes little-endian raw bytes of `t` into the tensor's floats or ints.
void decode_raw(Tensor& t, const unsigned char* b, std::size_t size, const Ctx& ctx) {
  const std::size_t n = static_cast<std::size_t>(t.numel()), eb = elem_bytes(t.data_type);
  if (size != n * eb)
    ctx.fail("tensor '" + t.name + "': " + std::to_string(size) + " data bytes for " + std::to_string(n) + " " +
             data_type_name(t.data_type) + " values");
  auto get = [&](std::size_t i, auto v) {
    std::memcpy(&v, b + i * sizeof(v), sizeof(v));
    return v;
  };
  if (t.is_float()) {
    t.floats.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      switch (t.data_type) {
        case kFloat: t.floats[i] = get(i, float{}); break;
        case kDouble: t.floats[i] = static_cast<float>(get(i, double{})); break;
        case kFloat16: t.floats[i] = half_to_float(get(i, std::uint16_t{})); break;
        default: t.floats[i] = bfloat16_to_float(get(i, std::uint16_t{})); break;
      }
    return;
  }
  t.ints.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    switch (t.data_type) {
      case kInt64: t.ints[i] = get(i, std::int64_t{}); break;
      case kUint64: t.ints[i] = static_cast<std::int64_t>(get(i, std::uint64_t{})); break;
      case kInt32: t.ints[i] = get(i, std::int32_t{}); break;
      case kUint32: t.ints[i] = get(i, std::uint32_t{}); break;
      case kInt16: t.ints[i] = get(i, std::int16_t{}); break;
      case kUint16: t.ints[i] = get(i, std::uint16_t{}); break;
      case kInt8: t.ints[i] = get(i, std::int8_t{}); break;
      default: t.ints[i] = get(i, std::uint8_t{}); break;  // uint8, bool
    }
}

Tensor tensor(Cursor c) {
  Tensor t;
  std::string raw;
  bool has_raw = false, external = false;
  std::vector<float> float_data;
  std::vector<double> double_data;
  std::vector<std::int64_t> int_data;  // int32_data, int64_data, uint64_data
  std::vector<std::uint64_t> u64_data;
  std::map<std::string, std::string> ext;
  while (!c.done()) {
    const auto [field, wire] = c.tag();
    switch (field) {
      case 1: repeated_varint(c, wire, t.dims, "dims"); break;
      case 2: c.expect(wire, 0, "data_type"); t.data_type = static_cast<int>(c.varint()); break;
      case 4: repeated_fixed(c, wire, float_data, "float_data"); break;
      case 5: repeated_varint(c, wire, int_data, "int32_data"); break;
      case 7: repeated_varint(c, wire, int_data, "int64_data"); break;
      case 8: c.expect(wire, 2, "name"); t.name = c.bytes("name"); break;
      case 9: c.expect(wire, 2, "raw_data"); raw = c.bytes("raw_data"), has_raw = true; break;
      case 10: repeated_fixed(c, wire, double_data, "double_data"); break;
      case 11: repeated_varint(c, wire, u64_data, "uint64_data"); break;
      case 13: {
        c.expect(wire, 2, "external_data");
        Cursor e = c.sub("external_data");
        std::string key, value;
        while (!e.done()) {
          const auto [f, w] = e.tag();
          if (f == 1 && w == 2) key = e.bytes("key");
          else if (f == 2 && w == 2) value = e.bytes("value");
          else e.skip(w);
        }
        ext[key] = value;
        break;
      }
      case 14: c.expect(wire, 0, "data_location"); external = c.varint() == 1; break;
      default: c.skip(wire);
    }
  }
  const std::string what = "tensor '" + t.name + "'";
  if (static_cast<std::int64_t>(t.dims.size()) > kMaxRank) c.ctx.fail(what + ": rank " + std::to_string(t.dims.size()) + " over " + std::to_string(kMaxRank));
  std::int64_t n = 1;
  for (auto d : t.dims) {
    if (d < 0 || (d > 0 && n > kMaxTensorValues / d)) c.ctx.fail(what + ": dims " + std::to_string(d) + " negative or too large");
    n *= d;
  }
  if (n > kMaxTensorValues) c.ctx.fail(what + ": more than 2^31 values");
  if (elem_bytes(t.data_type) == 0) c.ctx.fail(what + ": data type " + data_type_name(t.data_type) + " (" + std::to_string(t.data_type) + ") is not supported");
  if (n > 0 && (c.ctx.total_values += n) > kMaxTotalValues) c.ctx.fail("the initializers hold more than 2^32 values");
  if (external || !ext.empty()) {
    if (!c.ctx.external) c.ctx.fail(what + ": its data is in an external file, which cannot be read here");
    const auto loc = ext.find("location");
    if (loc == ext.end() || loc->second.empty()) c.ctx.fail(what + ": external data without a location");
    auto number = [&](const char* key, std::int64_t fallback) {
      const auto it = ext.find(key);
      if (it == ext.end()) return fallback;
      try {
        std::size_t used = 0;
        const long long v = std::stoll(it->second, &used);
        if (used != it->second.size() || v < 0) throw std::invalid_argument(key);
        return static_cast<std::int64_t>(v);
      } catch (const std::exception&) {
        c.ctx.fail(what + ": external data " + key + " '" + it->second + "' is not a number");
      }
    };
    const std::int64_t want = n * static_cast<std::int64_t>(elem_bytes(t.data_type));
    const std::int64_t length = number("length", want);
    if (length != want) c.ctx.fail(what + ": external length " + std::to_string(length) + " for " + std::to_string(want) + " bytes of data");
    const auto bytes = c.ctx.external(loc->second, number("offset", 0), length);
    decode_raw(t, bytes.data(), bytes.size(), c.ctx);
    return t;
  }
  if (has_raw) {
    decode_raw(t, reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), c.ctx);
    return t;
  }
  // Typed fields: their element counts must match the dims.
  auto count_check = [&](std::size_t got) {
    if (static_cast<std::int64_t>(got) != n)
      c.ctx.fail(what + ": " + std::to_string(got) + " values for dims of " + std::to_string(n));
  };
  switch (t.data_type) {
    case kFloat: count_check(float_data.size()); t.floats = std::move(float_data); break;
    case kDouble: count_check(double_data.size()); t.floats.assign(double_data.begin(), double_data.end()); break;
    case kFloat16: case kBfloat16:
      count_check(int_data.size());
      for (auto v : int_data)
        t.floats.push_back(t.data_type == kFloat16 ? half_to_float(static_cast<std::uint16_t>(v)) : bfloat16_to_float(static_cast<std::uint16_t>(v)));
      break;
    case kUint32: case kUint64:
      count_check(u64_data.size());
      for (auto v : u64_data) t.ints.push_back(static_cast<std::int64_t>(v));
      break;
    default: count_check(int_data.size()); t.ints = std::move(int_data); break;
  }
  return t;
}

Attribute attribute(Cursor c) {
  Attribute a;
  bool subgraph = false;
  while (!c.done()) {
    const auto [field, wire] = c.tag();
    switch (field) {
      case 1: c.expect(wire, 2, "name"); a.name = c.bytes("name"); break;
      case 2: c.expect(wire, 5, "f"); a.f = c.fixed<float>(); break;
      case 3: c.expect(wire, 0, "i"); a.i = as_int64(c.varint()); break;
      case 4: c.expect(wire, 2, "s"); a.s = c.bytes("s"); break;
      case 5: c.expect(wire, 2, "t"); a.t = tensor(c.sub("t")); break;
      case 6: case 11: c.skip(wire); subgraph = true; break;  // subgraphs: not read, so nothing recurses
      case 7: repeated_fixed(c, wire, a.floats, "floats"); break;
      case 8: repeated_varint(c, wire, a.ints, "ints"); break;
      case 9: c.expect(wire, 2, "strings"); a.strings.push_back(c.bytes("strings")); break;
      case 20: c.expect(wire, 0, "type"); a.type = static_cast<int>(c.varint()); break;
      default: c.skip(wire);
    }
  }
  if (subgraph) a.type = Attribute::kGraph;
  return a;
}

Node node(Cursor c) {
  Node n;
  while (!c.done()) {
    const auto [field, wire] = c.tag();
    switch (field) {
      case 1: c.expect(wire, 2, "input"); n.inputs.push_back(c.bytes("input")); break;
      case 2: c.expect(wire, 2, "output"); n.outputs.push_back(c.bytes("output")); break;
      case 3: c.expect(wire, 2, "name"); n.name = c.bytes("name"); break;
      case 4: c.expect(wire, 2, "op_type"); n.op_type = c.bytes("op_type"); break;
      case 5: c.expect(wire, 2, "attribute"); n.attrs.push_back(attribute(c.sub("attribute"))); break;
      case 7: c.expect(wire, 2, "domain"); n.domain = c.bytes("domain"); break;
      default: c.skip(wire);
    }
  }
  return n;
}

// TypeProto -> tensor_type -> elem_type and shape; other kinds (sequences, maps) are skipped.
ValueInfo value_info(Cursor c) {
  ValueInfo v;
  while (!c.done()) {
    const auto [field, wire] = c.tag();
    if (field == 1 && wire == 2) {
      v.name = c.bytes("name");
    } else if (field == 2 && wire == 2) {
      Cursor type = c.sub("type");
      while (!type.done()) {
        const auto [tf, tw] = type.tag();
        if (tf != 1 || tw != 2) { type.skip(tw); continue; }
        Cursor tt = type.sub("tensor_type");
        while (!tt.done()) {
          const auto [f, w] = tt.tag();
          if (f == 1 && w == 0) {
            v.elem_type = static_cast<int>(tt.varint());
          } else if (f == 2 && w == 2) {
            v.has_shape = true;
            Cursor shape = tt.sub("shape");
            while (!shape.done()) {
              const auto [sf, sw] = shape.tag();
              if (sf != 1 || sw != 2) { shape.skip(sw); continue; }
              Cursor dim = shape.sub("dim");
              std::int64_t d = -1;
              while (!dim.done()) {
                const auto [df, dw] = dim.tag();
                if (df == 1 && dw == 0) d = as_int64(dim.varint());
                else dim.skip(dw);
              }
              if (static_cast<std::int64_t>(v.dims.size()) >= kMaxRank) c.fail("value '" + v.name + "' has a rank over 8");
              v.dims.push_back(d);
            }
          } else {
            tt.skip(w);
          }
        }
      }
    } else {
      c.skip(wire);
    }
  }
  return v;
}

Graph graph(Cursor c) {
  Graph g;
  while (!c.done()) {
    const auto [field, wire] = c.tag();
    switch (field) {
      case 1:
        c.expect(wire, 2, "node");
        if (static_cast<std::int64_t>(g.nodes.size()) >= kMaxNodes) c.fail("more than 2^20 nodes");
        g.nodes.push_back(node(c.sub("node")));
        break;
      case 2: c.expect(wire, 2, "name"); g.name = c.bytes("name"); break;
      case 5: c.expect(wire, 2, "initializer"); g.initializers.push_back(tensor(c.sub("initializer"))); break;
      case 11: c.expect(wire, 2, "input"); g.inputs.push_back(value_info(c.sub("input"))); break;
      case 12: c.expect(wire, 2, "output"); g.outputs.push_back(value_info(c.sub("output"))); break;
      case 15: c.fail("sparse initializers are not supported");
      default: c.skip(wire);
    }
  }
  return g;
}

}  // namespace

Model parse_model(const unsigned char* data, std::size_t size, const std::string& origin, const ExternalReader& external) {
  Ctx ctx{origin, external};
  Cursor c{data, data + size, ctx, "ModelProto"};
  Model m;
  bool has_graph = false;
  if (size == 0) ctx.fail("empty file");
  while (!c.done()) {
    const auto [field, wire] = c.tag();
    switch (field) {
      case 1: c.expect(wire, 0, "ir_version"); m.ir_version = as_int64(c.varint()); break;
      case 2: c.expect(wire, 2, "producer_name"); m.producer = c.bytes("producer_name"); break;
      case 7:
        c.expect(wire, 2, "graph");
        if (has_graph) c.fail("two graphs");
        m.graph = graph(c.sub("graph"));
        has_graph = true;
        break;
      case 8: {
        c.expect(wire, 2, "opset_import");
        Cursor o = c.sub("opset_import");
        std::string domain;
        std::int64_t version = 0;
        while (!o.done()) {
          const auto [f, w] = o.tag();
          if (f == 1 && w == 2) domain = o.bytes("domain");
          else if (f == 2 && w == 0) version = as_int64(o.varint());
          else o.skip(w);
        }
        m.opsets[domain == "ai.onnx" ? "" : domain] = version;
        break;
      }
      default: c.skip(wire);
    }
  }
  if (!has_graph) ctx.fail("not an ONNX model (no graph in the ModelProto)");
  if (m.ir_version <= 0) ctx.fail("not an ONNX model (no ir_version)");
  return m;
}

}  // namespace yamiro::onnx
