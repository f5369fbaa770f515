// The Python module's native half (yamiro._yamiro): Upscaler over Engine + upscale_one,
// upscale_file over run_batch (the CLI's own path, so the same bytes), NumPy arrays in and
// out, yamiro's errors as yamiro.Error subclasses. The GIL is released while the network
// runs; it is taken back after each tile to call the progress callback and to poll for
// Ctrl-C (PyErr_CheckSignals), which cancels the run at the next tile.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "yamiro/engine.hpp"
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"
#include "yamiro/manifest.hpp"
#include "yamiro/model.hpp"
#include "yamiro/naming.hpp"
#include "yamiro/pipeline.hpp"
#include "yamiro/profile.hpp"

namespace py = pybind11;

namespace yamiro::python {
namespace {

// yamiro.Error and one subclass per ErrorKind (module lifetime: never released).
PyObject* g_error = nullptr;
PyObject* g_kind_class[6] = {};

PyObject* class_for(ErrorKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < 6 && g_kind_class[i] ? g_kind_class[i] : g_error;
}

[[noreturn]] void raise_kind(ErrorKind kind, const std::string& message) { throw Error(kind, message); }

// ---- arrays ---------------------------------------------------------------------------

// A C-contiguous uint8/uint16 array H x W, H x W x 1, H x W x 3 or H x W x 4 as an Image
// (copied: the network reads it after the GIL is released). Throws Error(Input).
Image to_image(const py::array& a) {
  int depth = 0;
  if (a.dtype().is(py::dtype::of<std::uint8_t>())) depth = 1;
  else if (a.dtype().is(py::dtype::of<std::uint16_t>())) depth = 2;
  else raise_kind(ErrorKind::Input, "array: dtype must be uint8 or uint16, not " + std::string(py::str(a.dtype())));
  int channels = 0;
  if (a.ndim() == 2) channels = 1;
  else if (a.ndim() == 3 && (a.shape(2) == 1 || a.shape(2) == 3 || a.shape(2) == 4)) channels = static_cast<int>(a.shape(2));
  else
    raise_kind(ErrorKind::Input, "array: shape must be HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA), not " +
                                     std::string(py::str(py::tuple(py::cast(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()))))));
  if (a.shape(0) < 1 || a.shape(1) < 1) raise_kind(ErrorKind::Input, "array: the image is empty");
  if (a.shape(0) > 1'000'000 || a.shape(1) > 1'000'000) raise_kind(ErrorKind::Input, "array: the image is too large");
  Image img(static_cast<int>(a.shape(1)), static_cast<int>(a.shape(0)), channels, depth);
  const py::array c = py::array::ensure(a, py::array::c_style);
  if (!c) throw py::error_already_set();
  std::memcpy(img.data.data(), c.data(), img.data.size());
  return img;
}

// The image as an array that owns it (no copy); 2-D for gray unless `keep_channel_axis`.
py::array to_array(Image&& image, bool keep_channel_axis) {
  auto* owned = new Image(std::move(image));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<Image*>(p); });
  std::vector<py::ssize_t> shape = {owned->height, owned->width};
  if (owned->channels > 1 || keep_channel_axis) shape.push_back(owned->channels);
  const py::dtype dt = owned->depth_bytes == 2 ? py::dtype::of<std::uint16_t>() : py::dtype::of<std::uint8_t>();
  return py::array(dt, shape, owned->data.data(), free_when_done);
}

// ---- progress and interruption ---------------------------------------------------------

// Called on the engine's thread (the caller's, with the GIL released) after every tile:
// takes the GIL, polls for signals (Ctrl-C raises KeyboardInterrupt from the handler) and
// calls the user's callback. A Python exception from either is kept and cancels the run;
// the caller re-raises it once the engine has stopped.
class TileHook {
 public:
  TileHook(Progress& progress, py::object callback) : progress_(progress), callback_(std::move(callback)) {}
  ~TileHook() {
    py::gil_scoped_acquire gil;  // a kept Python error is released with the GIL held
    pending_.reset();
  }

  void operator()(int done, int total) {
    py::gil_scoped_acquire gil;
    if (pending_) return;
    try {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (!callback_.is_none()) callback_(done, total);
    } catch (py::error_already_set& e) {
      pending_ = std::make_unique<py::error_already_set>(std::move(e));
      progress_.cancel = true;
    }
  }

  // Re-raises a kept Python exception (KeyboardInterrupt, the callback's). GIL held.
  void raise_pending() {
    if (!pending_) return;
    py::error_already_set e = std::move(*pending_);
    pending_.reset();
    throw e;
  }

 private:
  Progress& progress_;
  py::object callback_;
  std::unique_ptr<py::error_already_set> pending_;
};

struct BatchHook : BatchObserver {
  explicit BatchHook(TileHook& tile) : tile_(tile) {}
  void on_tile(const std::string&, int done, int total) override { tile_(done, total); }
  void on_result(const ItemResult& r) override { result = r; }
  TileHook& tile_;
  ItemResult result;
};

// ---- Upscaler -------------------------------------------------------------------------

EngineOptions engine_options(const std::string& device, const std::string& precision, std::optional<int> tile,
                             std::optional<int> tile_pad, std::optional<int> threads, int batch,
                             const std::string& border) {
  EngineOptions o;
  if (batch < 1 || batch > 256) raise_kind(ErrorKind::Usage, "batch must be between 1 and 256");
  o.batch = batch;
  if (border == "zero") o.border = Border::Zero;
  else if (border == "mirror") o.border = Border::Mirror;
  else raise_kind(ErrorKind::Usage, "unknown border '" + border + "' (valid: zero, mirror)");
  o.device = device;
  o.precision = parse_precision(precision);
  if (tile) {
    if (*tile < 0 || (*tile > 0 && *tile < 16)) raise_kind(ErrorKind::Usage, "tile must be 0 (whole image) or at least 16");
    o.tile = *tile;
  }
  if (tile_pad) {
    if (*tile_pad < 0) raise_kind(ErrorKind::Usage, "tile_pad must be >= 0");
    o.tile_pad = *tile_pad;
  }
  if (threads) {
    if (*threads < 1 || *threads > 4096) raise_kind(ErrorKind::Usage, "threads must be between 1 and 4096");
    o.threads = *threads;
  }
  return o;
}

ImageOptions image_options(std::optional<double> outscale, const std::string& alpha) {
  ImageOptions o;
  o.alpha = alpha;
  o.outscale = outscale.value_or(0);
  if (outscale && *outscale <= 0) raise_kind(ErrorKind::Usage, "outscale must be positive");
  check_image_options(o);
  return o;
}

class Upscaler {
 public:
  Upscaler(const std::string& model, const std::string& device, const std::string& precision, std::optional<int> tile,
           std::optional<int> tile_pad, std::optional<int> threads, int batch, const std::string& border,
           bool trust_model) {
    const EngineOptions options = engine_options(device, precision, tile, tile_pad, threads, batch, border);
    py::gil_scoped_release nogil;
    model_ = std::make_unique<Model>(load_model(model, trust_model));
    engine_ = std::make_unique<Engine>(*model_, options);
    model_->weights.clear();  // the engine holds its own copy on the device
  }

  py::array upscale(const py::array& array, std::optional<double> outscale, const std::string& alpha, py::object progress) {
    const ImageOptions options = image_options(outscale, alpha);
    const Image input = to_image(array);
    check_output_fits(input, options, engine_->scale(), "array");
    const bool keep_axis = array.ndim() == 3;
    Progress prog;
    TileHook hook(prog, std::move(progress));
    prog.on_tile = [&hook](int done, int total) { hook(done, total); };
    Image out;
    std::exception_ptr failure;
    {
      py::gil_scoped_release nogil;
      const std::lock_guard<std::mutex> run(run_mutex_);
      Running running(*this, prog);
      try {
        out = upscale_one(*engine_, input, options, &prog, "array");
      } catch (...) {
        failure = std::current_exception();
      }
    }
    hook.raise_pending();
    if (failure) std::rethrow_exception(failure);
    return to_array(std::move(out), keep_axis);
  }

  py::dict upscale_file(const std::string& input, const std::string& output, std::optional<double> outscale,
                        const std::string& alpha, int quality, bool overwrite, py::object progress) {
    if (quality < 1 || quality > 100) raise_kind(ErrorKind::Usage, "quality must be between 1 and 100");
    BatchOptions bo;
    bo.image = image_options(outscale, alpha);
    bo.quality = quality;
    bo.overwrite = overwrite;
    bo.sequential = true;  // no reader/writer threads for one file: nothing runs Python off this thread
    NamingOptions naming;
    naming.output = output;
    naming.scale = bo.image.outscale > 0 ? bo.image.outscale : engine_->scale();
    Progress prog;
    TileHook hook(prog, std::move(progress));
    BatchHook observer(hook);
    BatchSummary summary;
    std::exception_ptr failure;
    {
      py::gil_scoped_release nogil;
      const std::lock_guard<std::mutex> run(run_mutex_);
      Running running(*this, prog);
      try {
        summary = run_batch(*engine_, {InputItem{input, ""}}, naming, bo, prog, observer);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    hook.raise_pending();
    if (failure) std::rethrow_exception(failure);
    if (summary.interrupted) raise_kind(ErrorKind::Interrupted, input + ": interrupted, nothing written");
    const ItemResult& r = observer.result;
    if (r.status == ItemStatus::Failed) raise_kind(r.error_kind, r.error);
    py::dict d;
    d["input"] = r.input;
    d["output"] = r.output;
    d["width"] = r.width;
    d["height"] = r.height;
    d["seconds"] = r.seconds;
    d["infer_seconds"] = r.infer_seconds;
    return d;
  }

  // For bench/python_overhead.py: the C++ call alone (upscale_one on an image converted
  // once), `repeats` times; returns the seconds of each call.
  std::vector<double> time_cpp(const py::array& array, int repeats) {
    const Image input = to_image(array);
    std::vector<double> seconds;
    py::gil_scoped_release nogil;
    const std::lock_guard<std::mutex> run(run_mutex_);
    for (int i = 0; i < repeats; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const Image out = upscale_one(*engine_, input, ImageOptions{}, nullptr, "array");
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return seconds;
  }

  // Cancels the call in progress (from any thread); it raises yamiro.Interrupted.
  void cancel() {
    const std::lock_guard<std::mutex> lock(state_mutex_);
    if (current_) current_->cancel = true;
  }

  int scale() const { return engine_->scale(); }
  std::string device() const { return engine_->setup().device; }
  std::string precision() const { return to_string(engine_->setup().precision); }
  int threads() const { return engine_->setup().threads; }
  std::string model_name() const { return model_->name; }
  std::string model_path() const { return model_->path; }
  std::string arch() const { return model_->info.summary(); }

 private:
  // Publishes the running call's Progress to cancel() for the scope of the run.
  struct Running {
    Running(Upscaler& u, Progress& p) : u_(u) {
      const std::lock_guard<std::mutex> lock(u_.state_mutex_);
      u_.current_ = &p;
    }
    ~Running() {
      const std::lock_guard<std::mutex> lock(u_.state_mutex_);
      u_.current_ = nullptr;
    }
    Upscaler& u_;
  };

  std::unique_ptr<Model> model_;
  std::unique_ptr<Engine> engine_;
  std::mutex run_mutex_;    // Engine runs one call at a time; taken without the GIL
  std::mutex state_mutex_;  // guards current_
  Progress* current_ = nullptr;
};

// ---- module functions ------------------------------------------------------------------

py::array read_image_array(const std::string& path, long long max_pixels) {
  ReadLimits limits;
  limits.max_pixels = max_pixels;
  Image img;
  {
    py::gil_scoped_release nogil;
    img = read_image(path, limits);
  }
  return to_array(std::move(img), false);
}

void write_image_array(const py::array& array, const std::string& path, int quality, bool overwrite) {
  if (quality < 1 || quality > 100) raise_kind(ErrorKind::Usage, "quality must be between 1 and 100");
  Image img = to_image(array);
  py::gil_scoped_release nogil;
  write_image(std::move(img), path, quality, overwrite);
}

// The manifest's models (installed or not) and the other model files in the model folders,
// as `models list --json` lists them without the checksums and detection (which read every
// file). Returns JSON text.
std::string models_json() {
  nlohmann::json rows = nlohmann::json::array();
  const auto entries = read_manifest(manifest_path());
  for (const ModelListing& l : list_models(entries)) {
    nlohmann::json row = {{"name", l.name}, {"known", l.known}, {"builtin", false}, {"arch", nullptr},
                          {"scale", nullptr}, {"installed", l.installed}, {"path", nullptr}};
    if (l.entry) row.update({{"builtin", l.entry->builtin}, {"arch", l.entry->arch}, {"scale", l.entry->scale}});
    if (l.installed) row["path"] = l.path;
    rows.push_back(row);
  }
  return rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void set_log_level(const std::string& level) {
  const auto l = spdlog::level::from_str(level);
  if (l == spdlog::level::off && level != "off")
    raise_kind(ErrorKind::Usage, "unknown log level '" + level + "' (valid: debug, info, warning, error, off)");
  spdlog::default_logger()->set_level(l);
}

}  // namespace
}  // namespace yamiro::python

PYBIND11_MODULE(_yamiro, m) {
  using namespace yamiro;
  using namespace yamiro::python;
  m.doc() = "yamiro's native module; use the yamiro package";

  // Messages go to stderr, warnings and errors only (set_log_level to change), unless the
  // process already set up yamiro's logger.
  if (!spdlog::get("yamiro")) {
    auto logger = spdlog::stderr_color_mt("yamiro");
    logger->set_pattern("yamiro: %^%l%$: %v");
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
  }

  g_error = PyErr_NewExceptionWithDoc("yamiro.Error", "A yamiro error; its message is yamiro's one-line message.",
                                      PyExc_RuntimeError, nullptr);
  const struct {
    ErrorKind kind;
    const char* name;
    const char* doc;
  } kinds[] = {
      {ErrorKind::Usage, "yamiro.UsageError", "A bad option value (the CLI's exit code 2)."},
      {ErrorKind::Input, "yamiro.InputError", "An input image or array is missing, corrupt or refused."},
      {ErrorKind::Model, "yamiro.ModelError", "A model cannot be found, read or understood (exit code 3)."},
      {ErrorKind::Device, "yamiro.DeviceError", "A device is missing or failed past every fallback (exit code 4)."},
      {ErrorKind::Io, "yamiro.IoError", "An output cannot be written."},
      {ErrorKind::Interrupted, "yamiro.Interrupted", "The call was cancelled (Upscaler.cancel())."},
  };
  m.attr("Error") = py::handle(g_error);
  for (const auto& k : kinds) {
    PyObject* cls = PyErr_NewExceptionWithDoc(k.name, k.doc, g_error, nullptr);
    g_kind_class[static_cast<int>(k.kind)] = cls;
    m.attr(std::string(k.name).substr(7).c_str()) = py::handle(cls);
  }
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyErr_SetString(class_for(e.kind()), e.what());
    }
  });

  py::class_<Upscaler>(m, "Upscaler",
                       "One model prepared for one device. Upscaler(model, device, precision, tile, tile_pad, threads, *, "
                       "batch, border, trust_model): the CLI's -m/--device/--precision/--tile/--tile-pad/--threads/"
                       "--batch/--border/--trust-model. Raises ModelError, DeviceError, UsageError.")
      .def(py::init<const std::string&, const std::string&, const std::string&, std::optional<int>, std::optional<int>,
                    std::optional<int>, int, const std::string&, bool>(),
           py::arg("model") = kDefaultModel, py::arg("device") = "auto", py::arg("precision") = "auto",
           py::arg("tile") = py::none(), py::arg("tile_pad") = py::none(), py::arg("threads") = py::none(),
           py::kw_only(), py::arg("batch") = 1, py::arg("border") = "zero", py::arg("trust_model") = false)
      .def("upscale", &Upscaler::upscale, py::arg("array"), py::kw_only(), py::arg("outscale") = py::none(),
           py::arg("alpha") = "model", py::arg("progress") = py::none(),
           "upscale(array, *, outscale=None, alpha='model', progress=None) -> array of the input's dtype and "
           "channels at the model's scale (or outscale). progress(done, total) after each tile. Releases the GIL; "
           "Ctrl-C raises KeyboardInterrupt at the next tile. Raises InputError, UsageError, DeviceError, "
           "Interrupted.")
      .def("upscale_file", &Upscaler::upscale_file, py::arg("input"), py::arg("output"), py::kw_only(),
           py::arg("outscale") = py::none(), py::arg("alpha") = "model", py::arg("quality") = 95,
           py::arg("overwrite") = false, py::arg("progress") = py::none(),
           "upscale_file(input, output, *, outscale=None, alpha='model', quality=95, overwrite=False, "
           "progress=None) -> dict: one file through the CLI's pipeline (the bytes `yamiro upscale` writes).")
      .def("cancel", &Upscaler::cancel, "Cancels the running call (from any thread): it raises Interrupted.")
      .def("_time_cpp", &Upscaler::time_cpp, py::arg("array"), py::arg("repeats"))
      .def_property_readonly("scale", &Upscaler::scale)
      .def_property_readonly("device", &Upscaler::device)
      .def_property_readonly("precision", &Upscaler::precision)
      .def_property_readonly("threads", &Upscaler::threads)
      .def_property_readonly("model", &Upscaler::model_name)
      .def_property_readonly("model_path", &Upscaler::model_path)
      .def_property_readonly("arch", &Upscaler::arch);

  m.def("read_image", &read_image_array, py::arg("path"), py::kw_only(), py::arg("max_pixels") = 16384LL * 16384LL,
        "read_image(path) -> uint8/uint16 array (HxW gray, HxWx3 RGB, HxWx4 RGBA), EXIF orientation applied. "
        "Raises InputError.");
  m.def("write_image", &write_image_array, py::arg("array"), py::arg("path"), py::kw_only(), py::arg("quality") = 95,
        py::arg("overwrite") = false,
        "write_image(array, path, *, quality=95, overwrite=False): encoded for the extension, written "
        "atomically. Raises UsageError, IoError (also when path exists and not overwrite).");
  m.def("_info_json", [] {
    std::string s;
    {
      py::gil_scoped_release nogil;
      s = system_profile().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return s;
  });
  m.def("_models_json", &models_json);
  m.def("set_log_level", &set_log_level, py::arg("level"),
        "set_log_level('debug'|'info'|'warning'|'error'|'off'): yamiro's messages on stderr (default warning).");
  m.attr("__version__") = YAMIRO_VERSION;
  m.attr("default_model") = kDefaultModel;
}
