// Precision `auto`: the choice from measured figures and the figures' cache file (no LibTorch).
#include "yamiro/autotune.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace yamiro {
namespace {

constexpr const char* kWhat = "yamiro auto-precision probe";

json key_json(const ProbeKey& k) {
  return {{"schema", k.schema}, {"device", k.device},   {"cpu_model", k.cpu_model},
          {"cpus", k.cpus},     {"threads", k.threads}, {"torch_version", k.torch_version}};
}

ProbeKey key_from(const json& j) {
  ProbeKey k;
  k.schema = j.at("schema").get<int>();
  k.device = j.at("device").get<std::string>();
  k.cpu_model = j.at("cpu_model").get<std::string>();
  k.cpus = j.at("cpus").get<int>();
  k.threads = j.at("threads").get<int>();
  k.torch_version = j.at("torch_version").get<std::string>();
  return k;
}

json candidate_json(const ConvCandidate& c) {
  return {{"name", candidate_name(c)}, {"precision", to_string(c.precision)}, {"winograd", c.winograd},
          {"seconds", c.seconds},      {"rel_error", c.rel_error},            {"error", c.error}};
}

ConvCandidate candidate_from(const json& j) {
  ConvCandidate c;
  c.precision = parse_precision(j.at("precision").get<std::string>());
  c.winograd = j.at("winograd").get<bool>();
  c.seconds = j.at("seconds").get<double>();
  c.rel_error = j.at("rel_error").get<double>();
  c.error = j.at("error").get<std::string>();
  if (c.precision == Precision::Auto || !std::isfinite(c.seconds) || c.seconds < 0 || !std::isfinite(c.rel_error) ||
      c.rel_error < 0)
    throw std::invalid_argument("bad candidate");
  return c;
}

json entry_json(const ProbeResult& r) {
  json cands = json::array();
  for (const auto& c : r.candidates) cands.push_back(candidate_json(c));
  return {{"key", key_json(r.key)},
          {"shape", r.shape},
          {"probe_seconds", r.probe_seconds},
          {"measured_at", r.measured_at},
          {"load_per_cpu", r.load_per_cpu},
          {"candidates", cands}};
}

ProbeResult entry_from(const json& j) {
  ProbeResult r;
  r.key = key_from(j.at("key"));
  r.shape = j.at("shape").get<std::string>();
  r.probe_seconds = j.at("probe_seconds").get<double>();
  r.measured_at = j.at("measured_at").get<std::string>();
  r.load_per_cpu = j.at("load_per_cpu").get<double>();
  for (const auto& c : j.at("candidates")) r.candidates.push_back(candidate_from(c));
  return r;
}

// Every entry of a cache file of this schema; throws on anything else.
std::vector<ProbeResult> parse_entries(const std::string& text) {
  const json doc = json::parse(text);
  if (!doc.is_object() || doc.at("what").get<std::string>() != kWhat || doc.at("schema").get<int>() != kProbeSchema)
    throw std::invalid_argument("not a probe cache");
  std::vector<ProbeResult> out;
  for (const auto& e : doc.at("entries")) out.push_back(entry_from(e));
  return out;
}

bool usable(const ConvCandidate& c, DeviceKind device, bool allow_winograd, bool allow_fp16) {
  if (!c.error.empty() || c.seconds <= 0) return false;
  if (c.winograd && !allow_winograd) return false;
  if ((device == DeviceKind::CPU || !allow_fp16) && c.precision == Precision::FP16) return false;
  return c.rel_error <= accuracy_bar(c.precision);
}

std::string ms(double s) {
  std::ostringstream o;
  o.precision(3);
  o << s * 1e3 << " ms";
  return o.str();
}

}  // namespace

std::string candidate_name(const ConvCandidate& c) {
  return std::string(to_string(c.precision)) + (c.winograd ? "-winograd" : "");
}

bool ProbeKey::operator==(const ProbeKey& o) const {
  return schema == o.schema && device == o.device && cpu_model == o.cpu_model && cpus == o.cpus && threads == o.threads &&
         torch_version == o.torch_version;
}

double accuracy_bar(Precision p) { return p == Precision::FP32 ? 1e-4 : 5e-2; }

Precision fallback_precision(DeviceKind device) {
  return device == DeviceKind::CPU ? Precision::FP32 : Precision::FP16;
}

AutoChoice choose_auto(const std::vector<ConvCandidate>& measured, DeviceKind device, bool allow_winograd, bool allow_fp16) {
  const ConvCandidate* best = nullptr;
  const ConvCandidate* best_fp32 = nullptr;
  for (const auto& c : measured) {
    if (!usable(c, device, allow_winograd, allow_fp16)) continue;
    if (!best || c.seconds < best->seconds) best = &c;
    if (c.precision == Precision::FP32 && (!best_fp32 || c.seconds < best_fp32->seconds)) best_fp32 = &c;
  }
  if (!best) {
    const Precision p = allow_fp16 ? fallback_precision(device) : Precision::FP32;
    return {p, false, "no usable measurement: " + std::string(to_string(p))};
  }
  if (best_fp32 && best_fp32 != best && best_fp32->seconds <= best->seconds * (1 + kPreferFp32Within)) {
    return {Precision::FP32, best_fp32->winograd,
            candidate_name(*best_fp32) + " (" + ms(best_fp32->seconds) + ") is within " +
                std::to_string(static_cast<int>(kPreferFp32Within * 100)) + " % of " + candidate_name(*best) + " (" +
                ms(best->seconds) + "): the more accurate one"};
  }
  std::string reason = candidate_name(*best) + " fastest (" + ms(best->seconds);
  for (const auto& c : measured)
    if (&c != best && usable(c, device, allow_winograd, allow_fp16)) reason += "; " + candidate_name(c) + " " + ms(c.seconds);
  if (!allow_fp16 && device != DeviceKind::CPU) reason += "; fp16 skipped: the architecture overflows in it";
  return {best->precision, best->winograd, reason + ")"};
}

bool winograd_env_allows() {
  const char* env = std::getenv("YAMIRO_WINOGRAD");
  return !(env && std::string(env) == "0");
}

double load_per_cpu() {
  std::ifstream f("/proc/loadavg");
  double load = -1;
  if (!(f >> load) || load < 0) return -1;
  return load / available_cpus();
}

bool measured_under_load(const ProbeResult& cached, double load_now) {
  return cached.load_per_cpu > 1.0 && load_now >= 0 && load_now <= 0.5 * cached.load_per_cpu;
}

std::string cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "yamiro").string();
  if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "yamiro").string();
  return {};
}

std::string probe_cache_path() {
  const std::string dir = cache_dir();
  return dir.empty() ? std::string() : (fs::path(dir) / "auto-precision.json").string();
}

std::optional<ProbeResult> find_cached_probe(const std::string& text, const ProbeKey& key) {
  try {
    for (auto& e : parse_entries(text))
      if (e.key == key) return e;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string merge_probe_cache(const std::string& old_text, const ProbeResult& result) {
  std::vector<ProbeResult> kept;
  try {
    kept = parse_entries(old_text);
  } catch (const std::exception&) {
    kept.clear();
  }
  json entries = json::array();
  std::vector<const ProbeResult*> others;
  for (const auto& e : kept)
    if (e.key != result.key) others.push_back(&e);
  const std::size_t room = kMaxProbeEntries - 1;
  for (std::size_t i = others.size() > room ? others.size() - room : 0; i < others.size(); ++i)
    entries.push_back(entry_json(*others[i]));
  entries.push_back(entry_json(result));
  return json({{"what", kWhat}, {"schema", kProbeSchema}, {"entries", entries}}).dump(1) + "\n";
}

std::string read_probe_cache(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool write_probe_cache(const std::string& path, const std::string& text) {
  try {
    const fs::path target(path);
    std::error_code ec;
    if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
    std::random_device rd;
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    std::size_t done = 0;
    bool ok = true;
    while (ok && done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ::close(fd) == 0 && ok;
    if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
    if (!ok) ::unlink(tmp.c_str());
    return ok;
  } catch (const std::exception&) {
    return false;
  }
}

std::string probe_json(const ProbeResult& r, const AutoChoice& choice) {
  json j = entry_json(r);
  j["source"] = r.source;
  j["cache_file"] = r.cache_file;
  if (!r.note.empty()) j["note"] = r.note;
  j["choice"] = {{"precision", to_string(choice.precision)}, {"winograd", choice.winograd}, {"reason", choice.reason}};
  return j.dump();
}

}  // namespace yamiro
