// Pieces of one video for --segment I/N and --join: where the keyframe cuts are, the
// tags a piece carries, and the checks that the pieces tile the source's timeline.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/av.hpp"
#include "yamiro/video.hpp"

namespace yamiro::video {

// The video packets of a source, demuxed once (nothing decoded).
struct PacketScan {
  AVRational time_base{1, 1};
  std::vector<std::int64_t> ts;     // pts (dts where there is none), decode order
  std::vector<std::size_t> keys;    // indices into ts of keyframe packets
  std::string fingerprint;          // hash of every packet's timestamps, size and flags
};

// A cut into `count` pieces: piece i holds the frames with start[i] <= pts < start[i+1];
// start[0] and start[count] are open. Every inner start is a keyframe's timestamp.
struct Plan {
  AVRational time_base{1, 1};
  int count = 0;
  std::vector<std::int64_t> start;             // count + 1 bounds
  std::vector<std::int64_t> frames, first, last;  // per piece, in the source's time base
  std::string fingerprint;
};

// Throws Error(Input) naming `input` when it cannot be read or is not seekable.
PacketScan scan_packets(const std::string& input, const VideoOptions& options);
// Cuts at the first keyframe at or after each 1/count of the packets. Throws Error(Input)
// when there are fewer keyframes than pieces.
Plan make_plan(const PacketScan& scan, int count, const std::string& input);

// The container tags of piece `index`, read back by --join and --skip-existing.
std::vector<std::pair<std::string, std::string>> piece_tags(const Plan& plan, int index);

}  // namespace yamiro::video
