// Foreign key layouts renamed to the basicsr names the architectures use: wrapper
// prefixes (DataParallel's "module.", BasicSR's "netG.") and the 2018 ESRGAN names.
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

// Original ESRGAN (RRDB_ESRGAN_x4.pth): model.0 = conv_first, model.1.sub.N.RDBk.convj.0
// = body.N.rdbk.convj, model.1.sub.<num_block> = conv_body, model.3 / .6 / .8 / .10 =
// conv_up1 / conv_up2 / conv_hr / conv_last (the indices between are activations and
// upsamplers without weights). Keys that match none of these stay as they are.
std::string from_esrgan(const std::string& key, int num_block) {
  const auto p = split(key);
  if (p.size() < 3 || p[0] != "model") return key;
  if (p.size() == 3) {
    static const std::pair<const char*, const char*> tail[] = {
        {"0", "conv_first"}, {"3", "conv_up1"}, {"6", "conv_up2"}, {"8", "conv_hr"}, {"10", "conv_last"}};
    for (const auto& [index, name] : tail)
      if (p[1] == index) return std::string(name) + "." + p[2];
    return key;
  }
  if (p[1] != "1" || p[2] != "sub") return key;
  if (p.size() == 5 && p[3] == std::to_string(num_block)) return "conv_body." + p[4];
  const char rdb = p.size() == 8 ? numbered(p[4], "RDB", '1', '3') : 0;
  const char conv = p.size() == 8 ? numbered(p[5], "conv", '1', '5') : 0;
  if (rdb && conv && p[6] == "0") return "body." + p[3] + ".rdb" + rdb + ".conv" + conv + "." + p[7];
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
  if (!stripped.count("model.0.weight")) return stripped;
  int num_block = 0;
  while (stripped.count("model.1.sub." + std::to_string(num_block) + ".RDB1.conv1.0.weight")) ++num_block;
  StateDict renamed;
  for (auto& [key, t] : stripped) insert_unique(renamed, from_esrgan(key, num_block), std::move(t), "after ESRGAN renaming");
  return renamed;
}

}  // namespace yamiro
