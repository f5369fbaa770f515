// PyTorch checkpoints (.pth/.pt) without LibTorch: the zip layout of torch.save since
// 1.6 and the legacy one before it, both read through the restricted unpickler.
#include <cstring>
#include <map>

#include "models/pickle.hpp"
#include "models/readers.hpp"
#include "models/tensor_data.hpp"
#include "models/zip.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

namespace yamiro {
namespace {

using pickle::Value;
using Kind = pickle::Value::Kind;

constexpr std::uint64_t kMaxFileBytes = 4ull << 30;
// The legacy format's first pickle: this number as a Python long (LONG1, little-endian).
constexpr unsigned char kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kLegacyProtocol = 1001;

[[noreturn]] void fail(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + ": " + why);
}

// One storage's bytes, as far as the file holds them.
struct Storage {
  DType dtype = DType::F32;
  const unsigned char* data = nullptr;
  std::size_t bytes = 0;
};

// params_ema > params > the dict itself (a bare state dict).
const Value* state_dict_of(const Value* root, const std::string& origin) {
  if (root->kind != Kind::Dict)
    fail(origin, std::string("holds a value of type ") + pickle::kind_name(root->kind) + ", not a state dict");
  for (const char* key : {"params_ema", "params"}) {
    if (const Value* v = root->get(key); v && v->kind != Kind::None) {  // None: saved without EMA
      if (v->kind != Kind::Dict)
        fail(origin, std::string("'") + key + "' is of type " + pickle::kind_name(v->kind) + ", not a state dict");
      return v;
    }
  }
  return root;
}

// Builds every tensor of the state dict; `storage(ref)` returns the bytes of a storage.
// Tensors may share storages, so the total is capped too: a few kilobytes of pickle
// must not be able to ask for the same big storage a million times.
template <typename StorageFn>
StateDict materialise(const Value* dict, const std::string& origin, std::size_t file_bytes, StorageFn storage) {
  const std::uint64_t budget = 4 * static_cast<std::uint64_t>(file_bytes);
  std::uint64_t total = 0;
  StateDict sd;
  for (const auto& [k, v] : dict->entries) {
    if (k->kind != Kind::Str) fail(origin, std::string("state dict key of type ") + pickle::kind_name(k->kind));
    if (v->kind != Kind::Tensor)
      fail(origin, "'" + k->text + "' is of type " + pickle::kind_name(v->kind) + ", not a tensor");
    const pickle::TensorRef& t = v->tensor;
    const Storage s = storage(t.storage->storage);
    HostTensor h = gather_tensor(s.dtype, s.data, s.bytes, t.offset, t.shape, t.stride, origin + ": " + k->text);
    total += h.values.size();
    if (total > budget) fail(origin, "tensors add up to far more values than the file holds");
    sd[k->text] = std::move(h);
  }
  if (sd.empty()) fail(origin, "the state dict holds no tensors");
  return sd;
}

bool archive_is_torchscript(const zip::Archive& archive) {
  for (const auto& e : archive.entries()) {
    const auto slash = e.name.find('/');
    if (slash == std::string::npos) continue;
    const std::string rest = e.name.substr(slash + 1);
    if (rest == "constants.pkl" || rest.rfind("code/", 0) == 0) return true;
  }
  return false;
}

Model load_zip(const std::string& path, const std::vector<unsigned char>& bytes) {
  const zip::Archive archive(zip::ByteView{bytes.data(), bytes.size()}, path);
  // torch.save names the top folder after the file it wrote first; take whatever it is.
  std::string prefix;
  for (const auto& e : archive.entries()) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash + 1) == "data.pkl" && prefix.empty()) prefix = e.name.substr(0, slash + 1);
  }
  if (archive_is_torchscript(archive))
    fail(path, "is a TorchScript module, not a state dict (TorchScript is code; it needs --trust-model)");
  if (prefix.empty()) fail(path, "zip archive without <name>/data.pkl: not a PyTorch checkpoint");
  // torch >= 2.1 records the byte order; older archives are always little-endian.
  if (const zip::Entry* order = archive.find(prefix + "byteorder")) {
    const zip::ByteView v = archive.read(*order);
    if (std::string(reinterpret_cast<const char*>(v.data), v.size) != "little")
      fail(path, "big-endian checkpoints are not supported");
  }
  const zip::ByteView pkl = archive.read(*archive.find(prefix + "data.pkl"));
  const pickle::Document doc = pickle::unpickle(pkl.data, pkl.size, path);

  std::map<std::string, Storage> cache;
  auto storage = [&](const pickle::StorageRef& ref) {
    const auto hit = cache.find(ref.key);
    if (hit != cache.end()) {
      if (hit->second.dtype != ref.dtype) fail(path, "storage " + ref.key + " is used with two element types");
      return hit->second;
    }
    const std::string name = prefix + "data/" + ref.key;
    const zip::Entry* entry = archive.find(name);
    if (!entry) fail(path, "storage " + ref.key + " is missing (no " + name + " in the archive)");
    const zip::ByteView data = archive.read(*entry);
    const std::size_t esize = dtype_size(ref.dtype);
    if (static_cast<std::uint64_t>(ref.numel) > data.size / esize)
      fail(path, name + " holds " + std::to_string(data.size) + " bytes but the storage needs " +
                     std::to_string(ref.numel) + " x " + std::to_string(esize));
    const Storage s{ref.dtype, data.data, static_cast<std::size_t>(ref.numel) * esize};
    cache.emplace(ref.key, s);
    return s;
  };
  return model_from_weights(path, "pytorch", materialise(state_dict_of(doc.root, path), path, bytes.size(), storage));
}

// Pre-1.6 torch.save: magic number, protocol, sys info and the object as four pickles,
// then the list of storage keys as a fifth, then each storage as an int64 element
// count and its raw bytes, in that order.
Model load_legacy(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::size_t at = 0;
  auto next = [&]() {
    std::size_t used = 0;
    pickle::Document d = pickle::unpickle(bytes.data() + at, bytes.size() - at, path, &used);
    at += used;
    return d;
  };
  const pickle::Document magic = next();
  if (magic.root->kind != Kind::BigInt || magic.root->text.size() != sizeof kLegacyMagic ||
      std::memcmp(magic.root->text.data(), kLegacyMagic, sizeof kLegacyMagic) != 0)
    fail(path, "not a PyTorch checkpoint (neither a zip archive nor the legacy magic number)");
  const pickle::Document protocol = next();
  if (protocol.root->kind != Kind::Int || protocol.root->integer != kLegacyProtocol)
    fail(path, "unsupported legacy checkpoint protocol");
  const pickle::Document sys_info = next();
  if (sys_info.root->kind != Kind::Dict) fail(path, "legacy checkpoint without system information");
  if (const Value* le = sys_info.root->get("little_endian"); le && (le->kind != Kind::Bool || !le->boolean))
    fail(path, "big-endian legacy checkpoints are not supported");
  const pickle::Document main = next();
  const pickle::Document keys = next();
  if (keys.root->kind != Kind::List) fail(path, "legacy checkpoint without its list of storages");

  std::map<std::string, DType> types;  // from the persistent ids in the main pickle
  for (const auto& v : main.arena) {
    if (v->kind != Kind::Storage) continue;
    const auto [it, added] = types.emplace(v->storage.key, v->storage.dtype);
    if (!added && it->second != v->storage.dtype) fail(path, "storage " + v->storage.key + " is used with two element types");
  }
  std::map<std::string, Storage> storages;
  for (const Value* k : keys.root->items) {
    if (k->kind != Kind::Str) fail(path, "storage key is not a string");
    const auto type = types.find(k->text);
    if (type == types.end()) fail(path, "storage " + k->text + " is listed but no tensor uses it");
    if (bytes.size() - at < 8) fail(path, "truncated (storage " + k->text + " is missing)");
    std::uint64_t numel = 0;
    for (int i = 0; i < 8; ++i) numel |= static_cast<std::uint64_t>(bytes[at + i]) << (8 * i);
    at += 8;
    const std::size_t esize = dtype_size(type->second);
    if (numel > (bytes.size() - at) / esize)
      fail(path, "truncated (storage " + k->text + " needs " + std::to_string(numel) + " x " + std::to_string(esize) +
                     " bytes, " + std::to_string(bytes.size() - at) + " left)");
    if (!storages.emplace(k->text, Storage{type->second, bytes.data() + at, static_cast<std::size_t>(numel) * esize}).second)
      fail(path, "storage " + k->text + " is listed twice");
    at += static_cast<std::size_t>(numel) * esize;
  }
  auto storage = [&](const pickle::StorageRef& ref) {
    const auto it = storages.find(ref.key);
    if (it == storages.end()) fail(path, "storage " + ref.key + " is missing");
    return it->second;
  };
  return model_from_weights(path, "pytorch", materialise(state_dict_of(main.root, path), path, bytes.size(), storage));
}

}  // namespace

Model pytorch_from_bytes(const std::vector<unsigned char>& bytes, const std::string& path) {
  if (zip::looks_like_zip(zip::ByteView{bytes.data(), bytes.size()})) return load_zip(path, bytes);
  if (bytes.size() >= 2 && bytes[0] == 0x80 && bytes[1] >= 2) return load_legacy(path, bytes);
  fail(path, "not a PyTorch checkpoint (neither a zip archive nor a legacy pickle)");
}

Model load_pytorch(const std::string& path) { return pytorch_from_bytes(read_model_file(path, kMaxFileBytes), path); }

}  // namespace yamiro

namespace yamiro {

bool is_torchscript_file(const std::string& path) {
  const std::vector<unsigned char> bytes = read_model_file(path, kMaxFileBytes);
  const zip::ByteView view{bytes.data(), bytes.size()};
  if (!zip::looks_like_zip(view)) return false;
  try {
    return archive_is_torchscript(zip::Archive(view, path));
  } catch (const Error&) {
    return false;  // a broken archive is reported by load_pytorch with its reason
  }
}

}  // namespace yamiro
