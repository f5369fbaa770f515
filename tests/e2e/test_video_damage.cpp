// End-to-end: streams that change under yamiro's feet (issue 15, "Bad input"): a transport
// stream whose resolution changes part-way, and one cut off in the middle of a frame. Both
// must be handled and reported on the real binary, never a crash or a half-written file.
#include <fstream>

#include "e2e/harness.hpp"
#include "e2e/video_clips.hpp"

using namespace e2e;

namespace {

const std::string kFast = kTiny + " --precision fp32 --tile 0 --codec ffv1 ";

const int kQuietLibav = [] {
  av_log_set_level(AV_LOG_QUIET);
  return 0;
}();

void paint(int index, AVFrame* f) {
  for (int y = 0; y < f->height; ++y)
    for (int x = 0; x < f->width; ++x) f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(16 + (x * 5 + y * 3 + index * 11) % 200);
  for (int p = 1; p < 3; ++p)
    for (int y = 0; y < f->height / 2; ++y)
      for (int x = 0; x < f->width / 2; ++x) f->data[p][y * f->linesize[p] + x] = static_cast<std::uint8_t>(120 + (x + y + index) % 16);
}

// An H.264 transport stream of `frames` frames at w×h, 25 fps, starting at `start_ms`.
std::string ts_clip(const std::string& path, int frames, int w, int h, std::int64_t start_ms) {
  ClipSpec s;
  s.width = w;
  s.height = h;
  s.codec = "libx264";
  for (int i = 0; i < frames; ++i) s.pts.push_back(start_ms + 40 * i);
  make_clip(path, s, paint);
  return read_file(path);
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class VideoDamage : public Cli {};

TEST_F(VideoDamage, ResolutionChangeMidStreamIsScaledToTheFirstSizeAndReported) {
  // Two clips back to back in one stream: 32×24 for 10 frames, then 48×32 for 10 frames.
  const std::string a = ts_clip(path("a.ts"), 10, 32, 24, 0);
  const std::string b = ts_clip(path("b.ts"), 10, 48, 32, 400);
  write_bytes(path("both.ts"), a + b);
  const auto r = yamiro("video " + path("both.ts") + " -o " + path("out.mkv") + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("frame size changed to 48x32"), std::string::npos) << r.err;
  const VideoFacts out = read_video(path("out.mkv"));
  EXPECT_EQ(out.width, 128);
  EXPECT_EQ(out.height, 96);
  EXPECT_EQ(out.frames(), read_video(path("both.ts")).frames());
  EXPECT_GE(out.frames(), 18);  // both halves came through
  for (std::size_t i = 1; i < out.times.size(); ++i) EXPECT_GT(out.times[i], out.times[i - 1]) << "frame " << i;
}

TEST_F(VideoDamage, StreamCutMidFrameKeepsEveryWholeFrameAndExitsCleanly) {
  const std::string whole = ts_clip(path("whole.ts"), 20, 32, 24, 0);
  // Cut at an odd byte past the middle: inside a TS packet and inside a frame's payload.
  write_bytes(path("cut.ts"), whole.substr(0, whole.size() * 3 / 5 + 101));
  const int readable = read_video(path("cut.ts")).frames();
  ASSERT_GT(readable, 0);
  ASSERT_LT(readable, 20);
  const auto r = yamiro("video " + path("cut.ts") + " -o " + path("out.mkv") + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  const VideoFacts out = read_video(path("out.mkv"));
  EXPECT_EQ(out.frames(), readable) << r.err;
  EXPECT_EQ(out.width, 128);
  // A file cut short from the start: nothing to decode is an error naming the file, and no
  // output is left behind.
  write_bytes(path("stub.ts"), whole.substr(0, 150));
  const auto s = yamiro("video " + path("stub.ts") + " -o " + path("stub.mkv") + kFast);
  EXPECT_NE(s.code, 0);
  EXPECT_NE(s.err.find("stub.ts"), std::string::npos) << s.err;
  EXPECT_FALSE(fs::exists(path("stub.mkv")));
}

}  // namespace
