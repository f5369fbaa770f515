// Malformed ncnn graphs: each is a one-line Error(Model) naming the file (the CLI maps it
// to exit 3), raised before anything the size of a bogus parameter is allocated.
#include "models/readers.hpp"
#include "unit/test_graph_util.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

std::string load_error(const std::string& body, int layers, int blobs, const Bin& bin = {}) {
  return model_error([&] { ncnn_from_bytes(graph_text(layers, blobs, body), bin.bytes, "bad.param", "bad.bin"); });
}

Bin conv_weights(int count) {
  Bin b;
  b.tagged(at::ones({count}));
  return b;
}

}  // namespace

TEST(GraphErrors, UnknownLayerTypeIsNamedWithItsLine) {
  const auto e = load_error("Input in 0 1 x\nLSTM l 1 1 x y 0=4\n", 2, 2);
  EXPECT_NE(e.find("bad.param"), std::string::npos) << e;
  EXPECT_NE(e.find("line 4"), std::string::npos) << e;
  EXPECT_NE(e.find("'LSTM'"), std::string::npos) << e;
}

TEST(GraphErrors, BlobUsedBeforeItIsMadeAndCycles) {
  auto e = load_error("Input in 0 1 x\nReLU r 1 1 z y\n", 2, 2);
  EXPECT_NE(e.find("'z' before"), std::string::npos) << e;
  // A layer reading its own output is a cycle: its input is not made before it.
  e = load_error("Input in 0 1 x\nReLU r 1 1 y y\n", 2, 2);
  EXPECT_NE(e.find("'y' before"), std::string::npos) << e;
  // Two layers reading each other.
  e = load_error("Input in 0 1 x\nBinaryOp a 2 1 x c b 0=0\nBinaryOp b 2 1 x b c 0=0\n", 3, 3);
  EXPECT_NE(e.find("before"), std::string::npos) << e;
}

TEST(GraphErrors, TwoOutputsWithOneName) {
  const auto e = load_error("Input in 0 1 x\nReLU a 1 1 x y\nSigmoid b 1 1 x y\n", 3, 2);
  EXPECT_NE(e.find("'y' is produced twice"), std::string::npos) << e;
}

TEST(GraphErrors, WeightCountThatDoesNotMatchTheBin) {
  const std::string conv = "Input in 0 1 x\nConvolution c 1 1 x y 0=3 1=3 4=1 6=81\n";
  auto e = load_error(conv, 2, 2, conv_weights(80));
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.bin"), std::string::npos) << e;
  e = load_error(conv, 2, 2, conv_weights(82));
  EXPECT_NE(e.find("left over"), std::string::npos) << e;
  // 81 values that are not 3 outputs of 3x3 kernels times a whole input count.
  e = load_error("Input in 0 1 x\nConvolution c 1 1 x y 0=3 1=3 4=1 6=80\n", 2, 2, conv_weights(80));
  EXPECT_NE(e.find("does not match"), std::string::npos) << e;
}

TEST(GraphErrors, ShapesThatCannotBeInferred) {
  // Weights for 4 input channels on a 3-channel image.
  auto e = load_error("Input in 0 1 x\nConvolution c 1 1 x y 0=3 1=3 4=1 6=108\n", 2, 2, conv_weights(108));
  EXPECT_NE(e.find("input channels"), std::string::npos) << e;
  // Adding blobs of different sizes.
  e = load_error("Input in 0 1 x\nSplit s 1 2 x a b\nPooling p 1 1 b c 0=0 1=2 2=2\nBinaryOp add 2 1 a c y 0=0\n", 4, 5);
  EXPECT_NE(e.find("cannot broadcast"), std::string::npos) << e;
  // A graph whose output is not an image.
  e = load_error("Input in 0 1 x\nPooling p 1 1 x y 0=1 4=1\n", 2, 2);
  EXPECT_NE(e.find("not an image"), std::string::npos) << e;
}

TEST(GraphErrors, AbsurdKernelsAndChannelCountsAllocateNothing) {
  // Each asks for terabytes through its parameters; the .bin is empty.
  for (const std::string layer : {"Convolution c 1 1 x y 0=3 1=100000 6=30000000000", "Convolution c 1 1 x y 0=2000000000 1=3 6=9",
                                   "InnerProduct f 1 1 x y 0=16777216 2=281474976710656",
                                   "Interp i 1 1 x y 0=1 3=100000000 4=100000000", "Pooling p 1 1 x y 0=0 1=1000000",
                                   "Padding p 1 1 x y 0=1000000000", "PixelShuffle p 1 1 x y 0=1000"}) {
    SCOPED_TRACE(layer);
    const auto e = load_error("Input in 0 1 x\n" + layer + "\n", 2, 2);
    EXPECT_NE(e.find("bad."), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(GraphErrors, UnsupportedParameterValuesSayWhich) {
  auto e = load_error("Input in 0 1 x\nPooling p 1 1 x y 0=0 1=2 7=1\n", 2, 2);
  EXPECT_NE(e.find("adaptive"), std::string::npos) << e;
  e = load_error("Input in 0 1 x\nBinaryOp b 1 1 x y 0=19 1=1 2=1\n", 2, 2);
  EXPECT_NE(e.find("parameter 0 = 19 is not a whole number in [0, 18]"), std::string::npos) << e;
  e = load_error("Input in 0 1 x\nPermute p 1 1 x y 0=6\n", 2, 2);
  EXPECT_NE(e.find("order type 6 does not exist for a rank-3 blob"), std::string::npos) << e;
  e = load_error("Input in 0 1 x 0=4 1=6 2=2\nReshape r 1 1 x a 0=4 1=3 11=2 2=2\nCrop c 1 1 a y 0=1\n", 3, 3);
  EXPECT_NE(e.find("starts/ends/axes"), std::string::npos) << e;
  e = load_error("Input in 0 1 x\nCrop c 1 1 x y 19=\"d0\" 20=\"d1\"\n", 2, 2);
  EXPECT_NE(e.find("expression"), std::string::npos) << e;
}
