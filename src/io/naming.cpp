#include "yamiro/naming.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "yamiro/error.hpp"

namespace fs = std::filesystem;

namespace yamiro {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const std::vector<std::string> kReadable = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"};
const std::vector<std::string> kWritable = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"};

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

bool is_image_path(const std::string& path) { return contains(kReadable, lower_extension(path)); }
bool is_writable_image_path(const std::string& path) { return contains(kWritable, lower_extension(path)); }

std::vector<InputItem> collect_inputs(const std::vector<std::string>& args, bool recursive) {
  std::vector<InputItem> items;
  for (const auto& arg : args) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) {
      items.push_back({arg, ""});
      continue;
    }
    std::vector<InputItem> found;
    auto take = [&](const fs::directory_entry& e) {
      const std::string name = e.path().filename().string();
      if (name.empty() || name[0] == '.' || !e.is_regular_file(ec) || !is_image_path(name)) return;
      found.push_back({e.path().string(), fs::relative(e.path().parent_path(), arg, ec).lexically_normal().string()});
      if (found.back().relative_dir == ".") found.back().relative_dir.clear();
    };
    if (recursive) {
      for (auto it = fs::recursive_directory_iterator(arg, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_directory(ec) && it->path().filename().string()[0] == '.') {
          it.disable_recursion_pending();  // hidden folders (.git, .thumbnails)
          continue;
        }
        take(*it);
      }
    } else {
      for (const auto& e : fs::directory_iterator(arg, ec)) take(e);
    }
    std::sort(found.begin(), found.end(), [](const InputItem& a, const InputItem& b) { return a.path < b.path; });
    items.insert(items.end(), found.begin(), found.end());
  }
  return items;
}

std::string default_suffix(double scale) {
  std::ostringstream s;
  s << "_x" << std::setprecision(6) << scale;
  return s.str();
}

std::string output_extension(const std::string& input, const NamingOptions& o) {
  if (!o.output.empty() && !o.output_is_dir) {
    const std::string e = lower_extension(o.output);
    if (!contains(kWritable, e) && e != ".f32")
      throw Error(ErrorKind::Usage, o.output + ": unknown output format '" + e + "' (png, jpg, webp, tif)");
    return e;
  }
  if (!o.format.empty()) {
    std::string e = "." + lower(o.format);
    if (!contains(kWritable, e)) throw Error(ErrorKind::Usage, "unknown --format '" + o.format + "' (png, jpg, webp, tif)");
    return e;
  }
  const std::string e = lower_extension(input);
  return contains(kWritable, e) ? e : ".png";
}

std::string output_path(const InputItem& item, const NamingOptions& o) {
  const std::string ext = output_extension(item.path, o);
  if (!o.output.empty() && !o.output_is_dir) return o.output;
  const fs::path in(item.path);
  const std::string name = in.stem().string() + (o.suffix.empty() ? default_suffix(o.scale) : o.suffix) + ext;
  if (o.output.empty()) return (in.parent_path() / name).string();
  return (fs::path(o.output) / item.relative_dir / name).lexically_normal().string();
}

bool in_shard(const std::string& path, int shard, int shards) {
  if (shards < 1 || shard < 0 || shard >= shards) throw Error(ErrorKind::Usage, "--shard must be I/N with 0 <= I < N");
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across runs and machines
  for (unsigned char c : path) h = (h ^ c) * 1099511628211ull;
  return static_cast<int>(h % static_cast<std::uint64_t>(shards)) == shard;
}

}  // namespace yamiro
