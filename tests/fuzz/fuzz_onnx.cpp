// libFuzzer target: an .onnx file: the protobuf wire reader (lengths, varints, nested
// messages), tensors and their data, the op converters, shape inference and folding.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "models/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  try {
    const yamiro::Model m = yamiro::onnx_from_bytes(bytes, "fuzz.onnx");
    if (m.info.scale < 1 || !m.info.graph) std::abort();
  } catch (const yamiro::Error& e) {
    fuzz::check_error(e, "fuzz.onnx");
  }
  return 0;
}
