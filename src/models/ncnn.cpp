#include "models/ncnn.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "yamiro/error.hpp"

namespace yamiro::ncnn {
namespace {

constexpr int kMagic = 7767517;
constexpr int kMaxLayers = 100000;
constexpr int kMaxParamId = 32;  // ncnn's NCNN_MAX_PARAM_COUNT

[[noreturn]] void fail(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + ": " + why);
}

double parse_number(const std::string& s, const std::string& origin, int line) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    fail(origin, "line " + std::to_string(line) + ": bad number '" + s + "'");
  }
}

int parse_count(const std::string& s, const std::string& origin, int line, int max) {
  const double v = parse_number(s, origin, line);
  if (v < 0 || v > max || v != std::floor(v))
    fail(origin, "line " + std::to_string(line) + ": bad count '" + s + "'");
  return static_cast<int>(v);
}

bool parse_number_maybe(const std::string& s, double& out) {
  try {
    std::size_t used = 0;
    out = std::stod(s, &used);
    return used == s.size() && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}

// "k=v", "k=a,b,c" (newer arrays), "k=text" or "k=\"quoted text\"" (strings) or, for
// old-style arrays, "-233kk=n,v1,...,vn".
void parse_param_token(const std::string& tok, Layer& layer, const std::string& origin, int line) {
  const auto eq = tok.find('=');
  if (eq == std::string::npos || eq == 0) fail(origin, "line " + std::to_string(line) + ": bad parameter '" + tok.substr(0, 64) + "'");
  // ncnn knows ids 0..31, arrays as -23300 - id: anything else is not a parameter (and
  // a huge number must not reach the int conversion).
  const double id = parse_number(tok.substr(0, eq), origin, line);
  if (id != std::floor(id) || !((id >= 0 && id < kMaxParamId) || (id <= -23300 && id > -23300 - kMaxParamId)))
    fail(origin, "line " + std::to_string(line) + ": bad parameter id in '" + tok.substr(0, 64) + "'");
  const int key = static_cast<int>(id);
  const std::string value = tok.substr(eq + 1);
  auto numbers = [&](const std::string& text) {
    std::vector<double> items;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) items.push_back(parse_number(part, origin, line));
    return items;
  };
  if (key <= -23300) {
    std::vector<double> items = numbers(value);
    if (items.empty() || items[0] != static_cast<double>(items.size() - 1))
      fail(origin, "line " + std::to_string(line) + ": array parameter '" + tok.substr(0, 64) + "' has the wrong count");
    items.erase(items.begin());
    layer.params[-key - 23300] = std::move(items);
    return;
  }
  double v = 0;
  if (parse_number_maybe(value, v)) {
    layer.params[key] = {v};
  } else if (!value.empty() && value.find(',') != std::string::npos && value[0] != '"' &&
             (std::isdigit(static_cast<unsigned char>(value[0])) || value[0] == '-' || value[0] == '.' || value[0] == '+')) {
    layer.params[key] = numbers(value);
  } else {
    std::string text = value;
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() > 255) fail(origin, "line " + std::to_string(line) + ": bad string parameter '" + tok.substr(0, 64) + "'");
    layer.strings[key] = text;
  }
}

// Splits a layer line on blanks, keeping a double-quoted string value whole.
std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char ch : line) {
    if (ch == '"') quoted = !quoted;
    if (!quoted && (ch == ' ' || ch == '\t' || ch == '\r')) {
      if (!cur.empty()) out.push_back(std::move(cur)), cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

double Layer::param(int id, double fallback) const {
  const auto it = params.find(id);
  return it == params.end() || it->second.empty() ? fallback : it->second[0];
}

long long Layer::int_param(int id, long long fallback, long long lo, long long hi, const std::string& origin) const {
  const std::string where = "line " + std::to_string(line) + ": " + type + " '" + name + "': parameter " + std::to_string(id);
  if (const auto s = strings.find(id); s != strings.end()) fail(origin, where + ": bad number '" + s->second.substr(0, 64) + "'");
  const double v = param(id, static_cast<double>(fallback));
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) || v != std::floor(v)) {
    std::ostringstream text;
    text << v;
    fail(origin, where + " = " + text.str() + " is not a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<long long>(v);
}

Graph parse_param(const std::string& text, const std::string& origin) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  auto next_line = [&]() -> bool {
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") != std::string::npos) return true;
    }
    return false;
  };
  if (!next_line()) fail(origin, "empty file");
  {
    std::istringstream ls(line);
    std::string magic;
    ls >> magic;
    if (magic != std::to_string(kMagic))
      fail(origin, "not an ncnn .param file (magic '" + magic.substr(0, 16) + "', expected " + std::to_string(kMagic) + ")");
  }
  if (!next_line()) fail(origin, "missing layer and blob counts");
  int layer_count = 0, blob_count = 0;
  {
    std::istringstream ls(line);
    std::string a, b;
    if (!(ls >> a >> b)) fail(origin, "line " + std::to_string(line_no) + ": expected layer and blob counts");
    layer_count = parse_count(a, origin, line_no, kMaxLayers);
    blob_count = parse_count(b, origin, line_no, kMaxLayers * 8);
  }
  Graph g;
  g.layers.reserve(layer_count);
  std::set<std::string> produced;
  const auto& known = known_layer_types();
  while (next_line()) {
    const auto tokens = split_line(line);
    Layer layer;
    layer.line = line_no;
    if (tokens.size() < 4) fail(origin, "line " + std::to_string(line_no) + ": incomplete layer line");
    layer.type = tokens[0];
    layer.name = tokens[1];
    if (!std::binary_search(known.begin(), known.end(), layer.type)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(origin, "line " + std::to_string(line_no) + ": unknown layer type '" + layer.type.substr(0, 64) +
                       "' (supported: " + list + ")");
    }
    const int ni = parse_count(tokens[2], origin, line_no, 1024), no = parse_count(tokens[3], origin, line_no, 1024);
    if (tokens.size() < static_cast<std::size_t>(4 + ni + no))
      fail(origin, "line " + std::to_string(line_no) + ": layer '" + layer.name + "' lists fewer blobs than its counts");
    for (int i = 0; i < ni + no; ++i) (i < ni ? layer.inputs : layer.outputs).push_back(tokens[4 + i]);
    for (const auto& b : layer.inputs)
      if (!produced.count(b)) fail(origin, "line " + std::to_string(line_no) + ": layer '" + layer.name + "' reads blob '" + b + "' before any layer produces it");
    for (const auto& b : layer.outputs)
      if (!produced.insert(b).second) fail(origin, "line " + std::to_string(line_no) + ": blob '" + b + "' is produced twice");
    for (std::size_t t = 4 + ni + no; t < tokens.size(); ++t) parse_param_token(tokens[t], layer, origin, line_no);
    g.layers.push_back(std::move(layer));
    if (static_cast<int>(g.layers.size()) > layer_count) break;
  }
  if (static_cast<int>(g.layers.size()) != layer_count)
    fail(origin, "header says " + std::to_string(layer_count) + " layers, the file has " +
                     (static_cast<int>(g.layers.size()) > layer_count ? "more" : std::to_string(g.layers.size())));
  if (static_cast<int>(produced.size()) != blob_count)
    fail(origin, "header says " + std::to_string(blob_count) + " blobs, the layers produce " + std::to_string(produced.size()));
  return g;
}

}  // namespace yamiro::ncnn
