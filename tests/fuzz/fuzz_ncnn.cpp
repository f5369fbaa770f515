// libFuzzer target: an ncnn model, i.e. .param text, a NUL byte, then the .bin bytes
// (no NUL: an empty .bin). Runs what load_ncnn runs: parse, weights, graph mapping,
// architecture detection or the graph import, shape probe and cost.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_check.hpp"
#include "models/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
  const std::size_t text_size = nul ? static_cast<std::size_t>(nul - data) : size;
  const std::string param(reinterpret_cast<const char*>(data), text_size);
  const std::vector<unsigned char> bin(nul ? nul + 1 : data + size, data + size);
  try {
    const yamiro::Model m = yamiro::ncnn_from_bytes(param, bin, "fuzz.param", "fuzz.bin");
    // A hand-written network comes with its weights; a graph for the executor carries its own.
    if (m.info.scale < 1 || (m.weights.empty() && !m.info.graph)) std::abort();
  } catch (const yamiro::Error& e) {
    fuzz::check_error(e, "fuzz.");
  }
  return 0;
}
