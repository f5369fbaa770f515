// End-to-end: `yamiro bench` and `yamiro info` write the documented JSON and report.
#include <map>
#include <nlohmann/json.hpp>

#include "e2e/harness.hpp"

using namespace e2e;
using json = nlohmann::json;

namespace {

json load(const std::string& p) {
  std::ifstream f(p);
  return json::parse(f);
}

}  // namespace

TEST_F(Cli, BenchJsonFollowsTheSchema) {
  const auto r = yamiro("-q bench --latency --throughput --memory --thermal --baseline --sizes 24,40 --repeats 2 --duration 1"
                        " --precisions fp32,auto --batch 1,2 --json " + path("b.json") + " --report " + path("b.html") + kTiny);
  ASSERT_EQ(r.code, 0) << r.err;
  const json d = load(path("b.json"));
  for (const char* k : {"schema", "model", "arch", "device", "precision", "threads", "flops_per_input_pixel", "conv_peak_gflops",
                        "system", "latency", "throughput", "memory", "thermal"})
    EXPECT_TRUE(d.contains(k)) << k;
  EXPECT_DOUBLE_EQ(d["flops_per_input_pixel"].get<double>(), 2.0 * 9 * 1840);
  ASSERT_EQ(d["latency"].size(), 4u);  // 2 precisions x 2 batch sizes
  for (const auto& run : d["latency"]) {
    EXPECT_GT(run["conv_peak_gflops"].get<double>(), 0);
    ASSERT_EQ(run["rows"].size(), 2u);
    for (const auto& row : run["rows"]) {
      for (const char* k : {"size", "tile", "seconds", "out_mpix_per_s", "gflops", "peak_fraction", "peak_rss_bytes",
                            "peak_device_bytes", "baseline_seconds", "speedup"})
        EXPECT_TRUE(row.contains(k)) << k;
      EXPECT_GT(row["seconds"]["median"].get<double>(), 0);
      EXPECT_LE(row["seconds"]["median"].get<double>(), row["seconds"]["p90"].get<double>());
      EXPECT_GT(row["peak_rss_bytes"].get<double>(), 1e6);
      EXPECT_TRUE(row["peak_device_bytes"].is_null());  // CPU: not a separate device memory
    }
  }
  EXPECT_EQ(d["throughput"].size(), 2u);
  EXPECT_GE(d["throughput"][0]["images"].get<int>(), 2);
  EXPECT_EQ(d["memory"].size(), 2u);
  EXPECT_FALSE(d["thermal"]["samples"].empty());
  EXPECT_TRUE(d["system"].contains("cpu"));
  std::ifstream html(path("b.html"));
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg"), std::string::npos);
}

TEST_F(Cli, InfoJson) {
  ASSERT_EQ(yamiro("info --json").code, 0);
  const json d = load(path("stdout.txt"));
  for (const char* k : {"os", "cpu", "memory_available_bytes", "libraries", "devices", "model_dirs", "models"})
    EXPECT_TRUE(d.contains(k)) << k;
  EXPECT_GE(d["cpu"]["cpus_available"].get<int>(), 1);
  EXPECT_EQ(d["devices"]["auto"].get<std::string>().empty(), false);
}

TEST_F(Cli, BenchRejectsBadOptions) {
  EXPECT_EQ(yamiro("bench" + kTiny).code, 2);
  EXPECT_EQ(yamiro("bench --latency --sizes 8" + kTiny).code, 2);
  EXPECT_EQ(yamiro("bench --latency --batch 0" + kTiny).code, 2);
  EXPECT_EQ(yamiro("bench --latency --precisions fp64" + kTiny).code, 2);
}

TEST_F(Cli, ModelsListFindsEveryFormatAndVerifyCatchesCorruption) {
  fs::create_directories(path("models"));
  for (const char* f : {"compact-x4-nc4-nf16.pth", "rrdb-x2-nb1-nf16-gc8.safetensors"})
    fs::copy_file(kFixtures + "/" + f, path(std::string("models/") + f));
  // A "built-in" model whose files are not the manifest's: verify must fail.
  fs::copy_file(kFixtures + "/compact-x4-nc4-nf16.param", path("models/realesrgan-x4fast.param"));
  fs::copy_file(kFixtures + "/compact-x4-nc4-nf16.bin", path("models/realesrgan-x4fast.bin"));
  setenv("YAMIRO_MODELS", path("models").c_str(), 1);
  const auto list = yamiro("models list --json");
  const auto verify = yamiro("models verify");
  const auto by_name = yamiro("-q upscale " + kFixtures + "/rgb48x60.png -o " + path("o.png") + " -m rrdb-x2-nb1-nf16-gc8");
  unsetenv("YAMIRO_MODELS");
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(verify.code, 1);
  EXPECT_NE(verify.err.find("realesrgan-x4fast.param: SHA-256 does not match"), std::string::npos) << verify.err;
  ASSERT_EQ(by_name.code, 0) << by_name.err;  // -m NAME finds a .safetensors file
  EXPECT_EQ(cv::imread(path("o.png")).cols, 120);
}

TEST_F(Cli, ModelsListJsonDescribesModels) {
  fs::create_directories(path("models"));
  fs::copy_file(kFixtures + "/compact-x4-nc4-nf16.pth", path("models/tiny.pth"));
  setenv("YAMIRO_MODELS", path("models").c_str(), 1);
  const auto r = yamiro("models list --json");
  unsetenv("YAMIRO_MODELS");
  ASSERT_EQ(r.code, 0) << r.err;
  const json rows = load(path("stdout.txt"));
  bool found = false;
  for (const auto& row : rows)
    if (row["name"] == "tiny") {
      found = true;
      EXPECT_EQ(row["known"], false);
      EXPECT_NE(row["detected"].get<std::string>().find("SRVGGNetCompact x4 (num_conv=4, num_feat=16)"), std::string::npos) << row;
    }
  EXPECT_TRUE(found);
}

TEST_F(Cli, ThreeConcurrentShardsCoverEveryInputOnce) {
  fs::create_directories(path("in/sub"));
  const cv::Mat img = cv::imread(kFixtures + "/rgb48x60.png");
  for (int i = 0; i < 12; ++i) cv::imwrite(path((i % 3 ? "in/" : "in/sub/") + std::string("f") + std::to_string(i) + ".png"), img);
  // Three shards at once, as three machines of a Slurm array would run them.
  std::vector<pid_t> pids;
  for (int s = 0; s < 3; ++s) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string out = path("shard" + std::to_string(s) + ".jsonl");
      const std::string cmd = kBin + " -q upscale -r " + path("in") + " -o " + path("out") + " --shard " + std::to_string(s) +
                              "/3 --json --threads 1" + kTiny + " > " + out;
      _exit(std::system(cmd.c_str()) == 0 ? 0 : 1);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::map<std::string, int> seen;
  for (int s = 0; s < 3; ++s) {
    std::ifstream f(path("shard" + std::to_string(s) + ".jsonl"));
    for (std::string line; std::getline(f, line);) {
      const json j = json::parse(line);
      if (j.contains("input")) seen[j["input"].get<std::string>()] += 1;
    }
  }
  EXPECT_EQ(seen.size(), 12u);
  for (const auto& [input, n] : seen) EXPECT_EQ(n, 1) << input;
  int outputs = 0;
  for (const auto& e : fs::recursive_directory_iterator(path("out"))) outputs += e.is_regular_file();
  EXPECT_EQ(outputs, 12);
}
