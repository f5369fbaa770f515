// Foreign key layouts renamed to the basicsr names the architectures use: wrapper
// prefixes (DataParallel's "module.", BasicSR's "netG."), the 2018 ESRGAN names and the
// 2019 ESRGAN / BSRGAN names.
#include <algorithm>
#include <vector>

#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

namespace yamiro {
namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts(1);
  for (const char c : s) {
    if (c == '.') parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

// "RDB2" -> '2' when the digit is in [lo, hi], else 0.
char numbered(const std::string& s, const std::string& stem, char lo, char hi) {
  if (s.size() != stem.size() + 1 || s.compare(0, stem.size(), stem) != 0) return 0;
  const char d = s.back();
  return d >= lo && d <= hi ? d : 0;
}

// A non-empty string of decimal digits (no sign, no leading zero unless "0") as an int, else -1.
int index_of(const std::string& s) {
  if (s.empty() || s.size() > 6 || (s.size() > 1 && s[0] == '0')) return -1;
  int v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// The 2018 ESRGAN layout (RRDB_ESRGAN_x4.pth and the models trained with its code) is one
// nn.Sequential: model.0 = conv_first, model.1.sub.N.RDBk.convj.0 = body.N.rdbk.convj,
// model.1.sub.<num_block> = conv_body, then per x2 upsampler an (Upsample, conv,
// LeakyReLU) triple, so conv_up<k> = model.<3k>, then conv_hr = model.<3n+2> (and its
// LeakyReLU) and conv_last = model.<3n+4>: n = 0 (x1), 1 (x2), 2 (x4), 3 (x8), ...
// `n` comes from the last index; to_basicsr_names refuses indices that do not fit.
struct Esrgan2018 {
  int num_block = 0;
  int num_up = -1;

  std::string rename(const std::string& key) const {
    const auto p = split(key);
    if (p.size() < 3 || p[0] != "model") return key;
    if (p.size() == 3) {
      const int i = index_of(p[1]);
      if (i < 0 || num_up < 0) return key;
      if (i == 0) return "conv_first." + p[2];
      if (i == 3 * num_up + 2) return "conv_hr." + p[2];
      if (i == 3 * num_up + 4) return "conv_last." + p[2];
      if (i % 3 == 0 && i / 3 <= num_up) return "conv_up" + std::to_string(i / 3) + "." + p[2];
      return key;
    }
    if (p[1] != "1" || p[2] != "sub") return key;
    if (p.size() == 5 && p[3] == std::to_string(num_block)) return "conv_body." + p[4];
    const char rdb = p.size() == 8 ? numbered(p[4], "RDB", '1', '3') : 0;
    const char conv = p.size() == 8 ? numbered(p[5], "conv", '1', '5') : 0;
    if (rdb && conv && p[6] == "0" && index_of(p[3]) >= 0)
      return "body." + p[3] + ".rdb" + rdb + ".conv" + conv + "." + p[7];
    return key;
  }
};

// The 2019 ESRGAN RRDBNet_arch.py (also BSRGAN and RealSR): RRDB_trunk.N.RDBk.convj,
// trunk_conv, upconv<k>, HRconv; conv_first and conv_last are already basicsr names.
std::string from_esrgan2019(const std::string& key) {
  const auto p = split(key);
  if (p.size() == 2) {
    if (p[0] == "trunk_conv") return "conv_body." + p[1];
    if (p[0] == "HRconv") return "conv_hr." + p[1];
    if (p[0].compare(0, 6, "upconv") == 0 && index_of(p[0].substr(6)) > 0) return "conv_up" + p[0].substr(6) + "." + p[1];
    return key;
  }
  if (p.size() == 5 && p[0] == "RRDB_trunk" && index_of(p[1]) >= 0) {
    const char rdb = numbered(p[2], "RDB", '1', '3');
    const char conv = numbered(p[3], "conv", '1', '5');
    if (rdb && conv) return "body." + p[1] + ".rdb" + rdb + ".conv" + conv + "." + p[4];
  }
  return key;
}

void insert_unique(StateDict& out, std::string name, HostTensor t, const char* why) {
  if (!out.emplace(name, std::move(t)).second)
    throw Error(ErrorKind::Model, "two tensors are both called '" + name + "' " + why);
}

}  // namespace

StateDict to_basicsr_names(StateDict weights) {
  StateDict stripped;
  for (auto& [key, t] : weights) {
    std::string name = key;
    for (bool again = true; again;) {
      again = false;
      for (const std::string prefix : {"module.", "netG."})
        if (name.compare(0, prefix.size(), prefix) == 0) {
          name.erase(0, prefix.size());
          again = true;
        }
    }
    insert_unique(stripped, std::move(name), std::move(t), "once the module./netG. prefixes are stripped");
  }
  if (stripped.count("conv_first.weight") && stripped.count("RRDB_trunk.0.RDB1.conv1.weight")) {
    StateDict renamed;
    for (auto& [key, t] : stripped) insert_unique(renamed, from_esrgan2019(key), std::move(t), "after ESRGAN renaming");
    return renamed;
  }
  if (!stripped.count("model.0.weight")) return stripped;
  Esrgan2018 layout;
  while (stripped.count("model.1.sub." + std::to_string(layout.num_block) + ".RDB1.conv1.0.weight")) ++layout.num_block;
  int last = -1;
  for (const auto& [key, t] : stripped) {
    const auto p = split(key);
    if (p.size() == 3 && p[0] == "model" && p[2] == "weight") last = std::max(last, index_of(p[1]));
  }
  if (last < 4 || (last - 4) % 3 != 0)
    throw Error(ErrorKind::Model, "ESRGAN layout (model.N) ending at model." + std::to_string(last) +
                                      ".weight: conv_last is model.4 (x1), model.7 (x2), model.10 (x4), model.13 (x8), ...");
  layout.num_up = (last - 4) / 3;
  for (int k = 0; k <= layout.num_up + 1; ++k) {
    // conv_first, each upsampler's convolution and conv_hr (model.0, 3, 6, ..., 3n+2).
    const int i = k == layout.num_up + 1 ? 3 * layout.num_up + 2 : 3 * k;
    if (!stripped.count("model." + std::to_string(i) + ".weight"))
      throw Error(ErrorKind::Model, "ESRGAN layout (model.N) without model." + std::to_string(i) + ".weight: an x" +
                                        std::to_string(1 << layout.num_up) + " model (conv_last at model." +
                                        std::to_string(last) + ") has convolutions at model.0, 3, 6, ..., " +
                                        std::to_string(3 * layout.num_up + 2) + " and " + std::to_string(last));
  }
  StateDict renamed;
  for (auto& [key, t] : stripped) insert_unique(renamed, layout.rename(key), std::move(t), "after ESRGAN renaming");
  return renamed;
}

}  // namespace yamiro
