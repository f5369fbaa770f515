// libFuzzer target: the restricted unpickler alone, with small limits so the fuzzer
// reaches them, then a bounded walk over what it built (it may be cyclic).
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "models/pickle.hpp"

namespace {

std::size_t walk(const yamiro::pickle::Value* v, int depth) {
  if (!v || depth > 200) return 0;
  std::size_t n = 1 + v->text.size();
  for (const auto* i : v->items) n += walk(i, depth + 1);
  for (const auto& [k, x] : v->entries) n += walk(k, depth + 1) + walk(x, depth + 1);
  if (v->kind == yamiro::pickle::Value::Kind::Tensor) n += walk(v->tensor.storage, depth + 1);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  yamiro::pickle::Limits limits;
  limits.max_values = 20000;
  limits.max_stack = 2000;
  limits.max_depth = 20;
  try {
    std::size_t used = 0;
    const auto doc = yamiro::pickle::unpickle(data, size, "fuzz.pkl", &used, limits);
    if (!doc.root || used == 0 || used > size) std::abort();
    walk(doc.root, 0);
  } catch (const yamiro::Error& e) {
    fuzz::check_error(e, "fuzz.pkl");
  }
  return 0;
}
