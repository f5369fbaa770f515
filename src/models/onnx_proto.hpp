// ONNX model files (internal): a protobuf wire-format reader of the parts of onnx.proto a
// network needs (ModelProto -> GraphProto -> NodeProto / AttributeProto / TensorProto /
// ValueInfoProto, opset_import), written here rather than linking libonnx + libprotobuf
// (see docs/onnx.md for why). Every length is checked against the end of its enclosing
// message before it is used, counts and tensor sizes are capped before anything is
// allocated, and nested graphs (If/Loop bodies) are skipped unparsed, so nothing recurses.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace yamiro::onnx {

// TensorProto.DataType values yamiro reads.
enum DataType : int {
  kUndefined = 0, kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13, kBfloat16 = 16
};
const char* data_type_name(int type);
bool is_float_type(int type);

// A tensor, decoded: floating types (fp32, fp16, bf16, fp64) become fp32 in `floats`,
// integer and bool types int64 in `ints`. Exactly one of the two holds numel() values.
struct Tensor {
  std::string name;
  std::vector<std::int64_t> dims;
  int data_type = kUndefined;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  bool is_float() const { return is_float_type(data_type); }
  std::int64_t numel() const;
};

struct Attribute {
  enum Type : int { kNone = 0, kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kGraph = 5,
                    kFloats = 6, kInts = 7, kStrings = 8, kTensors = 9, kGraphs = 10 };
  std::string name;
  int type = kNone;
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
};

struct Node {
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;  // "" = an optional input left out
  std::vector<Attribute> attrs;
  const Attribute* attr(const std::string& key) const;
};

// A graph input or output: element type and dims (-1 where symbolic or absent).
struct ValueInfo {
  std::string name;
  int elem_type = kUndefined;
  bool has_shape = false;
  std::vector<std::int64_t> dims;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

struct Model {
  std::int64_t ir_version = 0;
  std::string producer;
  std::map<std::string, std::int64_t> opsets;  // domain ("" = ai.onnx) -> version
  Graph graph;
};

// Caps, checked before allocation.
inline constexpr std::int64_t kMaxNodes = 1 << 20;
inline constexpr std::int64_t kMaxRank = 8;
inline constexpr std::int64_t kMaxTensorValues = std::int64_t{1} << 31;  // one tensor (8 GiB as fp32)
inline constexpr std::int64_t kMaxTotalValues = std::int64_t{1} << 32;   // all initializers together

// Bytes of a tensor kept outside the model (TensorProto.external_data): `location` as
// written in the file, `offset`, `length` (-1 = to the end). Returns the bytes, or throws
// Error(Model) for a location outside the model's folder, a missing file or a range past
// its end.
using ExternalReader = std::function<std::vector<unsigned char>(const std::string& location, std::int64_t offset,
                                                                 std::int64_t length)>;

// Parses a serialized ModelProto. `origin` names the file in errors; `external` may be
// empty (then tensors with external data are refused). Throws Error(Model) "origin: why"
// for truncated or malformed wire data, lengths past the end, wrong wire types on the
// fields read, tensors whose data do not match their dims, unsupported data types,
// sizes over the caps. Thread-safe.
Model parse_model(const unsigned char* data, std::size_t size, const std::string& origin, const ExternalReader& external);

}  // namespace yamiro::onnx
