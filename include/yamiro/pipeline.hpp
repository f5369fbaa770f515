// The image path shared by `upscale`, `serve` and the library's users: one image through
// the network (alpha, --outscale, memory check), and the batch pipeline that decodes,
// upscales and encodes a list of files on three threads. Both give the same pixels for
// the same options, whoever calls them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/image.hpp"
#include "yamiro/naming.hpp"

namespace yamiro {

struct ImageOptions {
  std::string alpha = "model";  // model | bicubic
  double outscale = 0;          // 0 = the model's scale
};

// Throws Error(Usage) for an alpha mode or outscale out of range (the CLI's messages).
void check_image_options(const ImageOptions& options);

// Throws Error(Input) "<name>: the WxH output needs N MiB, more than the M MiB available"
// when the output of `input` could not be held in memory, before anything is allocated.
void check_output_fits(const Image& input, const ImageOptions& options, int model_scale, const std::string& name);

// Upscales `input` with `engine` (alpha plane through the network or bicubic), then
// resizes to `outscale` when it differs from the model's scale. Returns an image of the
// input's channels and depth. Throws what Engine::upscale throws. Not thread-safe for one
// engine (see Engine); needs image I/O (OpenCV) for the resizes.
Image upscale_image(Engine& engine, const Image& input, const ImageOptions& options, Progress* progress);

// One decoded image through upscale_image, with every failure of the per-image work
// (a non-yamiro exception too: std::bad_alloc, a library's error) turned into an
// Error naming `name`: the one per-image path of `upscale` and `serve`.
// Throws Error: Input/Usage/Io for this image, Model/Device/Interrupted for the run.
Image upscale_one(Engine& engine, const Image& input, const ImageOptions& options, Progress* progress,
                  const std::string& name);

struct BatchOptions {
  ImageOptions image;
  int quality = 95;                        // JPEG/WebP
  std::int64_t max_pixels = 16384LL * 16384LL;  // checked from the header before decoding
  bool overwrite = false;
  bool skip_existing = false;
  bool sequential = false;                 // decode, infer, encode one after the other (no threads)
};

enum class ItemStatus { Done, Skipped, Failed };

// What became of one input.
struct ItemResult {
  std::size_t index = 0;
  std::string input, output;
  ItemStatus status = ItemStatus::Failed;
  std::string error;                       // one line, naming the file; empty unless Failed
  ErrorKind error_kind = ErrorKind::Input;
  int width = 0, height = 0;               // output size when Done
  double seconds = 0;                      // decode start to write end
  double infer_seconds = 0;                // the network alone
};

// Receives the batch's events. on_result is called once per input, in input order, from
// one thread at a time (the writer thread, or the caller's with `sequential`); on_tile
// from the caller's thread. Implementations must not throw.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  virtual void on_tile(const std::string& input, int done, int total) { (void)input, (void)done, (void)total; }
  virtual void on_result(const ItemResult& result) = 0;
};

struct BatchSummary {
  std::size_t done = 0, skipped = 0, failed = 0;
  double seconds = 0;
  bool interrupted = false;  // progress.cancel was set: the remaining inputs were not started
};

// Runs `items` through decode (reader thread) -> `engine` (this thread) -> encode and
// atomic write (writer thread), joined by bounded queues. A failed input is reported and
// the others go on; an output never replaces its input, and an existing output is an
// error unless `overwrite` / `skip_existing`. Returns when every input is reported, or
// after an interruption with the finished files kept and nothing half-written under a
// final name. Throws Error(Usage) before anything is written when an output would be one
// of the inputs (path, link or inode). Throws Error(Model/Device) when the network cannot go on (after joining
// its threads; finished files stay). Not thread-safe for one engine.
BatchSummary run_batch(Engine& engine, const std::vector<InputItem>& items, const NamingOptions& naming,
                       const BatchOptions& options, Progress& progress, BatchObserver& observer);

}  // namespace yamiro
