// Every PyTorch (.pth, zip and legacy, params_ema / params / bare / 2018 ESRGAN names)
// and safetensors fixture against the reference network's exact output (1e-4 in fp32).
#include <gtest/gtest.h>

#include "golden/fixtures.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

struct Case {
  std::string model;
  std::string file;    // suffix after the model name
  std::string format;  // Model::format
  std::string arch;
  int scale;
  std::map<std::string, int> hyper;
};

class GoldenWeights : public ::testing::TestWithParam<Case> {};


// The hyper-parameters fixtures.json lists for each model.
const std::map<std::string, int> kRrdbX4 = {{"num_feat", 16}, {"num_block", 2}, {"num_grow_ch", 8}};
const std::map<std::string, int> kRrdbX2 = {{"num_feat", 16}, {"num_block", 1}, {"num_grow_ch", 8}};
const std::map<std::string, int> kCompactX4 = {{"num_feat", 16}, {"num_conv", 4}};
const std::map<std::string, int> kCompactX2 = {{"num_feat", 8}, {"num_conv", 2}};

std::vector<Case> cases() {
  struct M {
    const char* name;
    const char* arch;
    int scale;
    std::map<std::string, int> hyper;
  };
  const M models[] = {{"rrdb-x4-nb2-nf16-gc8", "RRDBNet", 4, kRrdbX4},
                      {"rrdb-x2-nb1-nf16-gc8", "RRDBNet", 2, kRrdbX2},
                      {"compact-x4-nc4-nf16", "SRVGGNetCompact", 4, kCompactX4},
                      {"compact-x2-nc2-nf8", "SRVGGNetCompact", 2, kCompactX2}};
  std::vector<Case> out;
  for (const auto& m : models) {
    for (const char* f : {".pth", ".params.pth", ".bare-legacy.pth"})
      out.push_back({m.name, f, "pytorch", m.arch, m.scale, m.hyper});
    out.push_back({m.name, ".safetensors", "safetensors", m.arch, m.scale, m.hyper});
  }
  out.push_back({"rrdb-x4-nb2-nf16-gc8", ".esrgan-keys.pth", "pytorch", "RRDBNet", 4, kRrdbX4});
  return out;
}

}  // namespace

TEST_P(GoldenWeights, MatchesReferenceInFp32) {
  const Case& c = GetParam();
  const Model m = load_model(fixture(c.model + c.file));
  EXPECT_EQ(m.format, c.format);
  EXPECT_EQ(m.info.arch, c.arch);
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.hyper, c.hyper);
  expect_matches_golden(m, c.model);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenWeights, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param.model + info.param.file;
  for (auto& ch : n)
    if (ch == '-' || ch == '.') ch = '_';
  return n;
});

TEST(TorchScript, RefusedWithoutTrustAndExactWithIt) {
  const std::string path = fixture("compact-x4-nc4-nf16.torchscript.pt");
  EXPECT_TRUE(is_torchscript_file(path));
  EXPECT_FALSE(is_torchscript_file(fixture("compact-x4-nc4-nf16.pth")));
  try {
    load_model(path);
    FAIL() << "TorchScript loaded without --trust-model";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find("--trust-model"), std::string::npos);
  }
  const Model m = load_model(path, /*trust_code=*/true);
  EXPECT_EQ(m.format, "torchscript");
  EXPECT_EQ(m.info.arch, "TorchScript");
  EXPECT_EQ(m.info.scale, 4);  // found by the probe
  expect_matches_golden(m, "compact-x4-nc4-nf16");
}
