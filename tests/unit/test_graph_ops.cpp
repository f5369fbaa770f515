// Graph executor, one ncnn layer type at a time: tiny .param graphs against the same
// computation written directly with ATen (or by hand, where ncnn's rule is the point).
#include "unit/test_graph_util.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

at::Tensor rnd(std::vector<std::int64_t> shape) { return at::randn(shape, at::kFloat); }

struct Seed : ::testing::Test {
  void SetUp() override { at::manual_seed(7); }
};

using GraphConv = Seed;
using GraphPool = Seed;
using GraphElementwise = Seed;
using GraphLayout = Seed;
using GraphResize = Seed;

}  // namespace

TEST_F(GraphConv, ConvolutionWithBiasAndLeakyRelu) {
  const at::Tensor w = rnd({4, 3, 3, 3}), b = rnd({4}), x = rnd({1, 3, 9, 7});
  Bin bin;
  bin.tagged(w);
  bin.raw(b);
  const auto y = run(graph_text(2, 2,
                                "Input in 0 1 x\n"
                                "Convolution c 1 1 x y 0=4 1=3 4=1 5=1 6=108 9=2 -23310=1,0.1\n"),
                     bin, x);
  expect_close(y, at::leaky_relu(at::conv2d(x, w, b, 1, 1), 0.1));
}

TEST_F(GraphConv, StrideDilationAsymmetricPadsAndClip) {
  const at::Tensor w = rnd({2, 3, 3, 2}), x = rnd({1, 3, 11, 10});
  Bin bin;
  bin.tagged(w);
  // kernel 2 wide, 3 high; dilation 2; stride (2, 1); pads t=2 l=1 b=1 r=0; clip to [-0.5, 0.5].
  const auto y = run(graph_text(2, 2,
                                "Input in 0 1 x\n"
                                "Convolution c 1 1 x y 0=2 1=2 11=3 2=2 3=1 13=2 4=1 15=0 14=2 16=1 6=36 9=3 -23310=2,-0.5,0.5\n"),
                     bin, x);
  const at::Tensor xp = at::constant_pad_nd(x, {1, 0, 2, 1}, 0.0);
  expect_close(y, at::clamp(at::conv2d(xp, w, at::Tensor(), at::IntArrayRef{2, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{2, 2}), -0.5, 0.5));
}

TEST_F(GraphConv, SamePaddingSentinelIsResolvedPerInputSize) {
  const at::Tensor w = rnd({2, 3, 3, 3}), x = rnd({1, 3, 8, 7});
  Bin bin;
  bin.tagged(w);
  const auto y = run(graph_text(2, 2, "Input in 0 1 x\nConvolution c 1 1 x y 0=2 1=3 3=2 4=-233 6=54\n"), bin, x);
  // SAME_UPPER at stride 2: 8 -> pad 1 (0 before, 1 after), 7 -> pad 2 (1, 1).
  expect_close(y, at::conv2d(at::constant_pad_nd(x, {1, 1, 0, 1}, 0.0), w, at::Tensor(), 2));
}

TEST_F(GraphConv, DepthwiseGroupsAndSigmoid) {
  const at::Tensor w = rnd({4, 1, 3, 3}), b = rnd({4}), x = rnd({1, 4, 6, 6});
  Bin bin;
  bin.tagged(w);
  bin.raw(b);
  const auto y = run(graph_text(2, 2, "Input in 0 1 x 2=4\nConvolutionDepthWise c 1 1 x y 0=4 1=3 4=1 5=1 6=36 7=4 9=4\n"), bin, x);
  expect_close(y, at::sigmoid(at::conv2d(x, w, b, 1, 1, 1, 4)));
}

TEST_F(GraphConv, DeconvolutionWeightsAreOutMajor) {
  const at::Tensor w_ncnn = rnd({3, 5, 4, 4}), b = rnd({3}), x = rnd({1, 5, 5, 6});  // [out][in][kh][kw]
  Bin bin;
  bin.tagged(w_ncnn);
  bin.raw(b);
  const auto y = run(graph_text(2, 2, "Input in 0 1 x 2=5\nDeconvolution d 1 1 x y 0=3 1=4 3=2 4=1 5=1 6=240\n"), bin, x);
  expect_close(y, at::conv_transpose2d(x, w_ncnn.transpose(0, 1), b, 2, 1));
}

TEST_F(GraphConv, DeconvolutionAsSubpixelConvolutionEqualsTheTransposedOne) {
  // Strides 2 and 3, kernels that are and are not multiples of the stride, symmetric and
  // asymmetric cuts, output padding (where the shuffled result is too short and gets zeros):
  // the sub-pixel path against ATen's transposed convolution and against the plain run.
  struct Case {
    int k, s, pl, pr, pt, pb, op;
  };
  for (const Case c : {Case{4, 2, 3, 3, 3, 3, 0}, Case{2, 2, 0, 0, 0, 0, 0}, Case{5, 3, 2, 2, 2, 2, 0}, Case{3, 2, 0, 1, 1, 0, 1},
                       Case{4, 2, 0, 0, 0, 0, 1}, Case{6, 3, 1, 0, 2, 1, 2}}) {
    SCOPED_TRACE(testing::Message() << "k" << c.k << " s" << c.s << " op" << c.op);
    const at::Tensor w_ncnn = rnd({3, 5, c.k, c.k}), b = rnd({3}), x = rnd({1, 5, 6, 7});
    Bin bin;
    bin.tagged(w_ncnn);
    bin.raw(b);
    const std::string body = "Input in 0 1 x 2=5\nDeconvolution d 1 1 x y 0=3 1=" + std::to_string(c.k) + " 3=" + std::to_string(c.s) +
                             " 4=" + std::to_string(c.pl) + " 15=" + std::to_string(c.pr) + " 14=" + std::to_string(c.pt) +
                             " 16=" + std::to_string(c.pb) + " 18=" + std::to_string(c.op) + " 5=1 6=" + std::to_string(15 * c.k * c.k) + "\n";
    const auto g = import(graph_text(2, 2, body), bin);
    const at::Tensor y = run(g, x);
    arch::NetOptions plain;
    plain.plain = true;
    const at::Tensor y_plain = graph::GraphRunner(g, plain).run(x).at(0);
    at::Tensor full = at::conv_transpose2d(x, w_ncnn.transpose(0, 1), at::Tensor(), c.s);
    full = at::constant_pad_nd(full, {0, c.op, 0, c.op}, 0.0) + b.view({1, 3, 1, 1});
    const at::Tensor want = full.narrow(2, c.pt, full.size(2) - c.pt - c.pb).narrow(3, c.pl, full.size(3) - c.pl - c.pr);
    expect_close(y, want);
    expect_close(y_plain, want);
  }
}

TEST_F(GraphConv, DeconvolutionDepthwiseWithOutputPadding) {
  // 2 groups, 2 inputs and 3 outputs per group, stored [g][out_g][in_g][k].
  const at::Tensor w_ncnn = rnd({2, 3, 2, 3, 3}), b = rnd({6}), x = rnd({1, 4, 5, 5});
  Bin bin;
  bin.tagged(w_ncnn);
  bin.raw(b);
  const auto y = run(graph_text(2, 2, "Input in 0 1 x 2=4\nDeconvolutionDepthWise d 1 1 x y 0=6 1=3 3=2 5=1 6=108 7=2 18=1\n"),
                     bin, x);
  const at::Tensor w = w_ncnn.permute({0, 2, 1, 3, 4}).reshape({4, 3, 3, 3});
  // ncnn: the output padding column/row holds the bias only.
  at::Tensor want = at::conv_transpose2d(x, w, at::Tensor(), 2, 0, 0, 2);
  want = at::constant_pad_nd(want, {0, 1, 0, 1}, 0.0) + b.view({1, 6, 1, 1});
  expect_close(y, want);
}

TEST_F(GraphConv, InnerProductOnAVectorAndTheSeBroadcast) {
  // An SE block as Real-CUGAN's .param writes it: mean, two InnerProducts, a 1-D blob
  // multiplied into a c,h,w blob (ncnn broadcasts a length-C vector over channels).
  const at::Tensor w1 = rnd({2, 4}), w2 = rnd({4, 2}), b1 = rnd({2}), b2 = rnd({4}), x = rnd({1, 4, 5, 6});
  Bin bin;
  bin.tagged(w1);
  bin.raw(b1);
  bin.tagged(w2);
  bin.raw(b2);
  const auto y = run(graph_text(6, 7,
                                "Input in 0 1 x 2=4\n"
                                "Split s 1 2 x a b\n"
                                "Pooling p 1 1 b m 0=1 4=1\n"
                                "InnerProduct f1 1 1 m h 0=2 1=1 2=8 9=1\n"
                                "InnerProduct f2 1 1 h g 0=4 1=1 2=8 9=4\n"
                                "BinaryOp mul 2 1 a g y 0=2\n"),
                     bin, x);
  const at::Tensor g = at::sigmoid(at::linear(at::relu(at::linear(x.mean({2, 3}), w1, b1)), w2, b2));
  expect_close(y, x * g.view({1, 4, 1, 1}));
}

TEST_F(GraphPool, MaxAverageGlobalAndFullPadding) {
  const at::Tensor x = rnd({1, 2, 7, 8});
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=2\nPooling p 1 1 x y 0=0 1=2 2=2 5=1\n"), {}, x), at::max_pool2d(x, 2, 2));
  // Average 3x3 with pad 1 that does not count the padding.
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=2\nPooling p 1 1 x y 0=1 1=3 2=1 3=1 5=1\n"), {}, x),
               at::avg_pool2d(x, 3, 1, 1, false, false));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=2\nPooling p 1 1 x y 0=0 4=1\n"), {}, x), at::amax(x, {2, 3}));
  // pad_mode 0 ("full"): the tail is padded so the last window fits, as ceil_mode does.
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=2\nPooling p 1 1 x y 0=0 1=3 2=2 5=0\n"), {}, x),
               at::max_pool2d(x, 3, 2, 0, 1, true));
}

TEST_F(GraphElementwise, BinaryOpsScalarAndReversed) {
  const at::Tensor x = rnd({1, 3, 4, 5}).abs() + 0.5;
  const std::vector<std::pair<int, at::Tensor>> cases = {
      {0, x + 1.5}, {1, x - 1.5}, {2, x * 1.5}, {3, x / 1.5}, {4, at::clamp_min(x, 1.5)}, {5, at::clamp_max(x, 1.5)},
      {6, at::pow(x, 1.5)}, {7, 1.5 - x}, {8, 1.5 / x}, {9, at::pow(at::full_like(x, 1.5), x)},
      {10, at::atan2(x, at::full_like(x, 1.5))}, {11, at::atan2(at::full_like(x, 1.5), x)}};
  for (const auto& [op, want] : cases) {
    SCOPED_TRACE(op);
    expect_close(run(graph_text(2, 2, "Input in 0 1 x\nBinaryOp b 1 1 x y 0=" + std::to_string(op) + " 1=1 2=1.5\n"), {}, x), want);
  }
}

TEST_F(GraphElementwise, BinaryOpBroadcastsAVectorOnChannelsOrWidth) {
  const at::Tensor x = rnd({1, 3, 4, 5});
  // Three channel means against 3 channels: ncnn's channel rule.
  expect_close(run(graph_text(4, 5,
                              "Input in 0 1 x\nSplit s 1 2 x a b\nPooling p 1 1 b m 0=1 4=1\n"
                              "BinaryOp add 2 1 a m y 0=0\n"),
                   {}, x),
               x + x.mean({2, 3}).view({1, 3, 1, 1}));
  // The first 5 values of the flattened blob against 3 channels: 5 != 3, so along w.
  const at::Tensor flat = x.flatten(1).narrow(1, 0, 5);
  expect_close(run(graph_text(5, 6,
                              "Input in 0 1 x\nSplit s 1 2 x a b\nFlatten f 1 1 b v\n"
                              "Crop c 1 1 v w -23309=1,0 -23310=1,5 -23311=1,0\nBinaryOp sub 2 1 a w y 0=1\n"),
                   {}, x),
               x - flat.view({1, 1, 1, 5}));
}

TEST_F(GraphElementwise, UnaryEltwiseScaleAndActivations) {
  const at::Tensor x = rnd({1, 3, 4, 4});
  const std::vector<std::pair<std::string, at::Tensor>> unary = {
      {"0", x.abs()}, {"1", -x}, {"2", x.floor()}, {"4", x * x}, {"7", x.exp()}, {"16", x.tanh()}, {"19", x.trunc()}};
  for (const auto& [op, want] : unary)
    expect_close(run(graph_text(2, 2, "Input in 0 1 x\nUnaryOp u 1 1 x y 0=" + op + "\n"), {}, x), want);
  const std::string two = "Input in 0 1 x\nSplit s 1 2 x a b\n";
  expect_close(run(graph_text(3, 4, two + "Eltwise e 2 1 a b y 0=1 -23301=2,0.5,-2\n"), {}, x), x * 0.5 - x * 2);
  expect_close(run(graph_text(3, 4, two + "Eltwise e 2 1 a b y 0=0\n"), {}, x), x * x);
  expect_close(run(graph_text(3, 4, two + "Eltwise e 2 1 a b y 0=2\n"), {}, x), x);
  const at::Tensor s = rnd({3}), b = rnd({3});
  Bin bin;
  bin.raw(s);
  bin.raw(b);
  expect_close(run(graph_text(2, 2, "Input in 0 1 x\nScale sc 1 1 x y 0=3 1=1\n"), bin, x),
               x * s.view({1, 3, 1, 1}) + b.view({1, 3, 1, 1}));
  const std::vector<std::pair<std::string, at::Tensor>> acts = {
      {"ReLU r 1 1 x y 0=0.25", at::leaky_relu(x, 0.25)},
      {"Sigmoid r 1 1 x y", at::sigmoid(x)},
      {"Clip r 1 1 x y 0=-0.3 1=0.4", at::clamp(x, -0.3, 0.4)},
      {"Swish r 1 1 x y", x * at::sigmoid(x)},
      {"HardSigmoid r 1 1 x y 0=0.25 1=0.4", at::clamp(x * 0.25 + 0.4, 0, 1)},
      {"HardSwish r 1 1 x y", x * at::clamp(x * 0.2 + 0.5, 0, 1)},
      {"Mish r 1 1 x y", x * at::tanh(at::softplus(x))},
      {"Dropout r 1 1 x y 0=0.5", x * 0.5},
      {"Noop r 1 1 x y", x},
  };
  for (const auto& [line, want] : acts) {
    SCOPED_TRACE(line);
    expect_close(run(graph_text(2, 2, "Input in 0 1 x\n" + line + "\n"), {}, x), want);
  }
  const at::Tensor slope = rnd({3});
  Bin pb;
  pb.raw(slope);
  expect_close(run(graph_text(2, 2, "Input in 0 1 x\nPReLU p 1 1 x y 0=3\n"), pb, x),
               at::where(x > 0, x, x * slope.view({1, 3, 1, 1})));
}

TEST_F(GraphLayout, CropInAllThreeForms) {
  const at::Tensor x = rnd({1, 4, 9, 10});
  // starts/ends/axes (Real-CUGAN's skips): h and w cut by 2 at the start, 3 at the end.
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=4\nCrop c 1 1 x y -23309=2,2,2 -23310=2,-3,-3 -23311=2,-2,-1\n"), {}, x),
               x.narrow(2, 2, 4).narrow(3, 2, 5));
  // The same with the newer array syntax, on the channels, to the end.
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=4\nCrop c 1 1 x y 9=1 10=0 11=0\n"), {}, x), x.narrow(1, 1, 3));
  // Offsets and sizes (-233: the rest).
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=4\nCrop c 1 1 x y 0=1 1=2 2=0 3=4 4=-233 5=-233\n"), {}, x),
               x.narrow(2, 2, 7).narrow(3, 1, 4));
  // A reference blob's size (waifu2x's skips): x cut to the pooled blob's h and w at (1, 2).
  expect_close(run(graph_text(4, 5,
                              "Input in 0 1 x 2=4\nSplit s 1 2 x a b\nPooling p 1 1 b r 0=0 1=2 2=2 5=1\n"
                              "Crop c 2 1 a r y 0=2 1=1\n"),
                   {}, x),
               x.narrow(2, 1, 4).narrow(3, 2, 5));
}

TEST_F(GraphLayout, ConcatPixelShufflePaddingReshapePermuteFlattenSoftmax) {
  const at::Tensor x = rnd({1, 8, 3, 4});
  const std::string two = "Input in 0 1 x 2=8\nSplit s 1 2 x a b\n";
  expect_close(run(graph_text(3, 4, two + "Concat c 2 1 a b y 0=0\n"), {}, x), at::cat({x, x}, 1));
  expect_close(run(graph_text(3, 4, two + "Concat c 2 1 a b y 0=-1\n"), {}, x), at::cat({x, x}, 3));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nPixelShuffle p 1 1 x y 0=2\n"), {}, x), at::pixel_shuffle(x, 2));
  // Mode 1 (DCR): output channel c at (dy, dx) reads input channel (dy*2 + dx)*2 + c.
  const at::Tensor d = run(graph_text(2, 2, "Input in 0 1 x 2=8\nPixelShuffle p 1 1 x y 0=2 1=1\n"), {}, x);
  ASSERT_EQ(d.sizes(), (at::IntArrayRef{1, 2, 6, 8}));
  for (int c = 0; c < 2; ++c)
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx)
        EXPECT_EQ(d[0][c][2 + dy][4 + dx].item<float>(), x[0][(dy * 2 + dx) * 2 + c][1][2].item<float>());
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nPadding p 1 1 x y 0=1 1=2 2=3 3=0 4=0 5=0.5 7=1\n"), {}, x),
               at::constant_pad_nd(x, {3, 0, 1, 2, 1, 0}, 0.5));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nPadding p 1 1 x y 0=1 1=2 2=3 3=0 4=1\n"), {}, x),
               at::replication_pad2d(x, {3, 0, 1, 2}));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nPadding p 1 1 x y 0=1 1=2 2=3 3=0 4=2\n"), {}, x),
               at::reflection_pad2d(x, {3, 0, 1, 2}));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nReshape r 1 1 x y 0=6 1=-1 2=2\n"), {}, x), x.reshape({1, 2, 8, 6}));
  // Permute 3 ("c w h": out w = in c, out h = in w, out c = in h).
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nPermute p 1 1 x y 0=3\n"), {}, x), x.permute({0, 2, 3, 1}));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nFlatten f 1 1 x y\n"), {}, x), x.flatten(1));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x 2=8\nSoftmax s 1 1 x y 0=0 1=1\n"), {}, x), at::softmax(x, 1));
}

namespace {

// ncnn's bicubic along one axis, written from interp.cpp's rule: source x = (d + 0.5) /
// scale - 0.5, A = -0.75 weights, taps folded inwards at the borders.
at::Tensor ncnn_cubic_axis(const at::Tensor& x, int axis, int out, double scale) {
  const std::int64_t n = x.size(axis);
  at::Tensor m = at::zeros({out, n});
  const float A = -0.75f;
  for (int d = 0; d < out; ++d) {
    float fx = static_cast<float>((d + 0.5) * (1.0 / scale) - 0.5);
    const int sx = static_cast<int>(std::floor(fx));
    fx -= static_cast<float>(sx);
    const float f0 = fx + 1, f1 = fx, f2 = 1 - fx;
    float c[4];
    c[0] = A * f0 * f0 * f0 - 5 * A * f0 * f0 + 8 * A * f0 - 4 * A;
    c[1] = (A + 2) * f1 * f1 * f1 - (A + 3) * f1 * f1 + 1;
    c[2] = (A + 2) * f2 * f2 * f2 - (A + 3) * f2 * f2 + 1;
    c[3] = 1.f - c[0] - c[1] - c[2];
    for (int k = 0; k < 4; ++k) {
      const std::int64_t src = std::clamp<std::int64_t>(sx - 1 + k, 0, n - 1);
      m[d][src] += c[k];
    }
  }
  return at::tensordot(x, m, {axis}, {1}).movedim(-1, axis);
}

}  // namespace

TEST_F(GraphResize, NearestBilinearAndBicubicAsNcnnComputesThem) {
  const at::Tensor x = rnd({1, 3, 6, 8});
  expect_close(run(graph_text(2, 2, "Input in 0 1 x\nInterp i 1 1 x y 0=1 1=2.0 2=2.0\n"), {}, x),
               at::upsample_nearest2d(x, {12, 16}, c10::nullopt, c10::nullopt));
  expect_close(run(graph_text(2, 2, "Input in 0 1 x\nInterp i 1 1 x y 0=2 3=9 4=11\n"), {}, x),
               at::upsample_bilinear2d(x, {9, 11}, false, c10::nullopt, c10::nullopt));
  // Down by 0.5 (realesr-animevideov3-x2's last layer) and up by 3.
  for (double s : {0.5, 3.0}) {
    SCOPED_TRACE(s);
    const std::string p = std::to_string(s);
    const at::Tensor y = run(graph_text(2, 2, "Input in 0 1 x\nInterp i 1 1 x y 0=3 1=" + p + " 2=" + p + "\n"), {}, x);
    const int oh = static_cast<int>(6 * s), ow = static_cast<int>(8 * s);
    expect_close(y, ncnn_cubic_axis(ncnn_cubic_axis(x, 2, oh, s), 3, ow, s), 2e-5);
  }
}

TEST(GraphWeights, Fp16RawCodebookAndInt8TagsDecode) {
  const std::string param = graph_text(2, 2, "Input in 0 1 x 2=1\nConvolution c 1 1 x y 0=2 1=1 6=2 8=1\n");
  auto weights_of = [&](const Bin& bin) {
    ncnn::Graph g = ncnn::parse_param(param, "t.param");
    ncnn::read_weights(g, bin.bytes, "t.bin");
    return g.layers[1].weights.at(0).values;
  };
  auto scales = [](Bin& b) {  // int8 weight scales (one per output), input scale
    const float s[3] = {4.f, 2.f, 1.f};
    b.bytes.insert(b.bytes.end(), reinterpret_cast<const unsigned char*>(s), reinterpret_cast<const unsigned char*>(s) + 12);
  };
  Bin f16;  // 1.5 and -2 as halves, padded to 4 bytes
  f16.u32(0x01306B47);
  f16.u32(0xC0003E00);
  scales(f16);
  EXPECT_EQ(weights_of(f16), (std::vector<float>{1.5f, -2.f}));
  Bin raw;
  raw.u32(0x0002C056);
  raw.raw(at::tensor({0.25f, 3.f}));
  scales(raw);
  EXPECT_EQ(weights_of(raw), (std::vector<float>{0.25f, 3.f}));
  Bin book;  // a nonzero tag byte: 256 floats then one index byte per value
  book.u32(0x00000001);
  std::vector<float> table(256, 0.f);
  table[7] = 0.75f;
  table[200] = -1.25f;
  book.raw(at::tensor(table));
  book.bytes.insert(book.bytes.end(), {7, 200, 0, 0});
  scales(book);
  EXPECT_EQ(weights_of(book), (std::vector<float>{0.75f, -1.25f}));
  Bin q;  // int8 codes 8 and -6, divided by their output's scale (4 and 2)
  q.u32(0x000D4B38);
  q.bytes.insert(q.bytes.end(), {8, static_cast<unsigned char>(-6), 0, 0});
  scales(q);
  EXPECT_EQ(weights_of(q), (std::vector<float>{2.f, -3.f}));
}

TEST(GraphParams, NewerSyntaxArraysAndStrings) {
  const auto g = ncnn::parse_param(graph_text(2, 2, "Input in 0 1 x\nReshape r 1 1 x y 0=-1 3=0 5=2.0,3.0 6=hello 7=\"two words\"\n"),
                                   "t.param");
  const auto& l = g.layers[1];
  EXPECT_EQ(l.params.at(5), (std::vector<double>{2.0, 3.0}));
  EXPECT_EQ(l.strings.at(6), "hello");
  EXPECT_EQ(l.strings.at(7), "two words");
  EXPECT_EQ(l.param(0, 0), -1);
}
