// Precision `auto` by measurement: the choice from given figures, the cache file (key
// mismatch, corrupt and foreign files, atomic writes) and the engine following the cache.
// Nothing here asserts a speed: the figures are planted, or only their presence is checked.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "temp_dir.hpp"
#include "yamiro/autotune.hpp"
#include "yamiro/engine.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
namespace fs = std::filesystem;

namespace {

ConvCandidate cand(Precision p, bool wino, double ms, double err = 0, std::string error = "") {
  ConvCandidate c;
  c.precision = p;
  c.winograd = wino;
  c.seconds = ms / 1e3;
  c.rel_error = err;
  c.error = std::move(error);
  return c;
}

ProbeKey key(int threads) {
  ProbeKey k;
  k.schema = kProbeSchema;
  k.device = "cpu";
  k.cpu_model = "Test CPU @ 2.60GHz";
  k.cpus = 2;
  k.threads = threads;
  k.torch_version = "1.13.0";
  return k;
}

ProbeResult result(const ProbeKey& k, std::vector<ConvCandidate> c) {
  ProbeResult r;
  r.key = k;
  r.shape = "1x64x128x128, 64->64 3x3, channels-last";
  r.candidates = std::move(c);
  r.probe_seconds = 0.3;
  r.measured_at = "2026-12-02T03:30:00Z";
  return r;
}

}  // namespace

TEST(AutoChoice, FastestCandidateWins) {
  // A CPU where bf16 runs emulated: fp32 through Winograd is fastest.
  const std::vector<ConvCandidate> no_bf16 = {cand(Precision::FP32, false, 4.0, 1e-7), cand(Precision::FP32, true, 2.1, 1e-6),
                                              cand(Precision::BF16, false, 9.0, 3e-3)};
  AutoChoice c = choose_auto(no_bf16, DeviceKind::CPU, true);
  EXPECT_EQ(c.precision, Precision::FP32);
  EXPECT_TRUE(c.winograd);
  EXPECT_NE(c.reason.find("fp32-winograd"), std::string::npos) << c.reason;
  // YAMIRO_WINOGRAD=0 / EngineOptions::winograd = false: the direct path, still fp32.
  c = choose_auto(no_bf16, DeviceKind::CPU, false);
  EXPECT_EQ(c.precision, Precision::FP32);
  EXPECT_FALSE(c.winograd);
  // A CPU with fast bf16 (AMX): bf16.
  const std::vector<ConvCandidate> amx = {cand(Precision::FP32, false, 4.0, 1e-7), cand(Precision::FP32, true, 2.1, 1e-6),
                                          cand(Precision::BF16, false, 0.9, 3e-3)};
  c = choose_auto(amx, DeviceKind::CPU, true);
  EXPECT_EQ(c.precision, Precision::BF16);
  EXPECT_FALSE(c.winograd);
}

TEST(AutoChoice, Fp32WinsNearTies) {
  const double t = 2.0 * (1 + kPreferFp32Within / 2);
  AutoChoice c = choose_auto({cand(Precision::FP32, true, t, 1e-6), cand(Precision::BF16, false, 2.0, 3e-3)}, DeviceKind::CPU, true);
  EXPECT_EQ(c.precision, Precision::FP32);
  EXPECT_TRUE(c.winograd);
  const double slower = 2.0 * (1 + 2 * kPreferFp32Within);
  c = choose_auto({cand(Precision::FP32, true, slower, 1e-6), cand(Precision::BF16, false, 2.0, 3e-3)}, DeviceKind::CPU, true);
  EXPECT_EQ(c.precision, Precision::BF16);
}

TEST(AutoChoice, OutsideTheAccuracyBarOrFailedIsNeverChosen) {
  // A broken fast kernel (NaNs read as a huge error) and one that threw.
  AutoChoice c = choose_auto({cand(Precision::FP32, false, 4.0, 1e-7), cand(Precision::BF16, false, 1.0, 0.5),
                              cand(Precision::FP32, true, 0.5, 0, "winograd path unavailable")},
                             DeviceKind::CPU, true);
  EXPECT_EQ(c.precision, Precision::FP32);
  EXPECT_FALSE(c.winograd);
  EXPECT_LT(accuracy_bar(Precision::FP32), accuracy_bar(Precision::BF16));
  EXPECT_LT(accuracy_bar(Precision::FP16), 0.5);
}

TEST(AutoChoice, Fp16OnlyOnAccelerators) {
  const std::vector<ConvCandidate> m = {cand(Precision::FP32, false, 1.0, 1e-7), cand(Precision::FP16, false, 0.3, 4e-4),
                                        cand(Precision::BF16, false, 0.35, 3e-3)};
  EXPECT_EQ(choose_auto(m, DeviceKind::CUDA, true).precision, Precision::FP16);
  EXPECT_EQ(choose_auto(m, DeviceKind::CPU, true).precision, Precision::BF16);  // the engine refuses fp16 on a CPU
  // Architectures whose reference overflows in fp16 (ArchInfo::fp16_unsafe): the next best.
  const AutoChoice unsafe = choose_auto(m, DeviceKind::CUDA, true, /*allow_fp16=*/false);
  EXPECT_EQ(unsafe.precision, Precision::BF16);
  EXPECT_NE(unsafe.reason.find("fp16 skipped"), std::string::npos) << unsafe.reason;
  EXPECT_EQ(choose_auto({}, DeviceKind::CUDA, true, false).precision, Precision::FP32);
}

TEST(AutoChoice, NothingMeasuredFallsBackToTheAccurateChoice) {
  AutoChoice c = choose_auto({}, DeviceKind::CPU, true);
  EXPECT_EQ(c.precision, Precision::FP32);
  EXPECT_FALSE(c.winograd);
  EXPECT_EQ(choose_auto({}, DeviceKind::CUDA, true).precision, Precision::FP16);
  EXPECT_EQ(choose_auto({cand(Precision::BF16, false, 0, 0, "no kernel")}, DeviceKind::CPU, true).precision, Precision::FP32);
}

TEST(ProbeCache, RoundTripsAndMatchesOnlyItsKey) {
  const ProbeResult r = result(key(2), {cand(Precision::FP32, false, 4.0, 1e-7), cand(Precision::FP32, true, 2.0, 2e-6),
                                        cand(Precision::BF16, false, 8.0, 3e-3, "")});
  const std::string text = merge_probe_cache("", r);
  const auto back = find_cached_probe(text, key(2));
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->candidates.size(), 3u);
  EXPECT_EQ(candidate_name(back->candidates[1]), "fp32-winograd");
  EXPECT_DOUBLE_EQ(back->candidates[1].seconds, 2.0e-3);
  EXPECT_DOUBLE_EQ(back->candidates[2].rel_error, 3e-3);
  EXPECT_EQ(back->shape, r.shape);
  // Any field of the key that differs means measuring again.
  EXPECT_FALSE(find_cached_probe(text, key(1)).has_value());
  ProbeKey other = key(2);
  other.torch_version = "2.5.0";
  EXPECT_FALSE(find_cached_probe(text, other).has_value());
  other = key(2);
  other.cpu_model = "AMD EPYC 9654";
  EXPECT_FALSE(find_cached_probe(text, other).has_value());
  other = key(2);
  other.cpus = 16;
  EXPECT_FALSE(find_cached_probe(text, other).has_value());
  other = key(2);
  other.schema = kProbeSchema + 1;
  EXPECT_FALSE(find_cached_probe(text, other).has_value());
}

TEST(ProbeCache, CorruptOrForeignFilesAreIgnored) {
  const std::string good = merge_probe_cache("", result(key(2), {cand(Precision::FP32, false, 4.0)}));
  ASSERT_TRUE(find_cached_probe(good, key(2)).has_value());
  for (const std::string& bad : {std::string(), std::string("{not json"), good.substr(0, good.size() / 2),
                                 std::string("{\"what\": \"something else\", \"schema\": 1, \"entries\": []}"),
                                 std::string("[1, 2, 3]"), std::string("\x89PNG\r\n\x1a\n", 8)}) {
    EXPECT_FALSE(find_cached_probe(bad, key(2)).has_value()) << bad;
    // Merging drops the damaged text and keeps a valid file with the new entry.
    const std::string rewritten = merge_probe_cache(bad, result(key(3), {cand(Precision::BF16, false, 1.0)}));
    EXPECT_TRUE(find_cached_probe(rewritten, key(3)).has_value());
  }
  // An entry with a wrong type or an impossible figure makes the whole file unreadable.
  auto doc = nlohmann::json::parse(good);
  doc["entries"][0]["candidates"][0]["precision"] = "fp64";
  EXPECT_FALSE(find_cached_probe(doc.dump(), key(2)).has_value());
  doc = nlohmann::json::parse(good);
  doc["entries"][0]["candidates"][0]["seconds"] = -1.0;
  EXPECT_FALSE(find_cached_probe(doc.dump(), key(2)).has_value());
  doc = nlohmann::json::parse(good);
  doc["entries"][0]["key"]["threads"] = "2";
  EXPECT_FALSE(find_cached_probe(doc.dump(), key(2)).has_value());
}

TEST(ProbeCache, FiguresFromABusyMachineAreMeasuredAgainWhenQuieter) {
  ProbeResult r = result(key(2), {cand(Precision::FP32, false, 4.0)});
  r.load_per_cpu = 4.0;  // a load average of 8 on 2 CPUs
  EXPECT_TRUE(measured_under_load(r, 0.5));
  EXPECT_TRUE(measured_under_load(r, 2.0));
  EXPECT_FALSE(measured_under_load(r, 3.0));  // not quieter enough: keep them
  EXPECT_FALSE(measured_under_load(r, -1));   // load unknown
  r.load_per_cpu = 0.8;                       // measured on a quiet machine: kept
  EXPECT_FALSE(measured_under_load(r, 0.0));
  r.load_per_cpu = -1;
  EXPECT_FALSE(measured_under_load(r, 0.0));
  // The load travels through the cache file.
  r.load_per_cpu = 2.5;
  EXPECT_DOUBLE_EQ(find_cached_probe(merge_probe_cache("", r), key(2))->load_per_cpu, 2.5);
}

TEST(ProbeCache, KeepsOtherKeysUpToALimit) {
  std::string text;
  for (int t = 1; t <= kMaxProbeEntries + 3; ++t) text = merge_probe_cache(text, result(key(t), {cand(Precision::FP32, false, t)}));
  EXPECT_FALSE(find_cached_probe(text, key(1)).has_value());  // the oldest went
  EXPECT_TRUE(find_cached_probe(text, key(kMaxProbeEntries + 3)).has_value());
  EXPECT_TRUE(find_cached_probe(text, key(4)).has_value());
  EXPECT_EQ(nlohmann::json::parse(text)["entries"].size(), static_cast<std::size_t>(kMaxProbeEntries));
  // Measuring a key again replaces its entry instead of adding one.
  text = merge_probe_cache(text, result(key(4), {cand(Precision::BF16, false, 1.0)}));
  EXPECT_EQ(nlohmann::json::parse(text)["entries"].size(), static_cast<std::size_t>(kMaxProbeEntries));
  EXPECT_EQ(find_cached_probe(text, key(4))->candidates[0].precision, Precision::BF16);
}

class ProbeFiles : public yamiro::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    for (const char* v : {"XDG_CACHE_HOME", "YAMIRO_PROBE"}) {
      const char* old = std::getenv(v);
      saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
    }
    ::setenv("XDG_CACHE_HOME", dir_.c_str(), 1);
    ::unsetenv("YAMIRO_PROBE");
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) value ? (void)::setenv(name.c_str(), value->c_str(), 1) : (void)::unsetenv(name.c_str());
    TempDirTest::TearDown();
  }
  std::size_t files_in(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
    return n;
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(ProbeFiles, WritesAtomicallyOrReportsFailure) {
  const fs::path file = dir_ / "sub" / "auto-precision.json";
  ASSERT_TRUE(write_probe_cache(file.string(), "first\n"));
  ASSERT_TRUE(write_probe_cache(file.string(), "second\n"));
  EXPECT_EQ(read_probe_cache(file.string()), "second\n");
  EXPECT_EQ(files_in(dir_ / "sub"), 1u);  // no temporary file left behind
  // A folder that cannot be created (its parent is a file; works even as root).
  std::ofstream(dir_ / "plain").put('x');
  EXPECT_FALSE(write_probe_cache((dir_ / "plain" / "auto-precision.json").string(), "x"));
  EXPECT_EQ(read_probe_cache((dir_ / "absent.json").string()), "");
  EXPECT_EQ(probe_cache_path(), (dir_ / "yamiro" / "auto-precision.json").string());
}

// The per-process memo is keyed by device and thread count, so each test below uses its
// own thread count to reach the cache file. Measurements here are real but short; only
// where the figures came from is checked.
TEST_F(ProbeFiles, CorruptCacheIsMeasuredAndRewritten) {
  fs::create_directories(dir_ / "yamiro");
  std::ofstream(dir_ / "yamiro" / "auto-precision.json") << "{\"what\": \"yamiro auto-precision probe\", \"sch";
  const ProbeResult r = auto_probe("cpu", 3);
  EXPECT_EQ(r.source, "measured");
  EXPECT_EQ(r.cache_file, probe_cache_path());
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_EQ(r.candidates[0].precision, Precision::FP32);
  EXPECT_TRUE(r.candidates[0].error.empty()) << r.candidates[0].error;
  EXPECT_GT(r.candidates[0].seconds, 0);
  EXPECT_LE(r.candidates[0].rel_error, accuracy_bar(Precision::FP32));
  const auto back = find_cached_probe(read_probe_cache(probe_cache_path()), r.key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->candidates.size(), r.candidates.size());
  EXPECT_EQ(r.key.threads, 3);
  EXPECT_EQ(files_in(dir_ / "yamiro"), 1u);
}

TEST_F(ProbeFiles, CachedFiguresAreUsedAndAMismatchedKeyIsMeasured) {
  // The machine's key, learnt from a measurement at another thread count.
  ProbeKey k = auto_probe("cpu", 4).key;
  k.threads = 5;
  ProbeKey stale = k;
  stale.threads = 6;
  stale.torch_version = "0.0.1";
  std::string text = merge_probe_cache("", result(k, {cand(Precision::FP32, false, 5.0, 1e-7), cand(Precision::BF16, false, 1.0, 3e-3)}));
  text = merge_probe_cache(text, result(stale, {cand(Precision::BF16, false, 1.0, 3e-3)}));
  ASSERT_TRUE(write_probe_cache(probe_cache_path(), text));

  const ProbeResult cached = auto_probe("cpu", 5);
  EXPECT_EQ(cached.source, "cache");
  ASSERT_EQ(cached.candidates.size(), 2u);
  EXPECT_DOUBLE_EQ(cached.candidates[1].seconds, 1.0e-3);  // the planted figure, not a new one
  EXPECT_EQ(resolve_auto_precision("cpu", DeviceKind::CPU, 5, true).precision, Precision::BF16);

  // Only the LibTorch version differs at 6 threads: measured again, and both entries kept.
  const ProbeResult fresh = auto_probe("cpu", 6);
  EXPECT_EQ(fresh.source, "measured");
  EXPECT_EQ(fresh.key.threads, 6);
  EXPECT_NE(fresh.key.torch_version, "0.0.1");
  const std::string after = read_probe_cache(probe_cache_path());
  EXPECT_TRUE(find_cached_probe(after, fresh.key).has_value());
  EXPECT_TRUE(find_cached_probe(after, k).has_value());
}

TEST_F(ProbeFiles, UnwritableCacheMeansMeasuringWithoutError) {
  std::ofstream(dir_ / "file").put('x');
  ::setenv("XDG_CACHE_HOME", (dir_ / "file").c_str(), 1);  // cache_dir() cannot exist
  const ProbeResult r = auto_probe("cpu", 7);
  EXPECT_EQ(r.source, "measured");
  EXPECT_TRUE(r.cache_file.empty());
  EXPECT_NE(r.note.find("cannot write"), std::string::npos) << r.note;
  EXPECT_FALSE(r.candidates.empty());
}

TEST_F(ProbeFiles, DisabledByEnvironment) {
  ::setenv("YAMIRO_PROBE", "0", 1);
  const ProbeResult r = auto_probe("cpu", 8);
  EXPECT_EQ(r.source, "disabled");
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_FALSE(fs::exists(probe_cache_path()));
  const AutoChoice c = resolve_auto_precision("cpu", DeviceKind::CPU, 8, true);
  EXPECT_EQ(c.precision, Precision::FP32);
  EXPECT_NE(c.reason.find("not measured"), std::string::npos) << c.reason;
}

namespace {

// SRVGGNetCompact x4 with 16 features and one body convolution, built in memory.
Model tiny_compact() {
  StateDict w;
  auto put = [&](const std::string& name, std::vector<std::int64_t> shape) {
    HostTensor t;
    t.shape = shape;
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    t.values.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) t.values[static_cast<std::size_t>(i)] = 0.05f * static_cast<float>((i * 7919) % 13 - 6) / 6;
    w[name] = t;
  };
  put("body.0.weight", {16, 3, 3, 3});
  put("body.0.bias", {16});
  put("body.1.weight", {16});
  put("body.2.weight", {16, 16, 3, 3});
  put("body.2.bias", {16});
  put("body.3.weight", {16});
  put("body.4.weight", {48, 16, 3, 3});
  put("body.4.bias", {48});
  Model m;
  m.name = "tiny";
  m.info = detect_architecture(w);
  m.weights = std::move(w);
  return m;
}

}  // namespace

TEST_F(ProbeFiles, EngineFollowsTheCachedChoice) {
  const Model model = tiny_compact();
  ASSERT_EQ(model.info.arch, "SRVGGNetCompact");
  ProbeKey k = auto_probe("cpu", 9).key;
  const auto plant = [&](int threads, std::vector<ConvCandidate> c) {
    k.threads = threads;
    ASSERT_TRUE(write_probe_cache(probe_cache_path(), merge_probe_cache(read_probe_cache(probe_cache_path()), result(k, c))));
  };
  plant(10, {cand(Precision::FP32, false, 1.0, 1e-7), cand(Precision::FP32, true, 3.0, 1e-6), cand(Precision::BF16, false, 5.0, 3e-3)});
  plant(11, {cand(Precision::FP32, false, 9.0, 1e-7), cand(Precision::BF16, false, 1.0, 3e-3)});
  EngineOptions o;
  o.device = "cpu";
  o.threads = 10;
  {
    Engine e(model, o);
    EXPECT_EQ(e.setup().precision, Precision::FP32);
    EXPECT_FALSE(e.setup().winograd);  // direct measured faster than Winograd
    EXPECT_NE(e.setup().precision_reason.find("fp32 fastest"), std::string::npos) << e.setup().precision_reason;
  }
  o.threads = 11;
  {
    Engine e(model, o);
    EXPECT_EQ(e.setup().precision, Precision::BF16);
  }
  o.precision = Precision::FP32;  // a forced precision ignores the figures
  {
    Engine e(model, o);
    EXPECT_EQ(e.setup().precision, Precision::FP32);
    EXPECT_EQ(e.setup().precision_reason, "requested");
  }
}
