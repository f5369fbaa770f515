// Built without FFmpeg: the video command reports that it is not available.
#include "yamiro/error.hpp"
#include "yamiro/video.hpp"

namespace yamiro {

VideoResult upscale_video(const std::string&, const std::string&, Engine&, const VideoOptions&, VideoProgress&) {
  throw Error(ErrorKind::Usage, "video is not built in (yamiro was configured with YAMIRO_WITH_FFMPEG=OFF)");
}

SegmentInfo plan_segment(const std::string&, const VideoOptions&) {
  throw Error(ErrorKind::Usage, "video is not built in (yamiro was configured with YAMIRO_WITH_FFMPEG=OFF)");
}
bool segment_complete(const std::string&, const std::string&, const VideoOptions&) { return false; }
VideoResult join_video(const std::string&, const std::vector<std::string>&, const std::string&, const VideoOptions&) {
  throw Error(ErrorKind::Usage, "video is not built in (yamiro was configured with YAMIRO_WITH_FFMPEG=OFF)");
}

bool video_available() { return false; }
std::string video_library_version() { return ""; }

}  // namespace yamiro
