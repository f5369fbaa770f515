// End-to-end: `yamiro video` on real and generated clips; frames, order, timestamps,
// colours, audio, damage, interruption and exit codes are checked with libav.
#include <signal.h>
#include <spawn.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "e2e/harness.hpp"
#include "e2e/video_clips.hpp"

extern char** environ;

using namespace e2e;

namespace {

const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";
// The x2 fixture with fp32 and no tiles is the cheapest network on a 720x528 frame.
const std::string kFast = " -m " + kFixtures + "/compact-x2-nc2-nf8.safetensors --precision fp32 --tile 0 ";

// Frame i carries i in 8 bars (bit 7 first) across its top half: black 0, white 1.
void paint_counter(int index, AVFrame* f) {
  for (int y = 0; y < f->height; ++y)
    for (int x = 0; x < f->width; ++x) {
      const int bit = x * 8 / f->width;
      f->data[0][y * f->linesize[0] + x] = y < f->height / 2 ? ((index >> (7 - bit)) & 1 ? 235 : 16) : 126;
    }
  for (int p = 1; p < 3; ++p)
    for (int y = 0; y < f->height / 2; ++y) std::memset(f->data[p] + y * f->linesize[p], 128, f->width / 2);
}

// libav's own chatter (x264's statistics) is not the test's output.
const int kQuietLibav = [] {
  av_log_set_level(AV_LOG_ERROR);
  return 0;
}();

int read_counter(const AVFrame* f) {
  int v = 0;
  for (int bit = 0; bit < 8; ++bit) {
    const int x0 = bit * f->width / 8 + f->width / 32, w = f->width / 16;
    v = v * 2 + (plane_mean(f, 0, x0, f->height / 8, w, f->height / 4) > 126 ? 1 : 0);
  }
  return v;
}

// The summary: the last line (progress lines, one a second, come before it).
nlohmann::json json_line(const fs::path& p) {
  std::ifstream f(p);
  std::string line, last;
  while (std::getline(f, line))
    if (!line.empty()) last = line;
  return nlohmann::json::parse(last);
}

class Video : public Cli {
 protected:
  // No temporary file may be left beside an output.
  int hidden_files() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) n += e.path().filename().string()[0] == '.';
    return n;
  }
};

}  // namespace

TEST_F(Video, MegamindKeepsEveryFrameItsDurationAndItsAudio) {
  const std::string in = kData + "Megamind.avi";
  ASSERT_TRUE(fs::exists(in)) << "opencv-doc is not installed";
  const auto r = yamiro("-q video " + in + " -o " + path("m.mp4") + kFast + "--outscale 1 --preset ultrafast --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const VideoFacts src = read_video(in), out = read_video(path("m.mp4"));
  ASSERT_GT(src.frames(), 100);
  EXPECT_EQ(out.frames(), src.frames());
  EXPECT_EQ(out.missing_timestamps, 0) << "every output frame has its timestamp";
  EXPECT_EQ(out.width, 720);
  EXPECT_EQ(out.height, 528);
  EXPECT_NEAR(out.duration(), src.duration(), src.frame_duration);
  for (std::size_t i = 0; i < src.times.size() && i < out.times.size(); ++i)
    ASSERT_NEAR(out.times[i] - out.times[0], src.times[i] - src.times[0], 1e-3) << "frame " << i;
  // The AC-3 audio is copied (MP4 takes it) and lasts as long as the original.
  ASSERT_EQ(out.audio_streams, 1);
  EXPECT_EQ(out.audio_codec, "ac3");
  EXPECT_NEAR(out.audio_duration, src.audio_duration, 0.05);
  const auto j = json_line(dir_ / "stdout.txt");
  EXPECT_EQ(j["frames"], src.frames());
  EXPECT_EQ(j["damaged_frames"], 0);
  EXPECT_EQ(j["audio"]["copied"], 1);
  EXPECT_EQ(hidden_files(), 0);
}

TEST_F(Video, FramesStayInOrderWithTheirVariableTimestamps) {
  ClipSpec spec;
  spec.pts = {0, 40, 80, 200, 240, 500, 520, 540, 1000, 1033, 1100, 1500};  // ms: variable frame rate
  spec.title = "yamiro test clip";
  make_clip(path("vfr.mkv"), spec, paint_counter);
  ASSERT_EQ(read_video(path("vfr.mkv")).frames(), 12);
  const auto r = yamiro("-q video " + path("vfr.mkv") + " -o " + path("out.mkv") + " --codec ffv1" + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<int> counters;
  const VideoFacts out = read_video(path("out.mkv"), [&](const AVFrame* f) { counters.push_back(read_counter(f)); });
  EXPECT_EQ(out.width, 128);
  EXPECT_EQ(out.height, 96);
  EXPECT_EQ(out.title, "yamiro test clip") << "stream metadata is kept";
  ASSERT_EQ(out.frames(), 12);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(counters[i], i) << "frame " << i << " is out of order";
    EXPECT_NEAR(out.times[i], spec.pts[i] / 1000.0, 1e-3) << "frame " << i;
  }
  // --frames N: the first N, same timestamps.
  ASSERT_EQ(yamiro("-q video " + path("vfr.mkv") + " -o " + path("five.mkv") + " --codec ffv1 --frames 5" + kFast).code, 0);
  const VideoFacts five = read_video(path("five.mkv"));
  ASSERT_EQ(five.frames(), 5);
  EXPECT_NEAR(five.times[4], 0.240, 1e-3);
}

TEST_F(Video, RotationAspectRatioAndMetadataAreKept) {
  ClipSpec spec;
  spec.codec = "libx264";
  spec.time_base = {1, 25};
  spec.pts = {0, 1, 2, 3};
  spec.sar = {4, 3};
  spec.rotation = 90;
  make_clip(path("tagged.mp4"), spec, paint_counter);
  const VideoFacts in = read_video(path("tagged.mp4"));
  ASSERT_EQ(in.sar.num * 3, in.sar.den * 4);
  ASSERT_NEAR(std::fabs(in.rotation), 90, 0.01);
  const auto r = yamiro("-q video " + path("tagged.mp4") + " -o " + path("out.mp4") + " --preset ultrafast" + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  const VideoFacts out = read_video(path("out.mp4"));
  EXPECT_EQ(out.frames(), 4);
  EXPECT_EQ(out.width, 128);
  EXPECT_EQ(out.sar.num * 3, out.sar.den * 4) << out.sar.num << ":" << out.sar.den;
  EXPECT_NEAR(out.rotation, in.rotation, 0.01);
  EXPECT_EQ(out.space, AVCOL_SPC_BT709);
}

TEST_F(Video, Bt709AndBt601KeepTheirColours) {
  const double Y = 120, U = 100, V = 180;  // a saturated orange: the two matrices differ by ~12 levels of red
  for (const AVColorSpace space : {AVCOL_SPC_BT709, AVCOL_SPC_SMPTE170M}) {
    SCOPED_TRACE(space == AVCOL_SPC_BT709 ? "bt709" : "bt601");
    ClipSpec spec;
    spec.space = space;
    spec.pts = {0, 1, 2};
    spec.time_base = {1, 25};
    make_clip(path("flat.mkv"), spec, [&](int, AVFrame* f) {
      for (int p = 0; p < 3; ++p)
        for (int y = 0; y < (p ? f->height / 2 : f->height); ++y)
          std::memset(f->data[p] + y * f->linesize[p], p == 0 ? Y : p == 1 ? U : V, p ? f->width / 2 : f->width);
    });
    // The reference: the same colour as an RGB image through `yamiro upscale`, same model.
    double rgb[3];
    yuv_to_rgb(Y, U, V, space, rgb);
    cv::Mat img(spec.height, spec.width, CV_8UC3, cv::Scalar(std::lround(rgb[2]), std::lround(rgb[1]), std::lround(rgb[0])));
    cv::imwrite(path("flat.png"), img);
    ASSERT_EQ(yamiro("-q upscale " + path("flat.png") + " -o " + path("flat_x2.png") + " --overwrite" + kFast).code, 0);
    const cv::Mat ref = cv::imread(path("flat_x2.png"));
    const cv::Scalar want = cv::mean(ref(cv::Rect(32, 24, 64, 48)));

    fs::remove(path("out.mkv"));
    const auto r = yamiro("-q video " + path("flat.mkv") + " -o " + path("out.mkv") + " --crf 0" + kFast);
    ASSERT_EQ(r.code, 0) << r.err;
    double got[3] = {};
    const VideoFacts out = read_video(path("out.mkv"), [&](const AVFrame* f) {
      yuv_to_rgb(plane_mean(f, 0, 32, 24, 64, 48), plane_mean(f, 1, 16, 12, 32, 24), plane_mean(f, 2, 16, 12, 32, 24), space, got);
    });
    EXPECT_EQ(out.space, space) << "the output keeps the input's colour tag";
    EXPECT_EQ(out.range, AVCOL_RANGE_MPEG);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[c], want[2 - c], 2.0) << "channel " << c;
  }
}

// Megamind_bugy.avi is OpenCV's "buggy" AVI (30 fps header, no audio); libav decodes all
// of it without an error, so the damage here is made: random bytes over three places
// in its first frames, which the MPEG-4 decoder conceals.
TEST_F(Video, DamagedFileIsReportedAndStrictFailsIt) {
  const std::string bugy = kData + "Megamind_bugy.avi";
  ASSERT_TRUE(fs::exists(bugy)) << "opencv-doc is not installed";
  auto r = yamiro("--no-progress video " + bugy + " -o " + path("clean.mkv") + kFast + "--outscale 0.25 --frames 6 --preset ultrafast --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json_line(dir_ / "stdout.txt")["damaged_frames"], 0);

  std::ifstream src(bugy, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  std::uint32_t seed = 6;
  for (const std::size_t at : {14000u, 24000u, 34000u})
    for (std::size_t i = at; i < at + 1500; ++i) bytes[i] = static_cast<char>((seed = seed * 1664525u + 1013904223u) >> 24);
  std::ofstream(path("damaged.avi"), std::ios::binary) << bytes;

  r = yamiro("--no-progress video " + path("damaged.avi") + " -o " + path("d.mkv") + kFast + "--outscale 0.25 --frames 16 --preset ultrafast --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = json_line(dir_ / "stdout.txt");
  EXPECT_GT(j["damaged_frames"].get<int>(), 0) << j.dump();
  EXPECT_NE(r.err.find("damaged frames"), std::string::npos) << r.err;
  EXPECT_EQ(j["frames"], 16) << "damaged frames are concealed and kept, not dropped";
  EXPECT_EQ(read_video(path("d.mkv")).frames(), 16);

  r = yamiro("-q video " + path("damaged.avi") + " -o " + path("strict.mkv") + kFast + "--outscale 0.25 --frames 16 --preset ultrafast --strict");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("damaged.avi"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--strict"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(path("strict.mkv")));
  EXPECT_EQ(hidden_files(), 0);
}

// Starts yamiro on Megamind.avi with `model`, sends SIGINT once encoding is under way and
// returns the seconds it took to exit; checks exit 130 and that no file is left.
double interrupt_run(const fs::path& dir, const std::string& model) {
  const std::string out = (dir / "m.mkv").string();
  std::vector<std::string> args = {kBin, "-q", "video", kData + "Megamind.avi", "-o", out, "-m", model};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, kBin.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  auto hidden = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string()[0] == '.';
    return n;
  };
  // Wait until the pipeline runs (its temporary file is there), then let the network work.
  const auto t0 = std::chrono::steady_clock::now();
  while (hidden() == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(hidden(), 1);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(kill(pid, SIGINT), 0);
  const auto sent = std::chrono::steady_clock::now();
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(hidden(), 0) << "the temporary file is removed";
  return secs;
}

TEST_F(Video, TruncatedFileKeepsWhatCanBeDecodedAndSaysSo) {
  const std::string bugy = kData + "Megamind_bugy.avi";
  ASSERT_TRUE(fs::exists(bugy)) << "opencv-doc is not installed";
  std::ifstream src(bugy, std::ios::binary);
  std::string bytes(30000, '\0');
  src.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::ofstream(path("cut.avi"), std::ios::binary) << bytes;
  const auto r = yamiro("--no-progress video " + path("cut.avi") + " -o " + path("cut.mkv") + kFast + "--outscale 0.25 --preset ultrafast --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = json_line(dir_ / "stdout.txt");
  EXPECT_GT(j["frames"].get<int>(), 0);
  EXPECT_GE(j["broken_packets"].get<int>() + j["damaged_frames"].get<int>(), 1) << j.dump();
  EXPECT_EQ(read_video(path("cut.mkv")).frames(), j["frames"].get<int>());
  // Only the header: one line, exit 1, no file.
  std::ofstream(path("head.avi"), std::ios::binary) << bytes.substr(0, 6000);
  const auto h = yamiro("-q video " + path("head.avi") + " -o " + path("head.mkv") + kFast);
  EXPECT_EQ(h.code, 1);
  EXPECT_NE(h.err.find("head.avi: "), std::string::npos) << h.err;
  EXPECT_EQ(std::count(h.err.begin(), h.err.end(), '\n'), 1) << h.err;
  EXPECT_FALSE(fs::exists(path("head.mkv")));
}

TEST_F(Video, InterruptStopsWithinASecondAndLeavesNoFile) {
  ASSERT_TRUE(fs::exists(kData + "Megamind.avi")) << "opencv-doc is not installed";
  // Small tiles: the pipeline unwinds cleanly at the next tile.
  EXPECT_LT(interrupt_run(dir_, kFixtures + "/compact-x2-nc2-nf8.safetensors"), 1.0);
  // A real model's tile takes seconds on a small CPU: the deadline ends the run anyway.
  if (!have_real_models()) GTEST_SKIP() << "run scripts/fetch-models.sh for the realesrgan-x4fast case";
  EXPECT_LT(interrupt_run(dir_, "realesrgan-x4fast"), 1.0);
}

TEST_F(Video, AudioIsTranscodedOrDroppedOnRequest) {
  const std::string in = kData + "Megamind.avi";
  ASSERT_TRUE(fs::exists(in)) << "opencv-doc is not installed";
  auto r = yamiro("-q video " + in + " -o " + path("aac.mp4") + kFast + "--outscale 0.25 --frames 24 --audio aac --preset ultrafast");
  ASSERT_EQ(r.code, 0) << r.err;
  VideoFacts v = read_video(path("aac.mp4"));
  EXPECT_EQ(v.frames(), 24);
  ASSERT_EQ(v.audio_streams, 1);
  EXPECT_EQ(v.audio_codec, "aac");
  EXPECT_NEAR(v.audio_duration, v.duration(), 0.25);  // cut with the video, to an AAC frame or a packet
  r = yamiro("-q video " + in + " -o " + path("none.mkv") + kFast + "--outscale 0.25 --frames 3 --audio none --preset ultrafast");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_video(path("none.mkv")).audio_streams, 0);
}

TEST_F(Video, SubtitlesAreCopiedWhereTheContainerTakesThemElseDroppedWithAWarning) {
  ClipSpec spec;
  spec.pts = {0, 40, 80};
  spec.subtitle = true;
  make_clip(path("sub.mkv"), spec, paint_counter);
  ASSERT_EQ(read_video(path("sub.mkv")).subtitle_streams, 1);
  auto r = yamiro("-q video " + path("sub.mkv") + " -o " + path("out.mkv") + " --preset ultrafast --json" + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_video(path("out.mkv")).subtitle_streams, 1);
  EXPECT_EQ(json_line(dir_ / "stdout.txt")["subtitles"]["copied"], 1);
  r = yamiro("video " + path("sub.mkv") + " -o " + path("out.mp4") + " --preset ultrafast" + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("subtitle stream 1 dropped"), std::string::npos) << r.err;
  const VideoFacts mp4 = read_video(path("out.mp4"));
  EXPECT_EQ(mp4.subtitle_streams, 0);
  EXPECT_EQ(mp4.frames(), 3);
}

TEST_F(Video, BadInputsAndOptionsGiveOneLineAndTheDocumentedExitCode) {
  std::ofstream(path("notes.mp4")) << "this is not a video at all";
  auto r = yamiro("video " + path("notes.mp4") + " -o " + path("o.mkv") + kFast);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("notes.mp4: not a video"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;  // model line + the error
  r = yamiro("-q video " + path("missing.mp4") + " -o " + path("o.mkv") + kFast);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.mp4: cannot open"), std::string::npos) << r.err;
  // Frame size checked before decoding.
  r = yamiro("-q video " + kData + "Megamind.avi -o " + path("o.mkv") + " --max-pixels 100000" + kFast);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("720x528 frames exceed the limit"), std::string::npos) << r.err;
  const std::string clip = kData + "Megamind.avi -o " + path("o.mkv") + kFast + "--frames 1 ";
  EXPECT_EQ(yamiro("-q video " + clip + "--codec nosuchcodec").code, 2);
  EXPECT_EQ(yamiro("-q video " + clip + "--audio mp3").code, 2);
  EXPECT_EQ(yamiro("-q video " + clip + "--encoder-opt novalue").code, 2);
  EXPECT_EQ(yamiro("-q video " + clip + "--encoder-opt nosuchoption=1").code, 2);
  EXPECT_EQ(yamiro("-q video " + clip + "--pix-fmt rgb48be").code, 2);
  EXPECT_EQ(yamiro("-q video " + kData + "Megamind.avi -o " + path("o.txt") + kFast).code, 2);
  EXPECT_FALSE(fs::exists(path("o.mkv")));
  EXPECT_EQ(hidden_files(), 0);
}
