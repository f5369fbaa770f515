// Precision `auto` by measurement: a short convolution timed once per machine in each
// candidate precision and path, the figures cached as JSON in yamiro's cache folder, and
// the choice made from them. Torch-free; the measurement itself lives in the engine.
// Thread-safety: every function here may be called from any thread (the pure ones share
// no state; auto_probe() serialises on a mutex). Two processes writing the cache at once
// each rename a complete file: the last one wins, neither leaves a partial file.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "yamiro/engine.hpp"
#include "yamiro/heuristics.hpp"

namespace yamiro {

// One way of running a 3x3 convolution: a precision and, for fp32 on a CPU, the path.
struct ConvCandidate {
  Precision precision = Precision::FP32;
  bool winograd = false;  // yamiro's Winograd F(4x4,3x3) instead of LibTorch's direct conv
  double seconds = 0;     // fastest timed run of one convolution; 0 when it did not run
  double rel_error = 0;   // RMS error against an fp64 reference, over the reference's RMS
  std::string error;      // why it could not run; empty when it ran
};

// "fp32", "fp32-winograd", "bf16", "fp16". Never throws.
std::string candidate_name(const ConvCandidate& c);

// What the figures were measured for. Figures are reused only when every field matches.
struct ProbeKey {
  int schema = 0;             // kProbeSchema of the build that measured
  std::string device;         // "cpu", "cuda:0 NVIDIA H200", "mps"
  std::string cpu_model;      // /proc/cpuinfo's model name
  int cpus = 0;               // CPUs available to the process
  int threads = 0;            // LibTorch threads during the measurement
  std::string torch_version;
  bool operator==(const ProbeKey& o) const;
  bool operator!=(const ProbeKey& o) const { return !(*this == o); }
};

// Bumped when the probe's shape, candidates or accuracy measure change: older figures
// are then measured again.
inline constexpr int kProbeSchema = 1;

struct ProbeResult {
  ProbeKey key;
  std::string shape;                     // the convolution timed, e.g. "1x64x128x128, 64->64 3x3"
  std::vector<ConvCandidate> candidates;
  double probe_seconds = 0;              // wall time the measurement took
  std::string measured_at;               // UTC, ISO 8601
  double load_per_cpu = -1;              // 1-minute load average / CPUs when measured; -1 unknown
  // Filled by auto_probe(), not stored in the cache:
  std::string source;                    // "measured", "cache", "disabled" or "failed"
  std::string cache_file;                // the file read or written; empty when none
  std::string note;                      // why nothing was cached or measured, if so
};

// The largest rel_error accepted for a precision: 1e-4 for fp32 (either path; both measure
// about 1e-6), 5e-2 for bf16/fp16 (bf16 measures 0.5-1.5e-2 on the probe's data, fp16 about
// 8x less). The bar catches a broken or emulated-wrong kernel (NaN, garbage: about 1); the
// network-level bar, PSNR >= 45 dB of bf16 against fp32, is what the e2e tests check. A
// candidate over its bar is never chosen.
double accuracy_bar(Precision p);

// Prefer fp32 when it is within this fraction of the fastest reduced precision.
inline constexpr double kPreferFp32Within = 0.03;

struct AutoChoice {
  Precision precision = Precision::FP32;  // never Auto
  bool winograd = false;                  // fp32 through the Winograd path
  std::string reason;                     // one line for logs and `info`
};

// The choice `auto` makes from measured figures: the fastest candidate that ran within its
// accuracy bar, where fp32 wins ties within kPreferFp32Within. Candidates with
// `winograd` are skipped unless `allow_winograd`; fp16 is skipped on the CPU (the engine
// refuses it there), and everywhere when !allow_fp16 (architectures whose reference
// overflows in fp16: ArchInfo::fp16_unsafe). With no usable figure:
// fallback_precision(device) (fp32 when !allow_fp16), direct path. Pure; never throws.
AutoChoice choose_auto(const std::vector<ConvCandidate>& measured, DeviceKind device, bool allow_winograd,
                       bool allow_fp16 = true);

// What `auto` means when nothing was measured (YAMIRO_PROBE=0, or the probe failed): the
// accurate choice, fp32 on a CPU, and fp16 on CUDA/MPS. Never throws.
Precision fallback_precision(DeviceKind device);

// False when the environment variable YAMIRO_WINOGRAD is "0". Never throws.
bool winograd_env_allows();

// yamiro's cache folder: $XDG_CACHE_HOME/yamiro, else $HOME/.cache/yamiro (the folder the
// models are fetched into is its models/); empty when neither variable is set. Never throws.
std::string cache_dir();

// The probe cache file: cache_dir()/auto-precision.json; empty when cache_dir() is.
std::string probe_cache_path();

// The figures for `key` in a cache file's text; nullopt when the text is not a cache file of
// this schema (corrupt, foreign, truncated) or holds no entry for `key`. Never throws.
std::optional<ProbeResult> find_cached_probe(const std::string& text, const ProbeKey& key);

// The machine's 1-minute load average over available_cpus(); -1 when unknown. Never throws.
double load_per_cpu();

// Whether cached figures should be measured again because they were taken on a busy
// machine (load_per_cpu over 1: other processes had the cores, and interrupted runs
// make the figures noisy) and the machine is now at most half as loaded. Pure.
bool measured_under_load(const ProbeResult& cached, double load_now);

// The cache file's new text: `result` replaces the entry with its key; other valid entries
// of `old_text` are kept (the newest kMaxProbeEntries in all); a corrupt `old_text` is
// dropped. Never throws.
inline constexpr int kMaxProbeEntries = 8;
std::string merge_probe_cache(const std::string& old_text, const ProbeResult& result);

// Reads `path` (an absent or unreadable file reads as empty). Never throws.
std::string read_probe_cache(const std::string& path);

// Writes `text` to `path` through a temporary file in the same folder and a rename, so a
// reader sees the old file or the new one, never a part. Creates the folder. Returns false
// (and leaves no temporary file) when it cannot, e.g. in a read-only folder. Never throws.
bool write_probe_cache(const std::string& path, const std::string& text);

// The figures as JSON text (one object: key, shape, candidates, choice). Never throws.
std::string probe_json(const ProbeResult& r, const AutoChoice& choice);

// The measurement and its cache (implemented with LibTorch, in the engine):
//
// Figures for `device` ("cpu", "cuda:N", "mps") at `threads` LibTorch threads (0 = CPUs
// available). Once per process and key: from the cache file when it holds this key, else
// measured (about 0.5 s on a quiet 2-core CPU, a few seconds on a busy one) and written
// to the cache; a cache that cannot be written just means measuring again next run, and
// figures taken under load are measured again once the machine is quieter
// (measured_under_load()). The
// environment variable YAMIRO_PROBE=0 turns measuring and the cache off (source
// "disabled", no candidates); YAMIRO_PROBE=fresh measures even when cached. Sets
// LibTorch's thread count to `threads`. Throws Error(Device) when the device is missing;
// a candidate that fails is recorded with its error, never thrown. Thread-safe.
ProbeResult auto_probe(const std::string& device, int threads);

// auto_probe() then choose_auto(): what the engine runs for precision `auto`. Throws what
// auto_probe() throws. Thread-safe.
AutoChoice resolve_auto_precision(const std::string& device, DeviceKind kind, int threads, bool allow_winograd,
                                  bool allow_fp16 = true);

}  // namespace yamiro
