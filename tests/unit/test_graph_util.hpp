// Helpers for the graph executor tests: .bin bytes written by hand, tiny .param graphs
// parsed, converted to the IR and run on ATen.
#pragma once
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "arch/graph_executor.hpp"
#include "models/ncnn.hpp"
#include "yamiro/error.hpp"

namespace yamiro::test {

// A .bin under construction: tagged ("type 0") and raw ("type 1") float arrays.
struct Bin {
  std::vector<unsigned char> bytes;
  void u32(std::uint32_t v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    bytes.insert(bytes.end(), p, p + 4);
  }
  void raw(const at::Tensor& t) {
    const at::Tensor c = t.contiguous().to(at::kFloat);
    const auto* p = reinterpret_cast<const unsigned char*>(c.data_ptr<float>());
    bytes.insert(bytes.end(), p, p + c.numel() * 4);
  }
  void tagged(const at::Tensor& t) {
    u32(0);
    raw(t);
  }
};

inline std::string graph_text(int layers, int blobs, const std::string& body) {
  return "7767517\n" + std::to_string(layers) + " " + std::to_string(blobs) + "\n" + body;
}

// Parses, reads the weights and converts; throws what the importer throws.
inline std::shared_ptr<graph::Graph> import(const std::string& param, const Bin& bin = {}) {
  ncnn::Graph g = ncnn::parse_param(param, "t.param");
  ncnn::read_weights(g, bin.bytes, "t.bin");
  return ncnn::to_graph_ir(g, "t.param");
}

// Runs the IR on `x` (fp32, CPU) and returns its first output.
inline at::Tensor run(const std::shared_ptr<graph::Graph>& g, const at::Tensor& x) {
  graph::GraphRunner r(g, arch::NetOptions{});
  return r.run(x).at(0);
}

inline at::Tensor run(const std::string& param, const Bin& bin, const at::Tensor& x) { return run(import(param, bin), x); }

inline void expect_close(const at::Tensor& got, const at::Tensor& want, double tol = 1e-5) {
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LE((got - want).abs().max().item<double>(), tol);
}

inline std::string model_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

}  // namespace yamiro::test
