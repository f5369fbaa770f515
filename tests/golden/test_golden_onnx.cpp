// ONNX models (issue 14): fixtures in tests/data/onnx from tests/fixtures/make_onnx.py
// (torch.onnx.export of seeded networks at opsets 11/13/17, dynamic axes) run through the
// ONNX frontend and the graph executor against PyTorch's fp32 output; malformed files give
// one-line Error(Model) naming the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "golden/fixtures.hpp"
#include "models/readers.hpp"
#include "temp_dir.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;

namespace {

std::string onnx_file(const std::string& name) { return data_file("onnx/" + name); }

struct Case {
  std::string file, golden;
  int scale, multiple;
};

const Case kCases[] = {
    {"compact-x4.op11.onnx", "compact-x4", 4, 1}, {"compact-x4.op13.onnx", "compact-x4", 4, 1},
    {"compact-x4.op17.onnx", "compact-x4", 4, 1}, {"rrdb-x4.op11.onnx", "rrdb-x4", 4, 1},
    {"rrdb-x4.op13.onnx", "rrdb-x4", 4, 1},       {"rrdb-x4.op17.onnx", "rrdb-x4", 4, 1},
    {"attn-x2.op11.onnx", "attn-x2", 2, 2},       {"attn-x2.op13.onnx", "attn-x2", 2, 2},
    {"attn-x2.op17.onnx", "attn-x2", 2, 2},       {"warp-x2.op16.onnx", "warp-x2", 2, 1},
    {"zoo-x2.op13.onnx", "zoo-x2", 2, 1},         {"zoo-x2.op17.onnx", "zoo-x2", 2, 1},
    {"tensor-x1.op11.onnx", "tensor-x1", 1, 1},   {"tensor-x1.op13.onnx", "tensor-x1", 1, 1},
    {"tensor-x1.op17.onnx", "tensor-x1", 1, 1},   {"grid-x1.op16.onnx", "grid-x1", 1, 1},
    // Hand-built graphs (make_onnx.py via onnx_hand.py): one golden per file.
    {"resize-nearest-x2.op11.onnx", "resize-nearest-x2.op11", 2, 1},
    {"resize-nearest-x2.op19.onnx", "resize-nearest-x2.op19", 2, 1},
    {"resize-interp-x2.op13.onnx", "resize-interp-x2.op13", 2, 1},
    {"resize-interp-x2.op19.onnx", "resize-interp-x2.op19", 2, 1},
    {"layout-x2.op13.onnx", "layout-x2.op13", 2, 2},
    {"layout-x2.op20.onnx", "layout-x2.op20", 2, 2},
    {"elementwise-x1.op13.onnx", "elementwise-x1.op13", 1, 1},
    {"elementwise-x1.op18.onnx", "elementwise-x1.op18", 1, 1},
};

double run_diff(const Model& m, const std::string& golden, EngineOptions o = exact_options()) {
  Engine e(m, o);
  const PlanarImage out = e.upscale(rgb18x20_input());
  EXPECT_EQ(out.width, 20 * m.info.scale);
  EXPECT_EQ(out.height, 18 * m.info.scale);
  return max_abs_diff(out.data, read_f32(onnx_file("golden." + golden + ".rgb18x20.f32")));
}

class OnnxGolden : public ::testing::TestWithParam<Case> {};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

// A tiny protobuf writer for hand-made (and broken) ONNX files.
struct Pb {
  std::string b;
  Pb& varint(std::uint64_t v) {
    do {
      const unsigned char c = v & 0x7f;
      v >>= 7;
      b += static_cast<char>(v ? c | 0x80 : c);
    } while (v);
    return *this;
  }
  Pb& i(int field, std::uint64_t v) { return varint(static_cast<std::uint64_t>(field) << 3).varint(v); }
  Pb& s(int field, const std::string& v) { return varint(static_cast<std::uint64_t>(field) << 3 | 2).varint(v.size()), b += v, *this; }
  Pb& m(int field, const Pb& v) { return s(field, v.b); }
};

Pb value_info(const std::string& name, std::vector<std::int64_t> dims) {
  Pb shape;
  for (auto d : dims) shape.m(1, Pb().i(1, static_cast<std::uint64_t>(d)));
  return Pb().s(1, name).m(2, Pb().m(1, Pb().i(1, 1).m(2, shape)));
}

// input -> Conv(1x1, 3->3, weight from `weight`) -> op `op` (with `attrs`) -> output, opset `opset`.
std::vector<unsigned char> model(const Pb& weight, const std::string& op = "Relu", int opset = 13, const std::vector<Pb>& attrs = {}) {
  Pb graph, act = Pb().s(1, "c").s(2, "output").s(3, "act").s(4, op);
  for (const Pb& a : attrs) act.m(5, a);
  graph.m(1, Pb().s(1, "input").s(1, "w").s(2, "c").s(3, "conv").s(4, "Conv"));
  graph.m(1, act);
  graph.s(2, "g").m(5, weight).m(11, value_info("input", {1, 3, 0, 0})).m(12, value_info("output", {1, 3, 0, 0}));
  Pb m;
  m.i(1, 8).m(8, Pb().s(1, "").i(2, static_cast<std::uint64_t>(opset))).m(7, graph);
  return std::vector<unsigned char>(m.b.begin(), m.b.end());
}

Pb identity_weight() {
  std::string raw;
  for (int o = 0; o < 3; ++o)
    for (int c = 0; c < 3; ++c) {
      const float v = o == c ? 1.0f : 0.0f;
      raw.append(reinterpret_cast<const char*>(&v), 4);
    }
  return Pb().i(1, 3).i(1, 3).i(1, 1).i(1, 1).i(2, 1).s(8, "w").s(9, raw);
}

}  // namespace

TEST_P(OnnxGolden, MatchesPyTorchInFp32) {
  const Case& c = GetParam();
  const Model m = load_model(onnx_file(c.file));
  EXPECT_EQ(m.format, "onnx");
  EXPECT_EQ(m.info.arch, "Graph");
  EXPECT_EQ(m.info.scale, c.scale);
  EXPECT_EQ(m.info.input_multiple, c.multiple);
  EXPECT_EQ(m.info.shrink, 0);
  const double d = run_diff(m, c.golden);
  std::printf("%s: max |diff| to the reference %.3g\n", c.file.c_str(), d);
  EXPECT_LE(d, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnnxGolden, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string n = info.param.file;
  for (auto& ch : n)
    if (ch == '-' || ch == '.') ch = '_';
  return n;
});

TEST(OnnxModels, Fp16ExportRunsInFp32WithinTheHalfWeightsError) {
  // Every tensor of the file is fp16 (weights rounded to 11 bits): loaded as fp32, the
  // output differs from the fp32 network by the weights' rounding only (measured: 3.1e-4).
  const Model m = load_model(onnx_file("compact-x4.op13.fp16.onnx"));
  const double d = run_diff(m, "compact-x4");
  std::printf("compact-x4.op13.fp16.onnx: max |diff| to PyTorch fp32 %.3g\n", d);
  EXPECT_GT(d, 0.0);
  EXPECT_LE(d, 1e-3);
}

TEST(OnnxModels, TiledRunOfALocalNetworkMatchesUntiled) {
  const Model m = load_model(onnx_file("rrdb-x4.op13.onnx"));
  EngineOptions o = exact_options();
  Engine whole(m, o);
  o.tile = 8;
  o.tile_pad = 16;
  Engine tiled(m, o);
  const PlanarImage in = golden_input();  // 60x48: several tiles
  EXPECT_LE(max_abs_diff(tiled.upscale(in).data, whole.upscale(in).data), 1e-5);
}

TEST(OnnxModels, AlignCornersResizeIsImageGlobal) {
  // zoo-x2 resizes a feature map with align_corners to a computed size: its sample
  // positions follow the whole image's size, so a tile differs from the whole image. The
  // probe says so (tile auto then runs whole images); a local net stays local.
  const Model zoo = load_model(onnx_file("zoo-x2.op13.onnx"));
  EXPECT_TRUE(zoo.info.global_reduction);
  EXPECT_FALSE(load_model(onnx_file("rrdb-x4.op13.onnx")).info.global_reduction);
  EngineOptions o = exact_options();
  Engine whole(zoo, o);
  o.tile = 16;
  o.tile_pad = 16;
  Engine tiled(zoo, o);
  const PlanarImage in = golden_input();
  EXPECT_GT(max_abs_diff(tiled.upscale(in).data, whole.upscale(in).data), 1e-4);  // the difference is real
}

TEST(OnnxModels, ShapeArithmeticFollowsEachInputSize) {
  // The attention net cuts windows with shapes computed from the input: folded per shape.
  const Model m = load_model(onnx_file("attn-x2.op17.onnx"));
  EngineOptions o = exact_options();
  Engine e(m, o);
  const PlanarImage a = e.upscale(rgb18x20_input());
  const PlanarImage b = e.upscale(golden_input());
  const PlanarImage c = e.upscale(rgb18x20_input());
  EXPECT_EQ(b.width, 120);
  EXPECT_EQ(b.height, 96);
  EXPECT_EQ(max_abs_diff(a.data, c.data), 0.0);
}

TEST(OnnxModels, HandMadeModelRuns) {
  const Model m = onnx_from_bytes(model(identity_weight()), "hand.onnx");
  EXPECT_EQ(m.info.scale, 1);
  Engine e(m, exact_options());
  const PlanarImage in = rgb18x20_input();
  EXPECT_LE(max_abs_diff(e.upscale(in).data, in.data), 1e-7);  // relu(identity) of values in [0,1]
}

TEST(OnnxErrors, MalformedFilesNameTheFileAndTheReason) {
  const auto good = model(identity_weight());
  auto err = [](const std::vector<unsigned char>& bytes) { return error_of([&] { onnx_from_bytes(bytes, "bad.onnx"); }); };
  // Truncated at every length: always a clean Error(Model) naming the file.
  for (std::size_t n = 0; n < good.size(); ++n) {
    const std::string e = err(std::vector<unsigned char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
    EXPECT_EQ(e.rfind("bad.onnx: ", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos);
  }
  EXPECT_NE(err({}).find("empty file"), std::string::npos);
  // A length past the end.
  Pb past;
  past.varint(7 << 3 | 2).varint(1000000).b += "xx";
  EXPECT_NE(err(std::vector<unsigned char>(past.b.begin(), past.b.end())).find("runs past the end"), std::string::npos);
  // Absurd dims: refused before anything is allocated.
  const Pb huge = Pb().i(1, 1ull << 40).i(1, 1ull << 40).i(2, 1).s(8, "w").s(9, "abcd");
  EXPECT_NE(err(model(huge)).find("too large"), std::string::npos);
  const Pb big = Pb().i(1, 1 << 16).i(1, 1 << 16).i(2, 1).s(8, "w").s(9, "abcd");  // 2^32 values
  EXPECT_NE(err(model(big)).find("negative or too large"), std::string::npos);
  // Data that does not match the dims.
  const Pb short_data = Pb().i(1, 3).i(1, 3).i(1, 1).i(1, 1).i(2, 1).s(8, "w").s(9, "abcd");
  EXPECT_NE(err(model(short_data)).find("4 data bytes for 9 float32 values"), std::string::npos);
  // Unsupported ops name the op and the node; control flow says so.
  EXPECT_NE(err(model(identity_weight(), "NonMaxSuppression")).find("op 'NonMaxSuppression' (node 'act') is not supported"),
            std::string::npos);
  EXPECT_NE(err(model(identity_weight(), "If")).find("(control flow)"), std::string::npos);
  EXPECT_NE(err(model(identity_weight(), "Relu", 9)).find("opset 9 is not supported"), std::string::npos);
  EXPECT_NE(err(model(identity_weight(), "Relu", 21)).find("opset 21 is not supported (opsets 11 to 20 are)"), std::string::npos);
  // The refused forms of mapped ops (docs/onnx.md) say which attribute.
  auto int_attr = [](const char* name, int v) { return Pb().s(1, name).i(3, static_cast<std::uint64_t>(v)).i(20, 2); };
  auto str_attr = [](const char* name, const char* v) { return Pb().s(1, name).s(4, v).i(20, 3); };
  EXPECT_NE(err(model(identity_weight(), "Resize", 18, {int_attr("antialias", 1)})).find("Resize 'act': antialias is not supported"),
            std::string::npos);
  EXPECT_NE(err(model(identity_weight(), "Resize", 18, {str_attr("keep_aspect_ratio_policy", "not_larger")})).find("keep_aspect_ratio_policy"),
            std::string::npos);
  EXPECT_NE(err(model(identity_weight(), "Resize", 13, {str_attr("coordinate_transformation_mode", "sideways")}))
                .find("coordinate mode 'sideways' is not supported"),
            std::string::npos);
  EXPECT_NE(err(model(identity_weight(), "Pad", 19, {str_attr("mode", "wrap")})).find("Pad 'act': unknown mode 'wrap'"), std::string::npos);
  // What fuzz_onnx found: a constant with no values where an op reads one (now a clean error).
  EXPECT_NE(err(read_bytes(data_file("../fuzz/corpus/onnx/regress-short-constant.onnx"))).find("too few values"), std::string::npos);
  // And a computed Resize size of -3.7e19 (a float-to-int cast past the range): refused.
  EXPECT_NE(err(read_bytes(data_file("../fuzz/corpus/onnx/regress-resize-size.onnx"))).find("computes a size of"), std::string::npos);
  // Deep nesting is not recursion: a node attribute holding a subgraph is skipped unread.
  std::string deep = "x";
  for (int k = 0; k < 2000; ++k) deep = Pb().s(6, deep).b;  // graph in graph in graph ...
  Pb g = Pb().m(1, Pb().s(4, "Loop").s(2, "y").m(5, Pb().s(1, "body").s(6, deep)));
  Pb mm;
  mm.i(1, 8).m(8, Pb().i(2, 13)).m(7, g.m(11, value_info("input", {1, 3, 0, 0})));
  EXPECT_NE(err(std::vector<unsigned char>(mm.b.begin(), mm.b.end())).find("'Loop'"), std::string::npos);
}

class OnnxExternal : public TempDirTest {};

TEST_F(OnnxExternal, DataStaysInTheModelFolder) {
  std::string raw;
  for (int k = 0; k < 9; ++k) {
    const float v = k % 4 == 0 ? 1.0f : 0.0f;
    raw.append(reinterpret_cast<const char*>(&v), 4);
  }
  std::ofstream(dir_ / "w.bin", std::ios::binary) << "0123" << raw;
  auto ext = [](const std::string& location, int offset) {
    return Pb().i(1, 3).i(1, 3).i(1, 1).i(1, 1).i(2, 1).s(8, "w")
        .m(13, Pb().s(1, "location").s(2, location)).m(13, Pb().s(1, "offset").s(2, std::to_string(offset))).i(14, 1);
  };
  auto write = [&](const Pb& w) {
    const auto bytes = model(w);
    const std::string p = (dir_ / "m.onnx").string();
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  };
  const Model m = load_model(write(ext("w.bin", 4)));
  EXPECT_EQ(m.info.scale, 1);
  Engine e(m, exact_options());
  EXPECT_LE(max_abs_diff(e.upscale(rgb18x20_input()).data, rgb18x20_input().data), 1e-7);
  EXPECT_NE(error_of([&] { load_model(write(ext("../w.bin", 4))); }).find("leaves the model's folder"), std::string::npos);
  EXPECT_NE(error_of([&] { load_model(write(ext("/etc/passwd", 0))); }).find("absolute path"), std::string::npos);
  EXPECT_NE(error_of([&] { load_model(write(ext("w.bin", 8))); }).find("run past its end"), std::string::npos);
  EXPECT_NE(error_of([&] { load_model(write(ext("missing.bin", 0))); }).find("not a regular file"), std::string::npos);
  EXPECT_NE(error_of([&] { onnx_from_bytes(model(ext("w.bin", 4)), "mem.onnx"); }).find("external file"), std::string::npos);
}

// The check on real models: Real-ESRGAN x4fast and x4plus rebuilt in PyTorch from
// their ncnn files' weights and exported to ONNX (make_onnx.py --from-ncnn, at test time:
// x4plus is 67 MB), then yamiro's ONNX run against yamiro's ncnn run of the same weights.
// Skips where the ncnn models are not fetched (scripts/fetch-models.sh).
class OnnxFromNcnn : public TempDirTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(OnnxFromNcnn, SamePixelsAsTheNcnnFile) {
  const char* home = std::getenv("HOME");
  const std::string base = std::string(home ? home : "") + "/.cache/yamiro/models/" + GetParam();
  if (!std::filesystem::exists(base + ".param") || !std::filesystem::exists(base + ".bin"))
    GTEST_SKIP() << base << ".param/.bin not fetched (scripts/fetch-models.sh)";
  const std::string onnx = (dir_ / "model.onnx").string();
  const std::string cmd = "/usr/bin/python3 " + data_file("../fixtures/make_onnx.py") + " --from-ncnn " + base + ".param " +
                          base + ".bin " + onnx + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Model from_onnx = load_model(onnx);
  const Model from_ncnn = load_model(base + ".param");
  EXPECT_EQ(from_onnx.info.scale, 4);
  Engine a(from_onnx, exact_options()), b(from_ncnn, exact_options());
  const PlanarImage in = rgb18x20_input();
  const auto x = a.upscale(in).data, y = b.upscale(in).data;
  std::size_t same = 0;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
    same += std::lround(std::clamp(x[i], 0.0f, 1.0f) * 255) == std::lround(std::clamp(y[i], 0.0f, 1.0f) * 255);
  const double d = max_abs_diff(x, y);
  std::printf("%s: ONNX vs ncnn max |diff| %.3g, %zu of %zu 8-bit values equal\n", GetParam(), d, same, x.size());
  EXPECT_LE(d, 1e-4);
  EXPECT_GE(static_cast<double>(same), 0.999 * static_cast<double>(x.size()));
}

INSTANTIATE_TEST_SUITE_P(RealEsrgan, OnnxFromNcnn, ::testing::Values("realesrgan-x4fast", "realesrgan-x4plus"),
                         [](const auto& info) { return std::string(info.param + 11); });
