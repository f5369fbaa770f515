// Crash-safe file output: a temporary file in the same folder, renamed into place.
// Every function is thread-safe (no shared state); two writers of one path race at the
// rename, and without `overwrite` the loser gets Error(Io).
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace yamiro {

// Writes `bytes` to `path` through a temporary file in the same folder, then renames it
// into place, so a crash never leaves a truncated file under `path`. Without
// `overwrite`, an existing `path` is an Error(Io) and is left untouched (checked
// atomically at the rename). Throws Error(Io) naming the path and the reason.
void write_file_atomic(const std::string& path, const std::vector<unsigned char>& bytes, bool overwrite);

// Receives bytes in order, a piece at a time; may throw to abort.
using ByteSink = std::function<void(const unsigned char* data, std::size_t size)>;

// Same, where `produce` hands the bytes over in pieces (an encoder streaming its output):
// nothing is held in memory beyond what `produce` holds. A failed write throws Error(Io)
// naming `path` and the reason out of the sink; the temporary file is removed.
void write_stream_atomic(const std::string& path, const std::function<void(const ByteSink& sink)>& produce, bool overwrite);

// The temporary file is ".NAME.yamiro-XXXXXX.EXT" beside `path`, flock()ed while it is
// written. Before the first write into a folder, each process removes the temporary files
// there that nobody holds and that are older than 10 s (left by a process that died), with
// a warning naming each.

// Same, where `write` fills the temporary file itself (given its path, which keeps the
// final extension so encoders that go by extension work). Whatever `write` throws
// propagates after the temporary file is removed.
void write_file_atomic(const std::string& path, const std::function<void(const std::string& tmp_path)>& write,
                       bool overwrite);

// True when the two paths name the same file (same path, symlink or hard link).
bool same_file(const std::string& a, const std::string& b);

}  // namespace yamiro
