// Helpers for tests that use the model fixtures in tests/data/fixtures (YAMIRO_FIXTURES; made by
// tests/fixtures/make_fixtures.py) and the golden input tests/data/rgb48x60.rgb (YAMIRO_TEST_DATA).
#pragma once
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "yamiro/engine.hpp"
#include "yamiro/image.hpp"
#include "yamiro/model.hpp"

#include <gtest/gtest.h>

namespace yamiro::test {

// The device golden tests run on: the CPU, or YAMIRO_TEST_DEVICE (the GPU check sets cuda).
inline std::string test_device() {
  const char* d = std::getenv("YAMIRO_TEST_DEVICE");
  return d && *d ? d : "cpu";
}

// The settings the goldens were made with: fp32, whole image (no tiling).
inline EngineOptions exact_options() {
  EngineOptions o;
  o.device = test_device();
  o.precision = Precision::FP32;
  o.tile = 0;
  return o;
}

inline std::string fixture(const std::string& name) { return std::string(YAMIRO_FIXTURES) + "/" + name; }
inline std::string data_file(const std::string& name) { return std::string(YAMIRO_TEST_DATA) + "/" + name; }

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The golden input (48x60 RGB, 8-bit) as the reference saw it: RGB / 255, planar.
inline PlanarImage golden_input() {
  const auto rgb = read_bytes(data_file("rgb48x60.rgb"));
  PlanarImage p(60, 48, 3);
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < 60u * 48u; ++i) p.plane(c)[i] = static_cast<float>(rgb.at(i * 3 + c)) / 255.0f;
  return p;
}

inline Image golden_input_u8() {
  Image img(60, 48, 3, 1);
  img.data = read_bytes(data_file("rgb48x60.rgb"));
  return img;
}

// tests/data/swinir/rgb18x20.rgb (20 wide, 18 high, 8-bit RGB) as [0,1] planes: the input
// the architecture goldens (tests/fixtures/make_<arch>.py) were made from.
inline PlanarImage rgb18x20_input() {
  const auto rgb = read_bytes(data_file("swinir/rgb18x20.rgb"));
  EXPECT_EQ(rgb.size(), 20u * 18u * 3u);
  PlanarImage p(20, 18, 3);
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < 20u * 18u; ++i) p.plane(c)[i] = static_cast<float>(rgb.at(i * 3 + c)) / 255.0f;
  return p;
}

// exact_options() with a tile size and pad.
inline EngineOptions tiled(int tile, int pad) {
  EngineOptions o = exact_options();
  o.tile = tile;
  o.tile_pad = pad;
  return o;
}

// One run of `m` on `in`: the output planes.
inline std::vector<float> run(const Model& m, const EngineOptions& o, const PlanarImage& in) {
  Engine e(m, o);
  return e.upscale(in).data;
}

inline std::vector<float> read_f32(const std::string& path) {
  const auto b = read_bytes(path);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

// PSNR of two images with peak 1.0 (float) or 255 (bytes).
inline double psnr(const std::vector<float>& a, const std::vector<float>& b, double peak = 1.0) {
  double se = 0;
  for (std::size_t i = 0; i < a.size(); ++i) se += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
  const double mse = se / static_cast<double>(a.size());
  return mse == 0 ? INFINITY : 10 * std::log10(peak * peak / mse);
}

// Runs `model` the way the goldens were made and checks the output's size and that it
// matches golden.<name>.rgb48x60.f32 to 1e-4 (SPEC §9).
inline void expect_matches_golden(const Model& model, const std::string& name) {
  Engine engine(model, exact_options());
  const PlanarImage out = engine.upscale(golden_input());
  ASSERT_EQ(out.width, 60 * model.info.scale);
  ASSERT_EQ(out.height, 48 * model.info.scale);
  EXPECT_LE(max_abs_diff(out.data, read_f32(fixture("golden." + name + ".rgb48x60.f32"))), 1e-4);
}

}  // namespace yamiro::test
