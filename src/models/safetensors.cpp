// safetensors: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the
// data section the offsets index into.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "models/readers.hpp"
#include "models/tensor_data.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

namespace yamiro {
namespace {

constexpr std::uint64_t kMaxFileBytes = 4ull << 30;  // read whole; SR models are far smaller
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr int kMaxJsonDepth = 64;

[[noreturn]] void fail(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + ": " + why);
}

// A header entry is {dtype, shape, data_offsets}: nesting is shallow, so anything deep
// is refused before the JSON parser sees it.
void check_nesting(const char* text, std::size_t size, const std::string& origin) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) fail(origin, "safetensors header nests too deeply");
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
}

bool parse_dtype(const std::string& s, DType* out) {
  static const std::pair<const char*, DType> known[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"F64", DType::F64},
      // Integer buffers (SwinIR's relative_position_index) are read too; detection decides what they mean.
      {"I64", DType::I64}, {"I32", DType::I32}};
  for (const auto& [name, d] : known)
    if (s == name) {
      *out = d;
      return true;
    }
  return false;
}

struct Slot {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end;
};

Slot parse_entry(const std::string& name, const nlohmann::json& e, std::uint64_t data_size, const std::string& origin) {
  const std::string what = origin + ": " + name;
  if (!e.is_object()) fail(what, "header entry is not an object");
  const auto dt = e.find("dtype"), sh = e.find("shape"), off = e.find("data_offsets");
  if (dt == e.end() || sh == e.end() || off == e.end()) fail(what, "header entry needs dtype, shape and data_offsets");
  Slot s{name, DType::F32, {}, 0, 0};
  if (!dt->is_string() || !parse_dtype(dt->get<std::string>(), &s.dtype))
    fail(what, "unsupported dtype " + dt->dump() + " (F32, F16, BF16, F64, I64 and I32 are read)");
  if (!sh->is_array() || sh->size() > 8) fail(what, "shape is not an array of at most 8 sizes");
  std::uint64_t numel = 1;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned()) fail(what, "shape holds " + d.dump());
    const auto n = d.get<std::uint64_t>();
    if (n != 0 && numel > data_size / n) fail(what, "shape is larger than the data section");
    numel *= n;
    s.shape.push_back(static_cast<std::int64_t>(n));
  }
  if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
    fail(what, "data_offsets is not [begin, end]");
  s.begin = (*off)[0].get<std::uint64_t>();
  s.end = (*off)[1].get<std::uint64_t>();
  if (s.begin > s.end || s.end > data_size)
    fail(what, "data_offsets [" + std::to_string(s.begin) + ", " + std::to_string(s.end) +
                   "] lie outside the data section of " + std::to_string(data_size) + " bytes");
  if (numel * dtype_size(s.dtype) != s.end - s.begin)
    fail(what, "shape and dtype need " + std::to_string(numel * dtype_size(s.dtype)) + " bytes but data_offsets span " +
                   std::to_string(s.end - s.begin));
  return s;
}

}  // namespace

Model load_safetensors(const std::string& path) { return safetensors_from_bytes(read_model_file(path, kMaxFileBytes), path); }

Model safetensors_from_bytes(const std::vector<unsigned char>& bytes, const std::string& path) {
  if (bytes.size() < 8) fail(path, "truncated safetensors file (no header length)");
  std::uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
  if (header_len > kMaxHeaderBytes) fail(path, "safetensors header of " + std::to_string(header_len) + " bytes is too large");
  if (header_len > bytes.size() - 8)
    fail(path, "safetensors header length " + std::to_string(header_len) + " is larger than the file");
  const char* text = reinterpret_cast<const char*>(bytes.data() + 8);
  check_nesting(text, static_cast<std::size_t>(header_len), path);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, text + header_len);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("safetensors header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "safetensors header is not a JSON object");

  const unsigned char* data = bytes.data() + 8 + header_len;
  const std::uint64_t data_size = bytes.size() - 8 - header_len;
  std::vector<Slot> slots;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    slots.push_back(parse_entry(it.key(), it.value(), data_size, path));
  }
  if (slots.empty()) fail(path, "safetensors file holds no tensors");
  std::vector<const Slot*> by_offset;
  for (const auto& s : slots)
    if (s.end > s.begin) by_offset.push_back(&s);
  std::sort(by_offset.begin(), by_offset.end(), [](const Slot* a, const Slot* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      fail(path, "tensors " + by_offset[i - 1]->name + " and " + by_offset[i]->name + " overlap");

  StateDict sd;
  for (const auto& s : slots)
    sd[s.name] = gather_tensor(s.dtype, data + s.begin, static_cast<std::size_t>(s.end - s.begin), 0, s.shape,
                               contiguous_strides(s.shape), path + ": " + s.name);
  return model_from_weights(path, "safetensors", std::move(sd));
}

}  // namespace yamiro
