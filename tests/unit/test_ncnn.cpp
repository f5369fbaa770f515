// ncnn reader: real fixtures parse to the right architecture; malformed files are
// clear Error(Model)s naming the file, never crashes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include <filesystem>
#include <fstream>

#include "golden/fixtures.hpp"
#include "arch/network.hpp"
#include "models/ncnn.hpp"
#include "models/readers.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;
namespace fs = std::filesystem;

namespace {

std::string read_text(const std::string& p) {
  const auto b = read_bytes(p);
  return std::string(b.begin(), b.end());
}

class NcnnFiles : public yamiro::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    param_ = read_text(fixture("compact-x4-nc4-nf16.param"));
    bin_ = read_bytes(fixture("compact-x4-nc4-nf16.bin"));
  }

  // Writes the pair and returns the error message of loading it ("" if it loaded).
  std::string load(const std::string& param, const std::vector<unsigned char>& bin) {
    const auto p = (dir_ / "m.param").string(), b = (dir_ / "m.bin").string();
    std::ofstream(p, std::ios::binary) << param;
    std::ofstream(b, std::ios::binary).write(reinterpret_cast<const char*>(bin.data()), static_cast<std::streamsize>(bin.size()));
    try {
      load_ncnn(p, b);
      return "";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model);
      return e.what();
    }
  }

  static std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  }

  std::string param_;
  std::vector<unsigned char> bin_;
};

}  // namespace

TEST_F(NcnnFiles, FixtureLoads) { EXPECT_EQ(load(param_, bin_), ""); }

TEST_F(NcnnFiles, WrongMagic) {
  EXPECT_NE(load(replace(param_, "7767517", "7767518"), bin_).find("not an ncnn .param file"), std::string::npos);
}

TEST_F(NcnnFiles, NotText) {
  EXPECT_NE(load(std::string("\x89PNG\r\n\x1a\n", 8), bin_), "");
}

TEST_F(NcnnFiles, LayerCountMismatch) {
  EXPECT_NE(load(replace(param_, "16 17", "17 17"), bin_).find("header says 17 layers"), std::string::npos);
  EXPECT_NE(load(replace(param_, "16 17", "15 17"), bin_).find("header says 15 layers"), std::string::npos);
  EXPECT_NE(load(replace(param_, "16 17", "16 18"), bin_).find("blobs"), std::string::npos);
}

TEST_F(NcnnFiles, TruncatedBin) {
  for (std::size_t keep : {std::size_t{0}, std::size_t{3}, std::size_t{100}, bin_.size() / 2, bin_.size() - 1}) {
    const std::vector<unsigned char> cut(bin_.begin(), bin_.begin() + static_cast<std::ptrdiff_t>(keep));
    const std::string msg = load(param_, cut);
    EXPECT_NE(msg.find("truncated"), std::string::npos) << keep << ": " << msg;
    EXPECT_NE(msg.find("m.bin"), std::string::npos);
  }
}

TEST_F(NcnnFiles, TrailingBytes) {
  auto longer = bin_;
  longer.resize(longer.size() + 8, 0);
  EXPECT_NE(load(param_, longer).find("left over"), std::string::npos);
}

TEST_F(NcnnFiles, UnknownWeightTag) {
  // As in ncnn, a tag that is none of fp16/int8/raw but has nonzero bytes announces a
  // 256-entry codebook: here that reads past the data, which is an error naming the .bin.
  auto bad = bin_;
  bad[0] = 0x12;
  const std::string msg = load(param_, bad);
  EXPECT_NE(msg.find("m.bin"), std::string::npos) << msg;
  EXPECT_TRUE(msg.find("truncated") != std::string::npos || msg.find("left over") != std::string::npos) << msg;
}

TEST_F(NcnnFiles, UnknownLayer) {
  const std::string msg = load(replace(param_, "PixelShuffle ", "LSTMCell     "), bin_);
  EXPECT_NE(msg.find("unknown layer type 'LSTMCell'"), std::string::npos) << msg;
}

TEST_F(NcnnFiles, BlobUsedBeforeProduced) {
  EXPECT_NE(load(replace(param_, "1 1 p0 c1", "1 1 p9 c1"), bin_).find("before any layer produces it"), std::string::npos);
}

TEST_F(NcnnFiles, MalformedNumbersAndLines) {
  EXPECT_NE(load(replace(param_, "0=16 1=3", "0=sixteen 1=3"), bin_).find("bad number"), std::string::npos);
  EXPECT_NE(load(replace(param_, "16 17", "-5 17"), bin_).find("bad count"), std::string::npos);
  EXPECT_NE(load(replace(param_, "1 1 c0 p0 0=16", "1 5 c0"), bin_), "");
  EXPECT_NE(load("", bin_).find("empty"), std::string::npos);
}

TEST_F(NcnnFiles, WeightSizeThatDoesNotDivide) {
  EXPECT_NE(load(replace(param_, "6=2304", "6=2305"), bin_).find("does not match"), std::string::npos);
}

TEST_F(NcnnFiles, WrongActivationIsNotTheArchitecture) {
  // Not SRVGGNetCompact any more, so not its fast path: the graph executor runs it.
  const auto p = (dir_ / "a.param").string(), b = (dir_ / "a.bin").string();
  std::ofstream(p, std::ios::binary) << replace(param_, "5=1 6=2304", "5=1 6=2304 9=1");
  std::ofstream(b, std::ios::binary).write(reinterpret_cast<const char*>(bin_.data()), static_cast<std::streamsize>(bin_.size()));
  const Model m = load_ncnn(p, b);
  EXPECT_EQ(m.info.arch, "Graph");
  EXPECT_EQ(m.info.scale, 4);
  EXPECT_EQ(load(param_, bin_), "");
}

TEST_F(NcnnFiles, ALayerOutsideTheLayoutIsNotDroppedSilently) {
  // A Clip after the residual add: SRVGGNetCompact has no place for it, so the graph runs on
  // the executor with the Clip (the hand-written mapping used to ignore it).
  std::string param = replace(param_, "16 17", "17 18");
  param = replace(param, "BinaryOp                 Add_out                  2 1 shuf base output",
                  "BinaryOp                 Add_out                  2 1 shuf base sum\nClip clip 1 1 sum output 0=0 1=0.25");
  const Model m = ncnn_from_bytes(param, bin_, "clip.param", "clip.bin");
  ASSERT_EQ(m.info.arch, "Graph");
  const auto net = arch::make_network(m.info, m.weights, arch::NetOptions{});
  c10::InferenceMode guard;
  const at::Tensor y = net->forward(at::rand({1, 3, 8, 8}));
  EXPECT_LE(y.max().item<double>(), 0.25);
  EXPECT_GE(y.min().item<double>(), 0.0);
}

namespace {

// The file `-m NAME` would load: the first NAME.{param,safetensors,pth,pt} in model_dirs()
// ("" when there is none).
std::string find_model_file(const std::string& name) {
  for (const auto& dir : model_dirs())
    for (const char* ext : {".param", ".safetensors", ".pth", ".pt"}) {
      const fs::path file = fs::path(dir) / (name + ext);
      if (fs::is_regular_file(file)) return file.string();
    }
  return "";
}

}  // namespace

// Skipped only for a model whose file is absent: a file that is there must load, and a
// load error fails the test.
TEST_F(NcnnFiles, RealModelsParseWhenPresent) {
  std::string absent;
  for (const char* name : {"realesrgan-x4plus", "realesrgan-x4fast"}) {
    const std::string file = find_model_file(name);
    if (file.empty()) {
      absent += absent.empty() ? name : std::string(", ") + name;
      continue;
    }
    const Model m = load_model(file);
    EXPECT_EQ(m.info.scale, 4) << file;
    if (std::string(name) == "realesrgan-x4plus") {
      EXPECT_EQ(m.info.arch, "RRDBNet") << file;
      EXPECT_EQ(m.info.hyper, (std::map<std::string, int>{{"num_block", 23}, {"num_feat", 64}, {"num_grow_ch", 32}}));
    } else {
      EXPECT_EQ(m.info.arch, "SRVGGNetCompact") << file;
      EXPECT_EQ(m.info.hyper, (std::map<std::string, int>{{"num_conv", 32}, {"num_feat", 64}}));
    }
  }
  if (!absent.empty()) GTEST_SKIP() << "built-in model not fetched (run scripts/fetch-models.sh): " << absent;
}

TEST(Detect, UnknownLayoutListsTheKeys) {
  StateDict sd;
  sd["encoder.weight"] = HostTensor{{4, 3, 3, 3}, std::vector<float>(108)};
  try {
    detect_architecture(sd);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    EXPECT_NE(std::string(e.what()).find("encoder.weight[4,3,3,3]"), std::string::npos);
  }
}

TEST(Detect, MissingTensorIsNamed) {
  Model m = load_model(fixture("rrdb-x4-nb2-nf16-gc8.param"));
  m.weights.erase("body.1.rdb2.conv3.bias");
  try {
    detect_architecture(m.weights);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing body.1.rdb2.conv3.bias"), std::string::npos);
  }
}

TEST(Detect, WrongShapeIsNamed) {
  Model m = load_model(fixture("compact-x4-nc4-nf16.param"));
  m.weights["body.3.weight"] = HostTensor{{8}, std::vector<float>(8)};
  EXPECT_THROW(detect_architecture(m.weights), Error);
}
