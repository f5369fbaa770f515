// libFuzzer target: a .safetensors file: header length, JSON header, offsets, dtypes.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "models/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  try {
    const yamiro::Model m = yamiro::safetensors_from_bytes(bytes, "fuzz.safetensors");
    if (m.info.scale < 1 || m.weights.empty()) std::abort();
  } catch (const yamiro::Error& e) {
    fuzz::check_error(e, "fuzz.safetensors");
  }
  return 0;
}
