// libFuzzer target: a PyTorch checkpoint (zip or legacy layout): zip reader, restricted
// unpickler, storage bounds, strided gathers, key renaming, architecture detection.
// The fuzz build skips the zip CRC check so mutated pickles inside archives get read.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "models/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  try {
    const yamiro::Model m = yamiro::pytorch_from_bytes(bytes, "fuzz.pth");
    if (m.info.scale < 1 || m.weights.empty()) std::abort();
  } catch (const yamiro::Error& e) {
    fuzz::check_error(e, "fuzz.pth");
  }
  return 0;
}
