// Precision `auto`: times one 3x3 convolution in each candidate precision and path on the
// device, checks each against an fp64 reference, and caches the figures per machine.
#include <spdlog/spdlog.h>

#include <ATen/Parallel.h>

#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>

#include "arch/winograd.hpp"
#include "engine/device.hpp"
#include "yamiro/autotune.hpp"
#include "yamiro/error.hpp"

namespace yamiro {
namespace {

using Clock = std::chrono::steady_clock;

// A slow candidate (bf16 emulated on a CPU without bf16 instructions, say) is timed once
// after its warm-up, and all timed rounds together stop after about this long.
constexpr double kSlowCandidateS = 0.25;
constexpr double kRoundsBudgetS = 0.5;
constexpr int kMinRounds = 5, kMaxRounds = 12;
// After three rounds, a candidate this many times slower than the fastest cannot win and
// is not timed again. One round's figure is not enough: on a loaded 2-core machine a single
// descheduled thread doubles a run.
constexpr int kRoundsBeforeDrop = 3;
constexpr double kLosingFactor = 2.0;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

at::ScalarType dtype_of(Precision p) {
  return p == Precision::BF16 ? at::kBFloat16 : p == Precision::FP16 ? at::kHalf : at::kFloat;
}

// Deterministic data without touching LibTorch's global generator: activations in [0, 1],
// weights of both signs, as in a trained network.
at::Tensor wave(at::IntArrayRef shape, double freq, double scale, double offset) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return (at::arange(n, at::kFloat).mul_(freq).sin_().mul_(scale).add_(offset)).reshape(shape);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string device_label(const DeviceChoice& dev) {
  if (dev.kind != DeviceKind::CUDA) return dev.name;
  const DeviceProfile p = device_profile();
  const auto i = static_cast<std::size_t>(dev.device.index());
  return i < p.cuda.size() ? dev.name + " " + p.cuda[i].name : dev.name;
}

struct Runner {
  ConvCandidate cand;
  arch::Conv3x3 conv;
  at::Tensor x;
  bool active = true;
  double best = 0;
};

// The timed call: `per_call` convolutions, then a wait for the device.
double run_once(const Runner& r, int per_call) {
  const auto t0 = Clock::now();
  at::Tensor y;
  for (int k = 0; k < per_call; ++k) y = r.conv(r.x);
  (void)y.sum().item<float>();
  return since(t0) / per_call;
}

ProbeResult measure(const DeviceChoice& dev, const ProbeKey& key) {
  const auto t_start = Clock::now();
  ProbeResult r;
  r.key = key;
  r.measured_at = utc_now();
  r.load_per_cpu = load_per_cpu();
  const bool cpu = dev.kind == DeviceKind::CPU;
  // 64->64 channels is the width of both built-in networks' trunks; 128x128 is a CPU tile.
  const int64_t n = cpu ? 1 : 4, hw = cpu ? 128 : 256, c = 64;
  const int per_call = cpu ? 1 : 10;  // an accelerator's conv is well under a millisecond
  r.shape = std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(hw) + "x" + std::to_string(hw) + ", " +
            std::to_string(c) + "->" + std::to_string(c) + " 3x3, channels-last";
  if (dev.kind == DeviceKind::CUDA) {
    at::globalContext().setBenchmarkCuDNN(true);
  }
  c10::InferenceMode inference;
  const at::Tensor x32 = wave({n, c, hw, hw}, 0.37, 0.5, 0.5);
  const at::Tensor w32 = wave({c, c, 3, 3}, 1.31, 0.06, 0.0);
  const at::Tensor b32 = wave({c}, 0.7, 0.1, 0.0);
  // Accuracy on a small input (fp64 convolutions are slow, and the error does not depend on
  // the size): against fp64, on the device where it has fp64 (CUDA), else on the CPU.
  const at::Tensor xs32 = wave({1, c, 32, 32}, 0.37, 0.5, 0.5);
  const at::Device ref_dev = dev.kind == DeviceKind::CUDA ? dev.device : at::Device(at::kCPU);
  const at::Tensor ref = at::conv2d(xs32.to(ref_dev, at::kDouble), w32.to(ref_dev, at::kDouble), b32.to(ref_dev, at::kDouble), 1, 1);
  const double ref_rms = ref.pow(2).mean().sqrt().item<double>();

  spdlog::debug("precision probe: fp64 reference after {:.1f} ms", since(t_start) * 1e3);
  std::vector<ConvCandidate> wanted;
  const auto want = [&](Precision p, bool winograd) {
    ConvCandidate cand;
    cand.precision = p;
    cand.winograd = winograd;
    wanted.push_back(cand);
  };
  if (cpu) {
    want(Precision::FP32, false);
    if (arch::winograd_supported()) want(Precision::FP32, true);
    want(Precision::BF16, false);
  } else {
    want(Precision::FP32, false);
    want(Precision::FP16, false);
    if (dev.kind == DeviceKind::CUDA) want(Precision::BF16, false);
  }
  std::vector<Runner> runners;
  for (const ConvCandidate& w : wanted) {
    Runner run{w, {}, {}, true, 0};
    try {
      if (dev.kind == DeviceKind::CUDA) at::globalContext().setAllowTF32CuDNN(w.precision != Precision::FP32);
      const at::ScalarType dt = dtype_of(w.precision);
      run.conv = arch::Conv3x3(w32.to(dev.device, dt).contiguous(at::MemoryFormat::ChannelsLast), b32.to(dev.device, dt),
                               w.winograd);
      if (w.winograd && !run.conv.uses_winograd()) throw std::runtime_error("winograd path unavailable");
      run.x = x32.to(dev.device, dt).contiguous(at::MemoryFormat::ChannelsLast);
      const at::Tensor ys = run.conv(xs32.to(dev.device, dt).contiguous(at::MemoryFormat::ChannelsLast));
      const at::Tensor diff = ys.to(ref_dev, at::kDouble).sub_(ref);
      run.cand.rel_error = ref_rms > 0 ? diff.pow(2).mean().sqrt().item<double>() / ref_rms : 0;
      if (!std::isfinite(run.cand.rel_error)) run.cand.rel_error = 1e30;
      // The warm-up builds the kernels for the timed shape.
      const double warm = run_once(run, 1);
      run.best = warm;
      spdlog::debug("precision probe: {} warm-up {:.1f} ms, error {:.2g}", candidate_name(w), warm * 1e3, run.cand.rel_error);
      if (warm > kSlowCandidateS) run.active = false;  // a slow kernel: its warm-up run is figure enough
    } catch (const std::exception& e) {
      run.cand.error = std::string(e.what()).substr(0, 160);
      run.cand.error = run.cand.error.substr(0, run.cand.error.find('\n'));
      run.active = false;
    }
    runners.push_back(std::move(run));
  }
  spdlog::debug("precision probe: warm-ups done after {:.1f} ms", since(t_start) * 1e3);
  // Interleaved rounds, so the machine's drift (a shared VM's neighbours) hits all alike.
  const auto t_rounds = Clock::now();
  for (int round = 0; round < kMaxRounds; ++round) {
    if (round >= kMinRounds && since(t_rounds) > kRoundsBudgetS) break;
    for (Runner& run : runners) {
      if (!run.active) continue;
      try {
        if (dev.kind == DeviceKind::CUDA) at::globalContext().setAllowTF32CuDNN(run.cand.precision != Precision::FP32);
        const double t = run_once(run, per_call);
        spdlog::debug("precision probe: round {} {} {:.2f} ms", round, candidate_name(run.cand), t * 1e3);
        run.best = round == 0 ? t : std::min(run.best, t);
        if (t > kSlowCandidateS) run.active = false;
      } catch (const std::exception& e) {
        run.cand.error = std::string(e.what()).substr(0, 160);
        run.active = false;
      }
    }
    if (round + 1 < kRoundsBeforeDrop) continue;
    double fastest = 1e30;
    for (const Runner& run : runners)
      if (run.cand.error.empty()) fastest = std::min(fastest, run.best);
    for (Runner& run : runners)
      if (run.best > kLosingFactor * fastest) run.active = false;
  }
  for (Runner& run : runners) {
    if (run.cand.error.empty()) run.cand.seconds = run.best;
    r.candidates.push_back(run.cand);
  }
  r.probe_seconds = since(t_start);
  return r;
}

std::string figures_text(const ProbeResult& r) {
  std::string s;
  for (const auto& c : r.candidates) {
    if (!s.empty()) s += ", ";
    s += candidate_name(c) + " " + (c.error.empty() ? std::to_string(c.seconds * 1e3).substr(0, 5) + " ms" : "failed");
  }
  return s;
}

}  // namespace

ProbeResult auto_probe(const std::string& device, int threads) {
  static std::mutex mutex;
  static std::map<std::string, ProbeResult> done;  // per process: device and threads
  const DeviceChoice dev = select_device(device);
  if (threads <= 0) threads = available_cpus();
  std::lock_guard<std::mutex> lock(mutex);
  at::set_num_threads(threads);
  const std::string memo = dev.name + "/" + std::to_string(threads);
  if (auto it = done.find(memo); it != done.end()) return it->second;

  ProbeKey key;
  key.schema = kProbeSchema;
  key.device = device_label(dev);
  key.cpu_model = cpu_features().model;
  key.cpus = available_cpus();
  key.threads = threads;
  key.torch_version = TORCH_VERSION;
  const char* env = std::getenv("YAMIRO_PROBE");
  const std::string mode = env ? env : "";
  ProbeResult r;
  r.key = key;
  if (mode == "0" || mode == "off") {
    r.source = "disabled";
    r.note = "YAMIRO_PROBE=" + mode;
    return done[memo] = r;
  }
  const std::string path = probe_cache_path();
  const std::string old_text = path.empty() ? std::string() : read_probe_cache(path);
  if (mode != "fresh" && !path.empty()) {
    auto cached = find_cached_probe(old_text, key);
    if (cached && measured_under_load(*cached, load_per_cpu())) {
      spdlog::debug("precision auto: the cached figures were measured at load {:.1f} per CPU; measuring again", cached->load_per_cpu);
      cached.reset();
    }
    if (cached) {
      cached->source = "cache";
      cached->cache_file = path;
      spdlog::debug("precision auto: figures for {} from {}: {}", key.device, path, figures_text(*cached));
      return done[memo] = *cached;
    }
  }
  limit_kernel_caches();
  try {
    r = measure(dev, key);
  } catch (const std::exception& e) {
    r.source = "failed";
    r.note = std::string("measurement failed: ") + std::string(e.what()).substr(0, 200);
    spdlog::warn("precision auto: {}; using {}", r.note, to_string(fallback_precision(dev.kind)));
    return done[memo] = r;
  }
  r.source = "measured";
  if (path.empty()) {
    r.note = "no cache folder (neither XDG_CACHE_HOME nor HOME is set): measured each run";
  } else if (write_probe_cache(path, merge_probe_cache(old_text, r))) {
    r.cache_file = path;
  } else {
    r.note = "cannot write " + path + ": measured each run";
  }
  spdlog::info("precision auto: timed a 3x3 convolution on {} in {:.2f} s at load {:.1f} per CPU ({}){}", key.device,
               r.probe_seconds, r.load_per_cpu, figures_text(r), r.cache_file.empty() ? "; " + r.note : "; cached in " + r.cache_file);
  return done[memo] = r;
}

AutoChoice resolve_auto_precision(const std::string& device, DeviceKind kind, int threads, bool allow_winograd,
                                  bool allow_fp16) {
  const ProbeResult r = auto_probe(device, threads);
  AutoChoice c = choose_auto(r.candidates, kind, allow_winograd, allow_fp16);
  if (r.source == "disabled") c.reason = "not measured (" + r.note + "): " + std::string(to_string(c.precision));
  return c;
}

}  // namespace yamiro
