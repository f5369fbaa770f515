#include "serve/job_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "yamiro/error.hpp"
#include "yamiro/io.hpp"
#include "yamiro/model.hpp"
#include "yamiro/naming.hpp"
#include "yamiro/system.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace yamiro::serve {

struct JobStore::Job {
  std::string id;
  JobRequest request;  // bytes freed once decoded
  JobState state = JobState::Queued;
  std::string error;
  ErrorKind error_kind = ErrorKind::Input;  // when failed
  Progress progress;
  std::shared_ptr<const std::vector<unsigned char>> result;
  std::string result_ext;
  int width = 0, height = 0, out_width = 0, out_height = 0;
  std::uint64_t held_bytes = 0;  // counted in used_bytes_
  Clock::time_point created = Clock::now(), started, finished;
};

const char* to_string(JobState s) {
  switch (s) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Done: return "done";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
  }
  return "?";
}

namespace {

bool finished(JobState s) { return s == JobState::Done || s == JobState::Failed || s == JobState::Cancelled; }

std::string new_id() {
  static std::mutex m;
  static std::random_device rd;
  std::lock_guard<std::mutex> lock(m);
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  std::string id(32, '0');
  for (char& c : id) c = "0123456789abcdef"[nibble(rd)];
  return id;
}

std::string output_ext(const JobRequest& r) {
  if (!r.format.empty()) return r.format;
  if (r.input_format == "jpeg") return ".jpg";
  if (r.input_format == "webp") return ".webp";
  if (r.input_format == "tiff") return ".tif";
  return ".png";  // png, and bmp which yamiro does not write (as `upscale`)
}

std::string content_type(const std::string& ext) {
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".webp") return "image/webp";
  if (ext == ".tif" || ext == ".tiff") return "image/tiff";
  return "image/png";
}

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

ModelCatalog::ModelCatalog(const std::string& default_model, bool trust_model) {
  const fs::path p(default_model);
  default_id_ = p.has_extension() || default_model.find('/') != std::string::npos ? p.stem().string() : default_model;
  models_.emplace_back(default_id_, default_model);
  for (const auto& dir : model_dirs()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string ext = lower_extension(e.path().string());
      if (ext != ".param" && ext != ".pth" && ext != ".safetensors" && !(trust_model && ext == ".pt")) continue;
      const std::string id = e.path().stem().string();
      if (!source(id)) models_.emplace_back(id, e.path().string());
    }
  }
}

std::optional<std::string> ModelCatalog::source(const std::string& id) const {
  for (const auto& [k, v] : models_)
    if (k == id) return v;
  return std::nullopt;
}

nlohmann::json ModelCatalog::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [id, src] : models_) {
    const std::string ext = lower_extension(src);
    list.push_back({{"id", id}, {"format", ext.empty() ? "by name" : ext.substr(1)}, {"default", id == default_id_}});
  }
  return {{"default", default_id_}, {"models", list}};
}

std::string ModelCatalog::ids() const {
  std::string out;
  for (const auto& m : models_) out += (out.empty() ? "" : ", ") + m.first;
  return out;
}

JobStore::JobStore(ModelCatalog catalog, EngineOptions base, std::unique_ptr<Engine> engine, StoreLimits limits, bool trust_model)
    : catalog_(std::move(catalog)), base_(std::move(base)), limits_(limits), trust_model_(trust_model), engine_(std::move(engine)) {
  engine_key_ = catalog_.default_id() + "|" + to_string(base_.precision);
  device_ = engine_->setup().device;
  worker_ = std::thread([this] { work(); });
}

JobStore::~JobStore() { shutdown(); }

std::string JobStore::device() const { return device_; }

void JobStore::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_ && !worker_.joinable()) return;
    stop_ = true;
    if (running_) running_->progress.cancel = true;
    for (auto& j : queue_) j->state = JobState::Cancelled;
    queue_.clear();
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::string JobStore::submit(JobRequest request) {
  auto job = std::make_shared<Job>();
  job->request = std::move(request);
  job->held_bytes = job->request.bytes.size();
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_) throw HttpError(503, "the server is shutting down");
  forget_expired_locked();
  if (queue_.size() + (running_ ? 1 : 0) >= limits_.max_jobs)
    throw HttpError(503, "the queue is full (" + std::to_string(limits_.max_jobs) + " jobs); try again when some have finished");
  if (!make_room_locked(job->held_bytes, nullptr))
    throw HttpError(503, "not enough room in the server's memory for this upload beside the jobs waiting (--store-mb); "
                         "try again when some have finished");
  do job->id = new_id();
  while (jobs_.count(job->id));
  used_bytes_ += job->held_bytes;
  jobs_[job->id] = job;
  queue_.push_back(job);
  wake_.notify_one();
  spdlog::info("job {}: queued {} ({} KiB)", job->id, job->request.name, job->held_bytes / 1024);
  return job->id;
}

// Frees finished results, oldest first, until `bytes` more fit under the cap.
bool JobStore::make_room_locked(std::uint64_t bytes, const Job* keep) {
  while (used_bytes_ + bytes > limits_.memory_bytes) {
    std::shared_ptr<Job> oldest;
    for (const auto& [id, j] : jobs_)
      if (j.get() != keep && j->state == JobState::Done && j->held_bytes > 0 && (!oldest || j->finished < oldest->finished)) oldest = j;
    if (!oldest) return false;
    spdlog::info("job {}: result dropped to make room (--store-mb)", oldest->id);
    used_bytes_ -= oldest->held_bytes;
    jobs_.erase(oldest->id);
  }
  return true;
}

void JobStore::forget_expired_locked() {
  const auto now = Clock::now();
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const Job& j = *it->second;
    if (finished(j.state) && now - j.finished > limits_.keep) {
      used_bytes_ -= j.held_bytes;
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

nlohmann::json JobStore::json_locked(const Job& j) const {
  const int done = j.progress.tiles_done.load(), total = j.progress.tiles_total.load();
  double progress = j.state == JobState::Done ? 1.0 : total > 0 ? static_cast<double>(done) / total : 0.0;
  nlohmann::json out = {{"id", j.id},
                        {"state", to_string(j.state)},
                        {"name", j.request.name},
                        {"model", j.request.model_id},
                        {"progress", progress},
                        {"tiles_done", done},
                        {"tiles_total", total},
                        {"error", j.error.empty() ? nlohmann::json() : nlohmann::json(j.error)}};
  if (!j.error.empty()) out["error_kind"] = to_string(j.error_kind);
  if (j.width > 0) out.update({{"width", j.width}, {"height", j.height}});
  if (j.state == JobState::Done)
    out.update({{"output_width", j.out_width}, {"output_height", j.out_height}, {"result_bytes", j.result->size()},
                {"content_type", content_type(j.result_ext)}, {"result", "/api/jobs/" + j.id + "/result"},
                {"seconds", seconds_between(j.started, j.finished)}});
  if (j.state == JobState::Queued) {
    std::size_t pos = 0;
    while (pos < queue_.size() && queue_[pos].get() != &j) ++pos;
    out["queue_position"] = pos + (running_ ? 1 : 0);
  }
  if (j.state == JobState::Running && j.progress.cancel.load()) out["cancel_requested"] = true;
  return out;
}

std::optional<nlohmann::json> JobStore::status(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  forget_expired_locked();
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return json_locked(*it->second);
}

nlohmann::json JobStore::list() {
  std::lock_guard<std::mutex> lock(mutex_);
  forget_expired_locked();
  std::vector<const Job*> all;
  for (const auto& [id, j] : jobs_) all.push_back(j.get());
  std::sort(all.begin(), all.end(), [](const Job* a, const Job* b) { return a->created < b->created; });
  nlohmann::json out = nlohmann::json::array();
  for (const Job* j : all) out.push_back(json_locked(*j));
  return out;
}

JobResult JobStore::result(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  forget_expired_locked();
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) throw HttpError(404, "no job " + id + " (unknown, expired or deleted)");
  const Job& j = *it->second;
  if (j.state != JobState::Done)
    throw HttpError(409, "job " + id + " has no result: it is " + to_string(j.state) + (j.error.empty() ? "" : " (" + j.error + ")"));
  std::string stem = fs::path(j.request.name).stem().string();
  if (stem.empty()) stem = "image";
  const double scale = static_cast<double>(j.out_width) / j.width;
  return {j.result, content_type(j.result_ext), stem + default_suffix(scale) + j.result_ext};
}

nlohmann::json JobStore::cancel(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) throw HttpError(404, "no job " + id + " (unknown, expired or deleted)");
  Job& j = *it->second;
  switch (j.state) {
    case JobState::Queued:
      queue_.erase(std::find(queue_.begin(), queue_.end(), it->second));
      used_bytes_ -= j.held_bytes;
      j.held_bytes = 0;
      j.request.bytes = {};
      j.state = JobState::Cancelled;
      j.finished = Clock::now();
      spdlog::info("job {}: cancelled while queued", id);
      return json_locked(j);
    case JobState::Running:
      j.progress.cancel = true;
      spdlog::info("job {}: cancel requested", id);
      return json_locked(j);
    default: {
      nlohmann::json out = {{"id", id}, {"state", "deleted"}, {"was", to_string(j.state)}};
      used_bytes_ -= j.held_bytes;
      jobs_.erase(it);
      return out;
    }
  }
}

void JobStore::work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      forget_expired_locked();
      if (queue_.empty()) continue;
      job = queue_.front();
      queue_.pop_front();
      job->state = JobState::Running;
      job->started = Clock::now();
      running_ = job;
    }
    run(*job);
    release_free_memory();  // a long-running server sees every image size
    std::lock_guard<std::mutex> lock(mutex_);
    running_.reset();
  }
}

Engine& JobStore::engine_for(const std::string& model_id, Precision precision) {
  const std::string key = model_id + "|" + to_string(precision);
  if (engine_ && key == engine_key_) return *engine_;
  const auto source = catalog_.source(model_id);
  if (!source) throw Error(ErrorKind::Usage, "unknown model '" + model_id + "'");
  engine_.reset();  // one model in memory at a time
  engine_key_.clear();
  EngineOptions o = base_;
  o.precision = precision;
  const Model model = load_model(*source, trust_model_);
  engine_ = std::make_unique<Engine>(model, o);
  engine_key_ = key;
  spdlog::info("engine: {} on {} ({})", model.info.summary(), engine_->setup().device, yamiro::to_string(engine_->setup().precision));
  return *engine_;
}

void JobStore::run(Job& job) {
  const JobRequest& r = job.request;
  try {
    Engine& engine = engine_for(r.model_id, r.precision);
    ReadLimits limits;
    limits.max_pixels = limits_.max_pixels;
    Image input = decode_image(r.bytes, r.name, limits);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      used_bytes_ -= job.held_bytes;
      job.held_bytes = 0;
      job.request.bytes = {};
      job.width = input.width;
      job.height = input.height;
    }
    check_output_fits(input, r.image, engine.scale(), r.name);
    Image output = upscale_one(engine, input, r.image, &job.progress, r.name);
    input = Image();
    const int w = output.width, h = output.height;
    const std::string ext = output_ext(r);
    auto bytes = std::make_shared<const std::vector<unsigned char>>(encode_image(std::move(output), ext, r.quality));
    std::lock_guard<std::mutex> lock(mutex_);
    if (!make_room_locked(bytes->size(), &job))
      throw Error(ErrorKind::Io, "the result (" + std::to_string(bytes->size() >> 20) +
                                     " MiB) does not fit in the server's result memory (--store-mb)");
    used_bytes_ += bytes->size();
    job.held_bytes = bytes->size();
    job.result = std::move(bytes);
    job.result_ext = ext;
    job.out_width = w;
    job.out_height = h;
    job.state = JobState::Done;
    job.finished = Clock::now();
    spdlog::info("job {}: done, {}x{} -> {}x{} in {:.2f} s", job.id, job.width, job.height, w, h,
                 seconds_between(job.started, job.finished));
    return;
  } catch (const Error& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (e.kind() == ErrorKind::Interrupted) {
      job.state = JobState::Cancelled;
    } else {
      job.state = JobState::Failed;
      job.error = e.what();
      job.error_kind = e.kind();
    }
  } catch (...) {
    const Error e = current_error(r.name + ": upscaling", ErrorKind::Input);
    std::lock_guard<std::mutex> lock(mutex_);
    job.state = JobState::Failed;
    job.error = e.what();
    job.error_kind = e.kind();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  used_bytes_ -= job.held_bytes;
  job.held_bytes = 0;
  job.request.bytes = {};
  job.finished = Clock::now();
  spdlog::info("job {}: {}{}{}", job.id, to_string(job.state), job.error.empty() ? "" : ": ", job.error);
}

}  // namespace yamiro::serve
