// End-to-end: every image and model file of the test data, truncated at several offsets
// and with bytes flipped, through the real binary. Each must either work (a flipped
// pixel or weight byte can leave a valid file) or fail cleanly: the documented exit code,
// one error line naming the file, no signal, nothing under the final output name and no
// temporary file left behind (SPEC §8, §10).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>

#include "e2e/harness.hpp"
#include "e2e/spawn.hpp"

using namespace e2e;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

Bytes slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void spit(const fs::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

struct Variant {
  std::string tag;  // "t120" truncated to 120 bytes, "f33" byte 33 flipped, "s97" every 97th byte flipped
  Bytes bytes;
};

// Truncations (headers, early structure, the middle, the last byte) and bit flips at
// the same places. `dense` adds more cut points for files that are cheap to try.
std::vector<Variant> variants(const Bytes& b, bool dense) {
  const std::size_t n = b.size();
  std::set<std::size_t> cuts = {0, 16, n / 4, n / 2, n - 1};
  std::set<std::size_t> flips = {4, 20, n / 3, n / 2};
  if (dense) {
    cuts.insert({1, 4, 8, 12, 24, 33, 64, 100, n / 8, 3 * n / 4, n - 16});
    flips.insert({0, 1, 8, 12, 16, 24, 28, 33, 40, 64, 100, n / 8, 2 * n / 3, n - 4, n - 1});
  }
  std::vector<Variant> out;
  for (const std::size_t c : cuts)
    if (c < n) out.push_back({"t" + std::to_string(c), Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(c))});
  for (const std::size_t f : flips)
    if (f < n) {
      Variant v{"f" + std::to_string(f), b};
      v.bytes[f] ^= 0xFF;
      out.push_back(std::move(v));
    }
  Variant scattered{"s97", b};
  for (std::size_t i = 7; i < n; i += 97) scattered.bytes[i] ^= 0x5A;
  out.push_back(std::move(scattered));
  return out;
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// Files starting with '.' (yamiro's temporaries) anywhere under `dir`.
std::vector<std::string> hidden_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string()[0] == '.') out.push_back(e.path().string());
  return out;
}

class Malformed : public Cli {
 protected:
  // Small images of every readable format, made from the fixture photo, plus real files.
  std::vector<fs::path> sample_images() {
    const fs::path src = dir_ / "src";
    fs::create_directories(src);
    cv::Mat rgb = cv::imread(kFixtures + "/rgb48x60.png", cv::IMREAD_COLOR), small, gray, rgba, deep;
    cv::resize(rgb, small, cv::Size(24, 20), 0, 0, cv::INTER_AREA);
    cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);
    cv::cvtColor(small, rgba, cv::COLOR_BGR2BGRA);
    small.convertTo(deep, CV_16U, 257.0);
    std::vector<fs::path> files = {kFixtures + "/rgb48x60.png"};
    const std::pair<const char*, const cv::Mat*> made[] = {
        {"rgb.jpg", &small}, {"rgb.webp", &small}, {"rgb.tif", &small}, {"rgb.bmp", &small},
        {"gray.png", &gray}, {"rgba.png", &rgba}, {"deep.png", &deep}, {"deep.tif", &deep}};
    for (const auto& [name, mat] : made) {
      EXPECT_TRUE(cv::imwrite((src / name).string(), *mat)) << name;
      files.push_back(src / name);
    }
    for (const char* doc : {"templ.png", "LinuxLogo.jpg"}) {
      const fs::path p = fs::path("/usr/share/doc/opencv-doc/examples/data") / doc;
      if (fs::exists(p)) files.push_back(p);
    }
    return files;
  }
};

}  // namespace

// All the damaged images in one folder, one process: per-input results come from --json.
TEST_F(Malformed, DamagedImagesFailCleanly) {
  const fs::path in = dir_ / "in", out = dir_ / "out";
  fs::create_directories(in);
  int tried = 0;
  for (const fs::path& src : sample_images()) {
    const Bytes bytes = slurp(src);
    ASSERT_FALSE(bytes.empty()) << src;
    for (const Variant& v : variants(bytes, true)) {
      spit(in / (src.stem().string() + "-" + src.extension().string().substr(1) + "." + v.tag + src.extension().string()),
           v.bytes);
      ++tried;
    }
  }
  // A name that is not valid UTF-8 must not break the JSON lines.
  spit(in / "name-\xff\xfe.png", Bytes{0x89, 'P', 'N', 'G'});
  ++tried;
  const Spawned r = run_one({{kBin, "-q", "upscale", in.string(), "-o", out.string(), "--format", "png", "--json", "-m",
                              kFixtures + "/compact-x4-nc4-nf16.param", "--tile", "0"},
                             path("stdout.txt"), path("stderr.txt")});
  ASSERT_FALSE(r.signaled()) << "killed by signal " << WTERMSIG(r.status) << "\n" << r.err();
  EXPECT_EQ(r.code(), 1) << r.err();

  int done = 0, failed = 0;
  std::istringstream lines(r.out());
  std::string line;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("summary")) {
      EXPECT_EQ(j["done"].get<int>() + j["failed"].get<int>(), tried);
      continue;
    }
    const std::string input = j["input"], output = j["output"], status = j["status"];
    if (status == "done") {
      ++done;
      const cv::Mat m = cv::imread(output, cv::IMREAD_UNCHANGED);
      EXPECT_FALSE(m.empty()) << input << " -> " << output;
    } else {
      ++failed;
      EXPECT_EQ(status, "failed") << input;
      EXPECT_FALSE(fs::exists(output)) << input << " left " << output;
      const std::string error = j["error"];
      const std::string name = fs::path(input).filename().string();
      if (name.find('\xff') == std::string::npos) EXPECT_NE(error.find(name), std::string::npos) << error;
    }
  }
  EXPECT_EQ(done + failed, tried);
  EXPECT_GT(failed, tried / 2);  // truncations must not decode
  // stderr: one line per failed input, and the summary line is not printed with -q.
  EXPECT_EQ(count_lines(r.err()), failed) << r.err();
  EXPECT_TRUE(hidden_files(out).empty());
  std::printf("[ malformed ] %d damaged images tried: %d decoded anyway, %d refused cleanly\n", tried, done, failed);
}

// Each damaged model file in its own run (a model is loaded once per run): exit 3 with
// one line naming the file, or a working model; never a signal, never an output file.
TEST_F(Malformed, DamagedModelsFailCleanly) {
  const std::string fx = kFixtures + "/";
  struct Source {
    std::string file;       // the file that gets damaged
    std::string companion;  // ncnn: the other half, copied intact
  };
  const std::vector<Source> sources = {
      {"compact-x4-nc4-nf16.param", "compact-x4-nc4-nf16.bin"},
      {"compact-x4-nc4-nf16.bin", "compact-x4-nc4-nf16.param"},
      {"compact-x2-nc2-nf8.pth", ""},
      {"compact-x2-nc2-nf8.params.pth", ""},
      {"compact-x2-nc2-nf8.bare-legacy.pth", ""},
      {"compact-x2-nc2-nf8.safetensors", ""},
      {"compact-x4-nc4-nf16.torchscript.pt", ""},
  };
  cv::Mat tiny;
  cv::resize(cv::imread(fx + "rgb48x60.png"), tiny, cv::Size(12, 10), 0, 0, cv::INTER_AREA);
  cv::imwrite(path("tiny.png"), tiny);

  std::vector<Spawned> jobs;
  std::vector<std::string> damaged;
  for (const Source& s : sources) {
    const Bytes bytes = slurp(fx + s.file);
    ASSERT_FALSE(bytes.empty()) << s.file;
    for (const Variant& v : variants(bytes, false)) {
      const fs::path d = dir_ / ("m" + std::to_string(jobs.size()));
      fs::create_directories(d / "out");
      const fs::path file = d / s.file;
      spit(file, v.bytes);
      if (!s.companion.empty()) fs::copy_file(fx + s.companion, d / s.companion);
      const std::string model = s.companion.empty() || fs::path(s.file).extension() == ".param"
                                    ? file.string()
                                    : (d / s.companion).string();
      jobs.push_back({{kBin, "-q", "upscale", path("tiny.png"), "-o", (d / "out" / "o.png").string(), "-m", model},
                      (d / "stdout.txt").string(), (d / "stderr.txt").string()});
      damaged.push_back(file.string() + " (" + v.tag + ")");
    }
  }
  run_all(jobs, 2);
  int loaded = 0, refused = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const Spawned& r = jobs[i];
    const fs::path d = fs::path(r.out_path).parent_path();
    ASSERT_FALSE(r.signaled()) << damaged[i] << ": killed by signal " << WTERMSIG(r.status) << "\n" << r.err();
    if (r.code() == 0) {
      ++loaded;
      EXPECT_FALSE(cv::imread((d / "out" / "o.png").string()).empty()) << damaged[i];
      continue;
    }
    ++refused;
    EXPECT_EQ(r.code(), 3) << damaged[i] << ": " << r.err();
    EXPECT_EQ(count_lines(r.err()), 1) << damaged[i] << ": " << r.err();
    EXPECT_NE(r.err().find(d.string()), std::string::npos) << damaged[i] << ": error does not name the file: " << r.err();
    EXPECT_TRUE(fs::is_empty(d / "out")) << damaged[i];
  }
  EXPECT_GT(refused, static_cast<int>(jobs.size()) / 2);
  std::printf("[ malformed ] %zu damaged model files tried: %d loaded anyway, %d refused cleanly\n", jobs.size(), loaded,
              refused);
}

// Decoder chatter (libpng) is a debug line, shown with -v only; yamiro's own direct
// stderr output (bench's table) is not swallowed with it.
TEST_F(Malformed, LibraryChatterOnlyWithVerbose) {
  const Bytes png = slurp(kFixtures + "/rgb48x60.png");
  spit(dir_ / "cut.png", Bytes(png.begin(), png.begin() + 3000));
  const std::vector<std::string> base = {kBin, "upscale", path("cut.png"), "-o", path("o.png"), "-m",
                                         kFixtures + "/compact-x4-nc4-nf16.param"};
  const Spawned quiet = run_one({base, path("stdout.txt"), path("stderr.txt")});
  EXPECT_EQ(quiet.code(), 1);
  EXPECT_EQ(quiet.err().find("libpng"), std::string::npos) << quiet.err();
  std::vector<std::string> verbose = base;
  verbose.insert(verbose.begin() + 1, "-v");
  const Spawned loud = run_one({verbose, path("stdout.txt"), path("stderr.txt")});
  EXPECT_NE(loud.err().find("debug: libpng error"), std::string::npos) << loud.err();
  const Spawned bench = run_one({{kBin, "bench", "--latency", "--sizes", "16", "--repeats", "1", "-m",
                                  kFixtures + "/compact-x4-nc4-nf16.param"},
                                 path("stdout.txt"), path("stderr.txt")});
  EXPECT_NE(bench.err().find("median s"), std::string::npos) << bench.err();
}
