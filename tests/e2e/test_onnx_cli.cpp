// End-to-end: ONNX fixtures (tests/data/onnx, issue 14) through the real binary.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <utility>

#include "e2e/harness.hpp"

using namespace e2e;

namespace {

const std::string kData = std::string(YAMIRO_TEST_DATA) + "/";

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

}  // namespace

TEST_F(Cli, OnnxGoldenThroughTheCommandLine) {
  // Exported fixtures share one golden across opsets; hand-built ones have one per file.
  const std::pair<std::string, std::string> cases[] = {{"compact-x4.op11", "compact-x4"},
                                                       {"attn-x2.op17", "attn-x2"},
                                                       {"warp-x2.op16", "warp-x2"},
                                                       {"resize-interp-x2.op19", "resize-interp-x2.op19"},
                                                       {"layout-x2.op20", "layout-x2.op20"}};
  for (const auto& [name, golden_name] : cases) {
    const std::string out = path(name + ".f32");
    const auto r = yamiro("-q upscale " + kData + "swinir/rgb18x20.png -o " + out + " -m " + kData + "onnx/" + name +
                          ".onnx --tile 0 --precision fp32");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string golden = kData + "onnx/golden." + golden_name + ".rgb18x20.f32";
    const double d = max_diff(read_f32(out), read_f32(golden));
    std::printf("yamiro upscale -m %s.onnx: max |diff| to the reference %.3g\n", name.c_str(), d);
    EXPECT_LE(d, 1e-4) << name;
  }
}

TEST_F(Cli, TruncatedOnnxIsAModelError) {
  std::ifstream f(kData + "onnx/compact-x4.op13.onnx", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::string bad = path("cut.onnx");
  std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const auto r = yamiro("-q upscale " + kData + "swinir/rgb18x20.png -o " + path("o.png") + " -m " + bad);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("cut.onnx: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("runs past the end"), std::string::npos) << r.err;
}
