// End-to-end: disk and permission faults while writing outputs. A full disk, a file size
// limit and a read-only folder must each give one error line naming the output and the
// reason, exit 1, and leave neither a partial output nor a temporary file (SPEC §5, §8).
// The tests run as root, where permission bits do not stop writes: they mount a tiny or
// read-only tmpfs (and skip, saying so, where mounting is not allowed) and use
// RLIMIT_FSIZE in the child, which needs no privilege.
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>

#include "e2e/harness.hpp"
#include "e2e/spawn.hpp"

using namespace e2e;
namespace fs = std::filesystem;

namespace {

// A mount that is always undone, even when an assertion fails.
class Mount {
 public:
  Mount(const fs::path& target, const char* source, const char* type, unsigned long flags, const char* data)
      : target_(target) {
    fs::create_directories(target);
    if (::mount(source, target.c_str(), type, flags, data) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~Mount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  // Makes an existing bind mount read-only.
  bool remount_read_only() {
    if (::mount(nullptr, target_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0) return true;
    error_ = std::strerror(errno);
    return false;
  }
  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path target_;
  bool mounted_ = false;
  std::string error_;
};

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

class Faults : public Cli {
 protected:
  // A noisy 96x80 photo: its x4 output compresses badly, so it needs hundreds of KiB.
  std::string noisy_input() {
    cv::Mat img(80, 96, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    const std::string p = path("noisy.png");
    cv::imwrite(p, img);
    return p;
  }

  Spawned upscale(const std::string& input, const std::string& output, long fsize_limit = -1) {
    Spawned s{{kBin, "-q", "upscale", input, "-o", output, "-m", kFixtures + "/compact-x4-nc4-nf16.param", "--tile", "0"},
              path("stdout.txt"), path("stderr.txt"), fsize_limit};
    return run_one(s);
  }

  // The clean failure every fault must give.
  static void expect_clean_failure(const Spawned& r, const std::string& output, const std::string& reason) {
    ASSERT_FALSE(r.signaled()) << output << ": killed by signal " << WTERMSIG(r.status);
    EXPECT_EQ(r.code(), 1) << r.err();
    EXPECT_EQ(count_lines(r.err()), 1) << r.err();
    EXPECT_TRUE(contains(r.err(), fs::path(output).parent_path().string())) << "error does not name the output: " << r.err();
    EXPECT_TRUE(contains(r.err(), reason)) << "expected '" << reason << "' in: " << r.err();
    EXPECT_FALSE(fs::exists(output)) << output << " was left behind";
  }
};

}  // namespace

TEST_F(Faults, FullDiskLeavesNoPartialFile) {
  Mount disk(dir_ / "full", "yamiro-test", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k");
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a 64 KiB tmpfs here (" << disk.error() << "); needs root or CAP_SYS_ADMIN";
  const std::string input = noisy_input();
  for (const std::string ext : {"png", "jpg", "webp", "tif", "f32"}) {
    const std::string output = (dir_ / "full" / ("o." + ext)).string();
    const Spawned r = upscale(ext == "f32" ? kFixtures + "/rgb48x60.png" : input, output);
    expect_clean_failure(r, output, "No space left on device");
    EXPECT_TRUE(files_in(dir_ / "full").empty()) << ext << ": a temporary file was left behind";
  }
  // The same folder works once the output fits: the failure was the disk, not the folder.
  const std::string small = (dir_ / "full" / "small.jpg").string();
  cv::Mat tiny;
  cv::resize(cv::imread(kFixtures + "/rgb48x60.png"), tiny, cv::Size(12, 10));
  cv::imwrite(path("tiny.png"), tiny);
  EXPECT_EQ(upscale(path("tiny.png"), small).code(), 0);
  EXPECT_EQ(cv::imread(small).cols, 48);
}

TEST_F(Faults, FileSizeLimitLeavesNoPartialFile) {
  const std::string input = noisy_input();
  fs::create_directories(dir_ / "out");
  for (const std::string ext : {"png", "jpg", "tif", "f32"}) {
    const std::string output = (dir_ / "out" / ("o." + ext)).string();
    const Spawned r = upscale(ext == "f32" ? kFixtures + "/rgb48x60.png" : input, output, 16 * 1024);
    expect_clean_failure(r, output, "File too large");
    EXPECT_TRUE(files_in(dir_ / "out").empty()) << ext << ": a temporary file was left behind";
  }
}

TEST_F(Faults, ReadOnlyFolderGivesAClearError) {
  fs::create_directories(dir_ / "photos");
  fs::copy_file(kFixtures + "/rgb48x60.png", dir_ / "photos" / "photo.png");
  Mount ro(dir_ / "ro", (dir_ / "photos").c_str(), nullptr, MS_BIND, nullptr);
  if (!ro.ok() || !ro.remount_read_only())
    GTEST_SKIP() << "cannot make a read-only bind mount here (" << ro.error() << "); needs root or CAP_SYS_ADMIN";
  // Into the folder, beside the input (default name), and into a sub-folder to create.
  const std::string output = (dir_ / "ro" / "o.png").string();
  expect_clean_failure(upscale((dir_ / "ro" / "photo.png").string(), output), output, "Read-only file system");
  const Spawned beside = run_one({{kBin, "-q", "upscale", (dir_ / "ro" / "photo.png").string(), "-m",
                                   kFixtures + "/compact-x4-nc4-nf16.param"},
                                  path("stdout.txt"), path("stderr.txt")});
  expect_clean_failure(beside, (dir_ / "ro" / "photo_x4.png").string(), "Read-only file system");
  const Spawned sub = run_one({{kBin, "-q", "upscale", (dir_ / "ro").string(), "-o", (dir_ / "ro" / "up").string(), "-m",
                                kFixtures + "/compact-x4-nc4-nf16.param"},
                               path("stdout.txt"), path("stderr.txt")});
  ASSERT_FALSE(sub.signaled());
  EXPECT_EQ(sub.code(), 1) << sub.err();
  EXPECT_TRUE(contains(sub.err(), "Read-only file system")) << sub.err();
  EXPECT_EQ(files_in(dir_ / "photos"), std::vector<std::string>{"photo.png"});
}

// Needs no privilege: /proc refuses new files for everyone.
TEST_F(Faults, UnwritableFolderGivesAClearError) {
  const std::string output = "/proc/yamiro-test-output.png";
  const Spawned r = upscale(kFixtures + "/rgb48x60.png", output);
  ASSERT_FALSE(r.signaled());
  EXPECT_EQ(r.code(), 1) << r.err();
  EXPECT_EQ(count_lines(r.err()), 1) << r.err();
  EXPECT_TRUE(contains(r.err(), "/proc")) << r.err();
  EXPECT_TRUE(contains(r.err(), "cannot create")) << r.err();
  EXPECT_FALSE(fs::exists(output));
}

// A stage that raises something other than a yamiro::Error (here std::bad_alloc from the
// encoder once the temporary file is started, and a std::runtime_error in the decoder
// thread; YAMIRO_TEST_FAULT injects them) fails that input with one line naming it, exit
// 1, no temporary file, and the process neither aborts nor hangs.
TEST_F(Faults, AWorkerThrowingANonYamiroExceptionFailsThatInputCleanly) {
  fs::create_directories(dir_ / "in");
  fs::create_directories(dir_ / "out");
  cv::Mat tiny;
  cv::resize(cv::imread(kFixtures + "/rgb48x60.png"), tiny, cv::Size(12, 10));
  cv::imwrite((dir_ / "in" / "a.png").string(), tiny);
  for (const std::string fault : {"encode", "decode"}) {
    for (const std::string mode : {"", " --sequential"}) {
      const std::string output = (dir_ / "out" / "a.png").string();
      const Result r = yamiro("-q upscale " + (dir_ / "in" / "a.png").string() + " -o " + output + kTiny + mode,
                              "YAMIRO_TEST_FAULT=" + fault);
      EXPECT_EQ(r.code, 1) << fault << mode << ": " << r.err;
      EXPECT_EQ(count_lines(r.err), 1) << r.err;
      EXPECT_TRUE(contains(r.err, fault == "encode" ? "out of memory" : "injected decoder failure")) << r.err;
      EXPECT_TRUE(contains(r.err, fault == "encode" ? output : (dir_ / "in" / "a.png").string())) << r.err;
      EXPECT_TRUE(files_in(dir_ / "out").empty()) << fault << mode << ": something was left in the output folder";
    }
  }
  // Without the fault the same command works.
  EXPECT_EQ(yamiro("-q upscale " + (dir_ / "in" / "a.png").string() + " -o " + (dir_ / "out" / "a.png").string() + kTiny).code, 0);
}
