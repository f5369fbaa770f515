// A restricted pickle machine (internal) for PyTorch checkpoints. It runs no code:
// it builds plain values (None, bools, ints, floats, strings, tuples, lists, dicts)
// and knows only the few globals a state dict needs (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter and the
// torch.*Storage types). Any other global is refused by name. Persistent ids
// (BINPERSID) become storage references; their bytes live outside the pickle.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/tensor_data.hpp"

namespace yamiro::pickle {

struct Value;

// A storage named by a persistent id: ('storage', torch.XStorage, key, location, numel[, view]).
struct StorageRef {
  DType dtype = DType::F32;
  std::string key;
  std::string location;
  std::int64_t numel = 0;
};

// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...).
struct TensorRef {
  const Value* storage = nullptr;  // kind Storage
  std::int64_t offset = 0;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> stride;
};

struct Value {
  enum class Kind { None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double number = 0;
  std::string text;                                          // Str, Bytes, Global ("module.name"), BigInt (LE bytes)
  std::vector<const Value*> items;                           // Tuple, List
  std::vector<std::pair<const Value*, const Value*>> entries;  // Dict, in insertion order
  StorageRef storage;                                        // Storage
  TensorRef tensor;                                          // Tensor
  int depth = 0;                                             // container nesting

  // The value of `key` in a dict with string keys, or nullptr.
  const Value* get(const std::string& key) const noexcept;
};

// The result of unpickling: the root value and the arena that owns every value.
// Values form a DAG that may even be cyclic (pickles can build that); walk it with a
// depth limit. Cheap to move; pointers stay valid.
struct Document {
  const Value* root = nullptr;
  std::vector<std::unique_ptr<Value>> arena;
};

struct Limits {
  std::size_t max_values = 1'000'000;  // values created in total (about 250 bytes each)
  std::size_t max_stack = 1'000'000;   // stack entries and memo entries
  int max_depth = 100;                 // container nesting
};

// The kind's name, for error messages ("dict", "tensor", ...).
const char* kind_name(Value::Kind kind) noexcept;

// Runs the pickle in `data` (protocols 2 to 5, binary opcodes only) up to its STOP.
// Returns the document and, in `*consumed`, how many bytes the pickle took (legacy
// checkpoints hold several pickles in a row). `origin` names the file in errors.
// Throws Error(Model) for a refused global (naming it), an unknown or text-mode
// opcode, truncated data, a malformed stack, or a limit exceeded. Thread-safe.
Document unpickle(const unsigned char* data, std::size_t size, const std::string& origin,
                  std::size_t* consumed = nullptr, const Limits& limits = {});

}  // namespace yamiro::pickle
