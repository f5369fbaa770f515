// Architecture detection from basicsr key names and tensor shapes, never file names.
#include <cmath>
#include <numeric>
#include <sstream>

#include "models/detect.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

namespace yamiro {

void unknown_layout(const StateDict& sd, const std::string& why) {
  std::ostringstream msg;
  msg << "unknown model layout (" << why << "); found " << sd.size() << " tensors:";
  int shown = 0;
  for (const auto& [key, t] : sd) {
    if (shown++ == 8) { msg << " ..."; break; }
    msg << " " << key << "[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) msg << (i ? "," : "") << t.shape[i];
    msg << "]";
  }
  throw Error(ErrorKind::Model, msg.str());
}

namespace {

const HostTensor& expect(const StateDict& sd, const std::string& key, std::vector<std::int64_t> shape) {
  const auto it = sd.find(key);
  if (it == sd.end()) unknown_layout(sd, "missing " + key);
  if (it->second.shape != shape) {
    std::ostringstream s;
    s << key << " has shape [";
    for (std::size_t i = 0; i < it->second.shape.size(); ++i) s << (i ? "," : "") << it->second.shape[i];
    s << "], expected [";
    for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
    s << "]";
    unknown_layout(sd, s.str());
  }
  if (static_cast<std::int64_t>(it->second.values.size()) != it->second.numel())
    unknown_layout(sd, key + " holds the wrong number of values");
  return it->second;
}

void expect_conv(const StateDict& sd, const std::string& name, std::int64_t out, std::int64_t in) {
  expect(sd, name + ".weight", {out, in, 3, 3});
  expect(sd, name + ".bias", {out});
}

// Counts indices N for which `prefix N suffix` is a key.
int count_indexed(const StateDict& sd, const std::string& prefix, const std::string& suffix) {
  int n = 0;
  while (sd.count(prefix + std::to_string(n) + suffix)) ++n;
  return n;
}

ArchInfo rrdbnet(const StateDict& sd) {
  const auto& first = sd.at("conv_first.weight");
  if (first.shape.size() != 4) unknown_layout(sd, "conv_first.weight is not 4-D");
  const std::int64_t nf = first.shape[0], cin = first.shape[1];
  // Scale 2 and 1 fold the input with pixel_unshuffle(2) / (4) before conv_first.
  int scale = 0;
  if (cin == 3) scale = 4;
  else if (cin == 12) scale = 2;
  else if (cin == 48) scale = 1;
  else unknown_layout(sd, "conv_first takes " + std::to_string(cin) + " channels (3, 12 or 48 expected)");
  const int nb = count_indexed(sd, "body.", ".rdb1.conv1.weight");
  if (nb == 0) unknown_layout(sd, "RRDBNet without body blocks");
  const auto& c1 = sd.at("body.0.rdb1.conv1.weight");
  if (c1.shape.size() != 4) unknown_layout(sd, "body.0.rdb1.conv1.weight is not 4-D");
  const std::int64_t gc = c1.shape[0];
  expect_conv(sd, "conv_first", nf, cin);
  for (int b = 0; b < nb; ++b)
    for (int r = 1; r <= 3; ++r)
      for (int k = 1; k <= 5; ++k)
        expect_conv(sd, "body." + std::to_string(b) + ".rdb" + std::to_string(r) + ".conv" + std::to_string(k),
                    k == 5 ? nf : gc, nf + (k - 1) * gc);
  expect_conv(sd, "conv_body", nf, nf);
  expect_conv(sd, "conv_up1", nf, nf);
  expect_conv(sd, "conv_up2", nf, nf);
  expect_conv(sd, "conv_hr", nf, nf);
  expect_conv(sd, "conv_last", 3, nf);
  const std::size_t expected_keys = 2 * (1 + 15 * static_cast<std::size_t>(nb) + 5);
  if (sd.size() != expected_keys)
    unknown_layout(sd, std::to_string(sd.size()) + " tensors where RRDBNet with " + std::to_string(nb) +
                           " blocks has " + std::to_string(expected_keys));
  ArchInfo info;
  info.arch = "RRDBNet";
  info.scale = scale;
  info.hyper = {{"num_feat", static_cast<int>(nf)}, {"num_block", nb}, {"num_grow_ch", static_cast<int>(gc)}};
  return info;
}

ArchInfo compact(const StateDict& sd) {
  const int n = count_indexed(sd, "body.", ".weight");
  if (n < 3 || n % 2 == 0) unknown_layout(sd, "SRVGGNetCompact body of " + std::to_string(n) + " layers");
  const auto& first = sd.at("body.0.weight");
  if (first.shape.size() != 4 || first.shape[1] != 3) unknown_layout(sd, "body.0.weight is not a 3-channel convolution");
  const std::int64_t nf = first.shape[0];
  const int last = n - 1;
  const auto& lw = sd.at("body." + std::to_string(last) + ".weight");
  if (lw.shape.size() != 4 || lw.shape[0] % 3 != 0) unknown_layout(sd, "last convolution does not give 3 * scale^2 channels");
  const int scale = static_cast<int>(std::lround(std::sqrt(static_cast<double>(lw.shape[0] / 3))));
  if (scale < 1 || 3 * scale * scale != lw.shape[0]) unknown_layout(sd, "last convolution does not give 3 * scale^2 channels");
  expect_conv(sd, "body.0", nf, 3);
  for (int i = 1; i < last; i += 2) {
    expect(sd, "body." + std::to_string(i) + ".weight", {nf});
    if (i + 1 < last) expect_conv(sd, "body." + std::to_string(i + 1), nf, nf);
  }
  expect_conv(sd, "body." + std::to_string(last), 3LL * scale * scale, nf);
  if (sd.size() != static_cast<std::size_t>(n + (n + 1) / 2))
    unknown_layout(sd, "unexpected extra tensors for SRVGGNetCompact");
  ArchInfo info;
  info.arch = "SRVGGNetCompact";
  info.scale = scale;
  info.hyper = {{"num_feat", static_cast<int>(nf)}, {"num_conv", (n - 3) / 2}};
  return info;
}

}  // namespace

std::int64_t HostTensor::numel() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

std::string ArchInfo::summary() const {
  std::ostringstream s;
  s << arch << " x" << scale;
  if (hyper.empty()) return s.str();
  s << " (";
  bool first = true;
  for (const auto& [k, v] : hyper) {
    s << (first ? "" : ", ") << k << "=" << v;
    first = false;
  }
  for (const auto& [k, v] : options) s << ", " << k << "=" << v;
  s << ")";
  return s.str();
}

ArchInfo detect_architecture(const StateDict& sd) {
  // DAT before RRDBNet: it has conv_first too. Its adaptive interaction convolutions
  // (attn.dwconv) tell it from other before_RG networks.
  if (sd.count("before_RG.1.weight") && sd.count("layers.0.blocks.0.attn.dwconv.0.weight")) return detect_dat(sd);
  if (sd.count("layers.0.residual_group.blocks.0.attn.qkv.weight")) return detect_swinir(sd);
  if (sd.count("conv_first.weight")) return rrdbnet(sd);
  if (sd.count("body.0.weight") && sd.count("body.1.weight")) return compact(sd);
  unknown_layout(sd, "neither RRDBNet (conv_first.*), SRVGGNetCompact (body.N.*) nor SwinIR (layers.N.residual_group.*) keys");
}

}  // namespace yamiro
