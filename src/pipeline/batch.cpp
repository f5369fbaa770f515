// The image batch pipeline: decode (reader thread) -> network (caller's thread) -> encode
// and write (writer thread), joined by small bounded queues so the device stays busy on a
// folder. Every exception a stage raises is caught on its own thread and becomes either
// that input's failure or, for the network's Model/Device errors, the run's error, carried
// to the caller after both threads are joined.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <new>
#include <stdexcept>
#include <thread>

#include "core/queue.hpp"
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"
#include "yamiro/pipeline.hpp"
#include "yamiro/system.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace yamiro {
namespace {

enum class State { Pending, Done, Skipped, Failed };

// One input travelling through the pipeline.
struct Job {
  std::size_t index = 0;
  InputItem item;
  std::string output;
  Image image;
  PlanarImage planar;  // raw .f32 output
  State state = State::Pending;
  std::string error;
  ErrorKind error_kind = ErrorKind::Input;
  Clock::time_point start;
  double seconds = 0;
  double infer_seconds = 0;
};

bool is_raw_float(const std::string& p) { return fs::path(p).extension() == ".f32"; }

void fail(Job& job, const Error& e) {
  job.state = State::Failed;
  job.error = e.what();
  job.error_kind = e.kind();
  job.image = Image();
}

// YAMIRO_TEST_FAULT makes one stage raise a non-yamiro exception, for the tests of the
// error paths: "decode" (std::runtime_error in the reader), "encode" (std::bad_alloc from
// the encoder after the temporary file was started). Not for use outside tests.
std::string test_fault() {
  const char* f = std::getenv("YAMIRO_TEST_FAULT");
  return f ? f : "";
}

class Batch {
 public:
  Batch(Engine& engine, const NamingOptions& naming, const BatchOptions& options, Progress& progress,
        BatchObserver& observer)
      : engine_(engine), naming_(naming), o_(options), progress_(progress), observer_(observer), fault_(test_fault()) {}

  BatchSummary run(const std::vector<InputItem>& items) {
    if (o_.sequential) return run_sequential(items);
    BoundedQueue<Job> decoded(2), upscaled(2);
    std::exception_ptr reader_error, writer_error;
    std::thread reader([&] {
      try {
        for (std::size_t i = 0; i < items.size() && !progress_.cancel.load(); ++i)
          if (!decoded.push(prepare(i, items[i]))) break;
      } catch (...) {  // prepare() reports per input; this is the queue itself failing
        reader_error = std::current_exception();
        progress_.cancel = true;
      }
      decoded.close();
    });
    std::thread writer([&] {
      try {
        while (auto job = upscaled.pop()) finish(*job);
      } catch (...) {
        writer_error = std::current_exception();
        progress_.cancel = true;
        upscaled.close(true);
      }
    });
    std::exception_ptr run_error;
    try {
      while (auto job = decoded.pop()) {
        if (job->state == State::Pending) infer(*job);
        if (!upscaled.push(std::move(*job))) break;
      }
    } catch (...) {
      run_error = std::current_exception();
      progress_.cancel = true;
      decoded.close(true);
      upscaled.close(true);
    }
    upscaled.close();
    decoded.close(true);  // a reader still waiting to push (the loop left early) gives up
    reader.join();
    writer.join();
    for (const auto& e : {run_error, reader_error, writer_error}) {
      if (!e) continue;
      try {
        std::rethrow_exception(e);
      } catch (const Error& err) {
        if (err.kind() == ErrorKind::Interrupted) return summary(true);
        throw;
      } catch (...) {
        throw current_error("pipeline", ErrorKind::Device);
      }
    }
    return summary(progress_.cancel.load());
  }

 private:
  // Decode, infer and encode one image after the other on this thread: the reference the
  // pipeline is measured against (bench/batch.sh), and a fallback for debugging.
  BatchSummary run_sequential(const std::vector<InputItem>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (progress_.cancel.load()) return summary(true);
      Job job = prepare(i, items[i]);
      try {
        if (job.state == State::Pending) infer(job);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::Interrupted) return summary(true);
        throw;
      }
      finish(job);
    }
    return summary(false);
  }

  // Reader thread: naming, safety checks and decoding.
  Job prepare(std::size_t index, const InputItem& item) {
    Job job;
    job.index = index;
    job.item = item;
    job.start = Clock::now();
    try {
      std::error_code ec;
      job.output = output_path(item, naming_);
      if (fs::path(job.output).lexically_normal() == fs::path(item.path).lexically_normal() || same_file(job.output, item.path))
        throw Error(ErrorKind::Usage, job.output + ": output would replace its input " + item.path);
      if (fs::exists(job.output, ec)) {
        if (o_.skip_existing) {
          job.state = State::Skipped;
          return job;
        }
        if (!o_.overwrite) throw Error(ErrorKind::Io, job.output + ": exists (use --overwrite or --skip-existing)");
      }
      ReadLimits limits;
      limits.max_pixels = o_.max_pixels;
      if (fault_ == "decode") throw std::runtime_error("injected decoder failure");
      job.image = read_image(item.path, limits);
      check_output_fits(job.image, o_.image, engine_.scale(), job.item.path);
    } catch (...) {
      fail(job, current_error(item.path + ": decoding", ErrorKind::Input));
    }
    return job;
  }

  // Caller's thread: the network, alpha handling, --outscale. Model, device and interrupt
  // errors end the run (thrown); the others fail this input.
  void infer(Job& job) {
    progress_.on_tile = [&](int done, int total) { observer_.on_tile(job.item.path, done, total); };
    const auto t0 = Clock::now();
    struct Timer {
      Job& job;
      Clock::time_point t0;
      ~Timer() { job.infer_seconds = std::chrono::duration<double>(Clock::now() - t0).count(); }
    } timer{job, t0};
    try {
      if (is_raw_float(job.output)) {
        if (job.image.channels != 3 || job.image.depth_bytes != 1)
          throw Error(ErrorKind::Usage, job.output + ": raw .f32 output needs an 8-bit RGB input");
        PlanarImage planar(job.image.width, job.image.height, 3);
        for (int c = 0; c < 3; ++c)
          for (std::size_t i = 0; i < static_cast<std::size_t>(job.image.width) * job.image.height; ++i)
            planar.plane(c)[i] = static_cast<float>(job.image.data[i * 3 + c]) / 255.0f;
        job.planar = engine_.upscale(planar, &progress_);
        job.image = Image();
        return;
      }
      job.image = upscale_one(engine_, job.image, o_.image, &progress_, job.item.path);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::Device || e.kind() == ErrorKind::Model) {
        if (e.kind() == ErrorKind::Interrupted) throw;
        throw Error(e.kind(), job.item.path + ": " + e.what());
      }
      fail(job, e);
    }
  }

  // Writer thread: encode, write atomically, report.
  void finish(Job& job) {
    int w = job.image.width, h = job.image.height;
    if (job.state == State::Pending) {
      try {
        if (fault_ == "encode") {
          write_stream_atomic(
              job.output,
              [](const ByteSink& sink) {
                const unsigned char start[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
                sink(start, sizeof start);
                throw std::bad_alloc();
              },
              o_.overwrite);
        } else if (is_raw_float(job.output)) {
          w = job.planar.width;
          h = job.planar.height;
          write_file_atomic(job.output, encode_planar_f32(job.planar), o_.overwrite);
        } else {
          write_image(std::move(job.image), job.output, o_.quality, o_.overwrite);
        }
        job.state = State::Done;
      } catch (...) {
        fail(job, current_error(job.output + ": encoding", ErrorKind::Io));
      }
    }
    job.seconds = std::chrono::duration<double>(Clock::now() - job.start).count();
    report(job, w, h);
    release_free_memory();  // flat memory over thousands of differently sized images
  }

  void report(const Job& job, int w, int h) {
    ItemResult r;
    r.index = job.index;
    r.input = job.item.path;
    r.output = job.output;
    r.seconds = job.seconds;
    r.infer_seconds = job.infer_seconds;
    switch (job.state) {
      case State::Done:
        ++s_.done;
        r.status = ItemStatus::Done;
        r.width = w;
        r.height = h;
        break;
      case State::Skipped:
        ++s_.skipped;
        r.status = ItemStatus::Skipped;
        break;
      default:
        ++s_.failed;
        r.status = ItemStatus::Failed;
        r.error = job.error;
        r.error_kind = job.error_kind;
        break;
    }
    observer_.on_result(r);
  }

  BatchSummary summary(bool interrupted) {
    s_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    s_.interrupted = interrupted;
    return s_;
  }

  Engine& engine_;
  const NamingOptions& naming_;
  const BatchOptions& o_;
  Progress& progress_;
  BatchObserver& observer_;
  const std::string fault_;
  BatchSummary s_;
  Clock::time_point start_ = Clock::now();
};

// "An output never replaces its input" across the whole run: no output may be any input
// (same path, a link to it, the same inode), checked before anything is written, so
// `upscale a.png a_x4.png --overwrite` cannot replace a_x4.png with a.png's result.
void check_outputs_spare_inputs(const std::vector<InputItem>& items, const NamingOptions& naming) {
  std::map<std::string, std::string> by_path;
  std::map<std::pair<dev_t, ino_t>, std::string> by_inode;
  for (const auto& it : items) {
    by_path.emplace(fs::path(it.path).lexically_normal().string(), it.path);
    struct stat st {};
    if (::stat(it.path.c_str(), &st) == 0) by_inode.emplace(std::make_pair(st.st_dev, st.st_ino), it.path);
  }
  for (const auto& it : items) {
    std::string out;
    try {
      out = output_path(it, naming);
    } catch (const Error&) {
      continue;  // reported for that input
    }
    auto hit = by_path.find(fs::path(out).lexically_normal().string());
    std::string input = hit != by_path.end() ? hit->second : "";
    struct stat st {};
    if (input.empty() && ::stat(out.c_str(), &st) == 0) {
      const auto same = by_inode.find({st.st_dev, st.st_ino});
      if (same != by_inode.end()) input = same->second;
    }
    if (input == it.path) throw Error(ErrorKind::Usage, out + ": output would replace its input " + it.path + "; nothing written");
    if (!input.empty())
      throw Error(ErrorKind::Usage, out + ": the output of " + it.path + " would replace the input " + input +
                                        " (another input of this run); nothing written");
  }
}

}  // namespace

BatchSummary run_batch(Engine& engine, const std::vector<InputItem>& items, const NamingOptions& naming,
                       const BatchOptions& options, Progress& progress, BatchObserver& observer) {
  check_outputs_spare_inputs(items, naming);
  Batch batch(engine, naming, options, progress, observer);
  return batch.run(items);
}

}  // namespace yamiro
