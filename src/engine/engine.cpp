// The engine: tiles from host memory, batched forwards on the device, and the output
// assembled on the host directly in the output's pixel type.
#include "yamiro/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>

#include <ATen/Parallel.h>

#include "arch/network.hpp"
#include "arch/winograd.hpp"
#include "engine/device.hpp"
#include "yamiro/autotune.hpp"
#include "yamiro/error.hpp"
#include "yamiro/heuristics.hpp"
#include "yamiro/tiling.hpp"

namespace yamiro {
namespace {

// Thrown by the test hook that stands in for a device running out of memory.
struct SimulatedOom : std::runtime_error {
  SimulatedOom() : std::runtime_error("simulated out of memory") {}
};

at::ScalarType dtype_of(Precision p) {
  switch (p) {
    case Precision::BF16: return at::kBFloat16;
    case Precision::FP16: return at::kHalf;
    default: return at::kFloat;
  }
}

bool winograd_wanted(const EngineOptions& o) { return o.winograd && winograd_env_allows(); }

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string rect_text(const Rect& r) {
  return std::to_string(r.w) + "x" + std::to_string(r.h) + " at (" + std::to_string(r.x) + "," + std::to_string(r.y) + ")";
}

// Index tensor for rows/columns [start, start+len) mirrored into [0, n).
at::Tensor mirrored_indices(int start, int len, int n) {
  std::vector<int64_t> idx(len);
  for (int i = 0; i < len; ++i) idx[i] = mirror_index(start + i, n);
  return at::tensor(idx, at::kLong);
}

// Crops [h, w, ...] dims 0/1 (or 1/2 for planar) to `r`, mirroring outside the image.
at::Tensor crop(const at::Tensor& t, int hdim, const Rect& r, int width, int height) {
  at::Tensor out = t;
  if (r.y >= 0 && r.bottom() <= height) out = out.narrow(hdim, r.y, r.h);
  else out = out.index_select(hdim, mirrored_indices(r.y, r.h, height).to(t.device()));
  if (r.x >= 0 && r.right() <= width) out = out.narrow(hdim + 1, r.x, r.w);
  else out = out.index_select(hdim + 1, mirrored_indices(r.x, r.w, width).to(t.device()));
  return out;
}

// One pass of the network over the image: which image channels feed the network's
// inputs, and where the result goes.
struct Pass {
  std::vector<int64_t> src;  // image channels, in the network's input order
  bool opaque = false;       // a plane of 1.0 follows them (the alpha a 4-channel model expects)
  int dst = 0;               // first image channel written
  int keep = 0;              // network output channels kept (the rest, e.g. a made-up alpha, dropped)
  bool luma = false;         // the 3 kept channels are written as one of BT.601 luma

  int written() const { return luma ? 1 : keep; }
  bool identity(int image_channels) const {
    if (opaque || static_cast<int>(src.size()) != image_channels) return false;
    for (int c = 0; c < image_channels; ++c)
      if (src[c] != c) return false;
    return true;
  }
};

// How an image of `channels` (1 gray, 3 RGB, 4 RGBA) runs through a model of `model_channels`
// (in = out). A 3-channel model sees gray (and the alpha plane) as RGB replicas and gives
// them back as luma; a 1-channel model runs every plane as its own pass; a 4-channel model
// takes RGBA whole, and an image without alpha gets an opaque one, dropped from the output.
std::vector<Pass> plan_passes(int channels, int model_channels) {
  std::vector<Pass> passes;
  if (model_channels == 1) {
    for (int c = 0; c < channels; ++c) passes.push_back({{c}, false, c, 1, false});
  } else if (model_channels == 4) {
    if (channels == 4) passes.push_back({{0, 1, 2, 3}, false, 0, 4, false});
    else if (channels == 3) passes.push_back({{0, 1, 2}, true, 0, 3, false});
    else passes.push_back({{0, 0, 0}, true, 0, 3, true});
  } else {
    if (channels == 1) passes.push_back({{0, 0, 0}, false, 0, 3, true});
    else passes.push_back({{0, 1, 2}, false, 0, 3, false});
    if (channels == 4) passes.push_back({{3, 3, 3}, false, 3, 3, true});
  }
  return passes;
}

// The kept output channels of a pass, [written(), h, w] (float, on the output's device).
at::Tensor pass_output(const at::Tensor& y_dev, const Pass& pass) {
  at::Tensor y = y_dev.to(at::kFloat);
  // BT.601 luma, as OpenCV's RGB->gray: the network sees gray as RGB and returns RGB.
  if (pass.luma) return (y[0] * 0.299f + y[1] * 0.587f + y[2] * 0.114f).unsqueeze(0);
  return y.size(0) == pass.keep ? y : y.narrow(0, 0, pass.keep);
}

// The network's input for a pass, from [C,h,w] float planes.
at::Tensor pass_input(const at::Tensor& planes, const Pass& pass, const at::Tensor& chan, bool identity) {
  at::Tensor t = identity ? planes : planes.index_select(0, chan);
  if (pass.opaque) t = at::cat({t, at::ones({1, t.size(1), t.size(2)}, t.options())}, 0);
  return t;
}

}  // namespace

struct Engine::Impl {
  ArchInfo info;
  EngineOptions opt;
  EngineSetup setup;
  DeviceChoice dev;
  StateDict fallback_weights;  // kept only when an auto-selected accelerator may need the CPU
  std::unique_ptr<arch::Network> net;
  int pad = kDefaultTilePad;
  int tile_limit = 0;  // after an out-of-memory, tiles never exceed this (0 = no limit)
  std::uint64_t budget = 0;
  std::uint64_t device_peak = 0;
  bool auto_winograd = false;  // precision auto measured fp32 Winograd fastest

  // Precision `auto` from the measured figures of this device (cached per machine).
  void resolve_auto() {
    const AutoChoice c = resolve_auto_precision(dev.name, dev.kind, setup.threads, winograd_wanted(opt), !info.fp16_unsafe);
    setup.precision = c.precision;
    setup.precision_reason = c.reason;
    auto_winograd = c.winograd;
  }
  double global_seconds = 0;  // time spent gathering exact global statistics (tiled SE graphs)
  bool warned_inexact = false;

  // An architecture with image-global layers that the network cannot gather exactly
  // (global_reduction, no global_layers: HAT, DAT, OmniSR, GroupNorm PLKSR) gives other
  // pixels when tiled; said once per engine.
  void warn_if_inexact(const std::vector<Tile>& tiles, int tile, int width, int height) {
    if (warned_inexact || !info.global_reduction || net->global_layers() > 0) return;
    const bool whole = std::all_of(tiles.begin(), tiles.end(), [&](const Tile& t) {
      return t.padded.x <= 0 && t.padded.y <= 0 && t.padded.right() >= width && t.padded.bottom() >= height;
    });
    if (whole) return;  // every tile sees the whole image (its context covers it)
    warned_inexact = true;
    spdlog::warn("{}: its image-global layers see only their tile, so tile {} gives a different result from a whole-image "
                 "run (--tile 0 runs it whole where memory allows)",
                 info.arch, tile);
  }

  void build(const StateDict& weights) {
    arch::NetOptions n;
    n.device = dev.device;
    n.dtype = dtype_of(setup.precision);
    n.channels_last = setup.channels_last;
    n.plain = opt.baseline;
    setup.winograd = winograd_wanted(opt) && !opt.baseline && dev.kind == DeviceKind::CPU &&
                     setup.precision == Precision::FP32 && arch::winograd_supported() &&
                     (opt.precision != Precision::Auto || auto_winograd);
    n.winograd = setup.winograd;
    try {
      net = arch::make_network(info, weights, n);
    } catch (const c10::Error& e) {
      throw Error(ErrorKind::Device, "cannot place the model on " + dev.name + " in " + to_string(setup.precision) + ": " +
                                         first_line(e.what_without_backtrace()));
    }
  }

  int bytes_per_value() const { return setup.precision == Precision::FP32 ? 4 : 2; }

  int tile_for(int w, int h) const {
    int t = opt.tile >= 0 ? opt.tile : choose_tile(info, dev.kind, bytes_per_value(), budget, w, h, opt.batch);
    if (tile_limit > 0) t = (t == 0) ? tile_limit : std::min(t, tile_limit);
    return round_tile(t, info.tile_multiple);
  }

  // Runs the network over `tiles`, batching tiles of equal shape. `load` gives the
  // [3,h,w] float host tensor of a padded rect; `store` receives the device output of one
  // tile ([3,h*s,w*s]) with its tile. OOM halves the tile and redoes the failed tiles.
  template <typename Load, typename Store>
  void run(const std::vector<Tile>& tiles, int tile, int width, int height, Progress* progress, const Load& load,
           const Store& store) {
    std::map<std::pair<int, int>, std::vector<const Tile*>> groups;
    for (const auto& t : tiles) groups[{t.padded.w, t.padded.h}].push_back(&t);
    const std::size_t batch = static_cast<std::size_t>(std::max(1, opt.batch));
    for (const auto& [shape, members] : groups) {
      for (std::size_t i = 0; i < members.size(); i += batch) {
        if (progress && progress->cancel.load()) throw Error(ErrorKind::Interrupted, "cancelled");
        const std::vector<const Tile*> chunk(members.begin() + i, members.begin() + std::min(members.size(), i + batch));
        at::Tensor out;
        try {
          out = forward(chunk, load);
        } catch (const std::exception& e) {
          if (!dynamic_cast<const SimulatedOom*>(&e) && !is_out_of_memory(e)) {
            if (const auto* ye = dynamic_cast<const Error*>(&e)) throw *ye;
            throw Error(ErrorKind::Device, "inference failed on " + dev.name + " for tile " + rect_text(chunk[0]->core) +
                                               ": " + first_line(e.what()));
          }
          retry_smaller(chunk, tile, width, height, progress, load, store);
          continue;
        }
        if (dev.kind == DeviceKind::CUDA) device_peak = std::max(device_peak, device_memory_used(dev));
        for (std::size_t k = 0; k < chunk.size(); ++k) {
          store(out[static_cast<int64_t>(k)], *chunk[k]);
          tick(progress);
        }
      }
    }
  }

  template <typename Load>
  at::Tensor forward(const std::vector<const Tile*>& chunk, const Load& load) {
    if (opt.test_oom_above > 0 && std::max(chunk[0]->padded.w, chunk[0]->padded.h) > opt.test_oom_above) throw SimulatedOom();
    std::vector<at::Tensor> items;
    items.reserve(chunk.size());
    for (const Tile* t : chunk) items.push_back(load(t->padded));
    if (dev.kind == DeviceKind::CUDA) {
      // Global switches, set per forward since a baseline engine may share the process.
      // Tiles repeat one shape, so cuDNN may time its algorithms once; fp32 means fp32
      // (no TF32) except in the baseline, which keeps PyTorch's defaults.
      at::globalContext().setBenchmarkCuDNN(!opt.baseline);
      at::globalContext().setAllowTF32CuDNN(opt.baseline || setup.precision != Precision::FP32);
    }
    at::Tensor x = at::stack(items).to(dev.device, dtype_of(setup.precision));
    if (setup.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    c10::InferenceMode inference;
    return net->forward(x);
  }

  template <typename Load, typename Store>
  void retry_smaller(const std::vector<const Tile*>& chunk, int tile, int width, int height, Progress* progress,
                     const Load& load, const Store& store) {
    const int current = tile > 0 ? tile : std::max(width, height);
    const int half = std::max(32, current / 2);
    if (current <= 32) {
      if (opt.device == "auto" && dev.kind != DeviceKind::CPU) {
        spdlog::warn("out of memory on {} at the smallest tile; continuing on the CPU", dev.name);
        dev = select_device("cpu");
        setup.device = dev.name;
        if (opt.precision == Precision::Auto) resolve_auto();
        build(fallback_weights);
        tile_limit = 0;
        for (const Tile* t : chunk) run({*t}, 0, width, height, nullptr, load, store), tick(progress);
        return;
      }
      throw Error(ErrorKind::Device, "out of memory on " + dev.name + " even with 32-pixel tiles (tile " + rect_text(chunk[0]->core) + ")");
    }
    spdlog::warn("out of memory on {} with tile {}; retrying with tile {}", dev.name, current, half);
    tile_limit = half;
    for (const Tile* t : chunk) {
      // Re-plan this tile's core with smaller tiles; context still comes from the full image.
      std::vector<Tile> sub = plan_tiles(t->core.w, t->core.h, half, 0, true, info.tile_multiple);
      for (auto& s : sub) {
        s.core.x += t->core.x;
        s.core.y += t->core.y;
        s.padded = pad_rect(s.core, sub.front().core.w, sub.front().core.h, pad, width, height, opt.border == Border::Zero,
                            info.tile_multiple);
      }
      run(sub, half, width, height, nullptr, load, store);
      tick(progress);
    }
  }

  // Exact global layers (SE means) on a tiled run: one gathering pass over the tiles per
  // layer, each up to that layer only, before the tiles run for real.
  template <typename Load>
  void gather_globals(const std::vector<Tile>& tiles, int width, int height, const Load& load) {
    net->reset_global();  // never statistics of another image (or of a failed run)
    const int layers = net->global_layers();
    if (layers == 0 || tiles.size() < 2) return;
    const auto start = std::chrono::steady_clock::now();
    c10::InferenceMode inference;
    for (int k = 0; k < layers; ++k) {
      for (const Tile& t : tiles) {
        at::Tensor x = load(t.padded).unsqueeze(0).to(dev.device, dtype_of(setup.precision));
        if (setup.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
        arch::CoreSpan c{t.core.x - t.padded.x, t.core.y - t.padded.y, t.core.w, t.core.h,
                         t.core.x == 0, t.core.y == 0, t.core.right() == width, t.core.bottom() == height};
        net->gather_global(k, x, c);
      }
      net->finish_global(k);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    global_seconds += seconds;
    spdlog::info("exact global layers: {} gathering passes over {} tiles took {:.2f} s", layers, tiles.size(), seconds);
  }

  static void tick(Progress* progress) {
    if (!progress) return;
    const int done = ++progress->tiles_done;
    if (progress->on_tile) progress->on_tile(done, progress->tiles_total.load());
  }
};

Engine::Engine(const Model& model, const EngineOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.info = model.info;
  m.opt = options;
  const int cin = model.info.in_channels, cout = model.info.out_channels;
  if (cin != cout || (cin != 1 && cin != 3 && cin != 4))
    throw Error(ErrorKind::Model, "the model maps " + std::to_string(cin) + " channels to " + std::to_string(cout) +
                                      ": only models whose output has the input's channels (1, 3 or 4) can run");
  if (options.tile < -1 || options.batch < 1 || options.threads < 0 || options.tile_pad < -1)
    throw Error(ErrorKind::Usage, "invalid engine options (tile >= 0, tile-pad >= 0, batch >= 1, threads >= 0)");
  m.pad = options.tile_pad >= 0 ? options.tile_pad : kDefaultTilePad;
  // A graph of valid convolutions needs its whole receptive field as real context for a
  // tile to equal the untiled run: the shrink, plus a grid step for its strided layers.
  if (model.info.shrink > 0) m.pad = std::max(m.pad, model.info.shrink + model.info.input_multiple);
  m.setup.threads = options.threads > 0 ? options.threads : available_cpus();
  at::set_num_threads(m.setup.threads);
  limit_kernel_caches();
  m.dev = select_device(options.device);
  m.setup.device = m.dev.name;
  // The baseline runs as the Python Real-ESRGAN does: fp32 on the CPU, fp16 on CUDA (fp32
  // for architectures whose reference overflows in fp16).
  if (options.baseline) {
    m.setup.precision = m.dev.kind == DeviceKind::CUDA && !model.info.fp16_unsafe ? Precision::FP16 : Precision::FP32;
    m.setup.precision_reason = "baseline";
  } else if (options.precision == Precision::Auto) {
    m.resolve_auto();
  } else {
    m.setup.precision = options.precision;
    m.setup.precision_reason = "requested";
  }
  if (m.dev.kind == DeviceKind::CPU && m.setup.precision == Precision::FP16)
    throw Error(ErrorKind::Usage, "precision fp16 is not supported on the CPU (use bf16 or fp32)");
  if (model.info.fp16_unsafe && options.precision == Precision::FP16)
    spdlog::warn("{}: its reference implementation overflows in fp16 (attention/normalisation); expect NaN or "
                 "black areas, bf16 or fp32 are safe", model.info.arch);
  if (m.dev.kind == DeviceKind::CPU && options.precision == Precision::BF16) {
    const CpuFeatures cpu = cpu_features();
    // Once per process: bench and serve build several engines.
    static std::once_flag warned;
    if (!cpu.avx512_bf16 && !cpu.amx_bf16)
      std::call_once(warned, [] { spdlog::warn("this CPU has no AVX512-BF16/AMX: bf16 will be emulated and slow"); });
  }
  m.setup.channels_last = options.channels_last && !options.baseline;
  const std::uint64_t mem = available_memory_bytes();
  m.budget = m.dev.kind == DeviceKind::CPU ? std::min<std::uint64_t>(mem ? mem / 4 : (1ull << 30), 4ull << 30) : (4ull << 30);
  if (options.device == "auto" && m.dev.kind != DeviceKind::CPU) m.fallback_weights = model.weights;
  m.build(model.weights);
  spdlog::debug("engine: {} on {} ({}), {} ({}), {} threads, channels-last {}, winograd {}", model.info.summary(), m.dev.name,
                m.dev.reason, to_string(m.setup.precision), m.setup.precision_reason, m.setup.threads, m.setup.channels_last,
                m.setup.winograd);
}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

int Engine::scale() const { return impl_->info.scale; }
const EngineSetup& Engine::setup() const { return impl_->setup; }
int Engine::tile_for(int width, int height) const { return impl_->tile_for(width, height); }
int Engine::tile_pad() const { return impl_->pad; }
std::uint64_t Engine::peak_device_bytes() const { return impl_->device_peak; }
void Engine::reset_peak_device_bytes() { impl_->device_peak = 0; }

Image Engine::upscale(const Image& in, Progress* progress) {
  if (in.width <= 0 || in.height <= 0 || (in.channels != 1 && in.channels != 3 && in.channels != 4) ||
      (in.depth_bytes != 1 && in.depth_bytes != 2) ||
      in.data.size() != static_cast<std::size_t>(in.width) * in.height * in.channels * in.depth_bytes)
    throw Error(ErrorKind::Input, "engine: malformed image buffer");
  Impl& m = *impl_;
  const int s = m.info.scale;
  Image out(in.width * s, in.height * s, in.channels, in.depth_bytes);
  const bool wide = in.depth_bytes == 2;
  at::Tensor src = at::from_blob(const_cast<std::uint8_t*>(in.data.data()), {in.height, in.width, in.channels},
                                 wide ? at::kShort : at::kByte);
  // On an accelerator the 8/16-bit image crosses once; tiles are cut and converted there.
  if (m.dev.kind != DeviceKind::CPU) src = src.to(m.dev.device);
  const std::vector<Pass> passes = plan_passes(in.channels, m.info.in_channels);

  const int tile = m.tile_for(in.width, in.height);
  const auto tiles = plan_tiles(in.width, in.height, tile, m.pad, m.opt.border == Border::Zero, m.info.tile_multiple);
  m.warn_if_inexact(tiles, tile, in.width, in.height);
  if (progress) {
    progress->tiles_done = 0;
    progress->tiles_total = static_cast<int>(tiles.size() * passes.size());
  }
  const float maxv = static_cast<float>(in.max_value());
  for (const Pass& pass : passes) {
    const at::Tensor chan = at::tensor(std::vector<int64_t>(pass.src.begin(), pass.src.end()), at::kLong).to(src.device());
    const bool identity = pass.identity(in.channels);
    auto load = [&](const Rect& r) {
      at::Tensor t = crop(src, 0, r, in.width, in.height);
      if (!identity) t = t.index_select(2, chan);
      t = wide ? t.to(at::kInt).bitwise_and(0xFFFF).to(at::kFloat) : t.to(at::kFloat);
      t = t.permute({2, 0, 1}).div_(maxv);
      return pass.opaque ? pass_input(t, pass, chan, true) : t;
    };
    auto store = [&](const at::Tensor& y_dev, const Tile& t) {
      // Quantise on the device so only output pixels cross back to the host.
      at::Tensor y = pass_output(y_dev, pass);
      const int ox = (t.core.x - t.padded.x) * s, oy = (t.core.y - t.padded.y) * s;
      y = y.narrow(1, oy, t.core.h * s).narrow(2, ox, t.core.w * s);
      y = y.clamp(0.0f, 1.0f).mul_(maxv).round_().permute({1, 2, 0});
      y = (wide ? y.to(at::kInt) : y.to(at::kByte)).contiguous();
      if (y.is_cuda()) {
        // Through page-locked memory (reused by LibTorch's host allocator): a DMA copy at
        // full bus speed instead of a staged pageable one.
        at::Tensor host = at::empty(y.sizes(), y.options().device(at::kCPU).pinned_memory(true));
        y = host.copy_(y);
      } else {
        y = y.to(at::kCPU);
      }
      const int k = pass.written(), rows = t.core.h * s, cols = t.core.w * s;
      const std::size_t px_bytes = static_cast<std::size_t>(in.channels) * in.depth_bytes;
      for (int r = 0; r < rows; ++r) {
        std::uint8_t* dst = out.data.data() + (static_cast<std::size_t>(t.core.y * s + r) * out.width + t.core.x * s) * px_bytes;
        if (!wide) {
          const std::uint8_t* row = y.data_ptr<std::uint8_t>() + static_cast<std::size_t>(r) * cols * k;
          if (k == in.channels) {
            std::memcpy(dst, row, static_cast<std::size_t>(cols) * k);
          } else {
            for (int c = 0; c < cols; ++c)
              for (int j = 0; j < k; ++j) dst[c * in.channels + pass.dst + j] = row[c * k + j];
          }
        } else {
          const std::int32_t* row = y.data_ptr<std::int32_t>() + static_cast<std::size_t>(r) * cols * k;
          auto* d16 = reinterpret_cast<std::uint16_t*>(dst);
          for (int c = 0; c < cols; ++c)
            for (int j = 0; j < k; ++j) d16[c * in.channels + pass.dst + j] = static_cast<std::uint16_t>(row[c * k + j]);
        }
      }
    };
    m.gather_globals(tiles, in.width, in.height, load);
    m.run(tiles, tile, in.width, in.height, progress, load, store);
    m.net->reset_global();
  }
  return out;
}

PlanarImage Engine::upscale(const PlanarImage& in, Progress* progress) {
  if (in.width <= 0 || in.height <= 0 || in.channels != 3 ||
      in.data.size() != static_cast<std::size_t>(in.width) * in.height * 3)
    throw Error(ErrorKind::Input, "engine: malformed planar image (3 channels expected)");
  Impl& m = *impl_;
  const int s = m.info.scale;
  PlanarImage out(in.width * s, in.height * s, 3);
  const at::Tensor src = at::from_blob(const_cast<float*>(in.data.data()), {3, in.height, in.width}, at::kFloat);
  const int tile = m.tile_for(in.width, in.height);
  const auto tiles = plan_tiles(in.width, in.height, tile, m.pad, m.opt.border == Border::Zero, m.info.tile_multiple);
  m.warn_if_inexact(tiles, tile, in.width, in.height);
  // RGB planes: one pass for a 3- or 4-channel model (an opaque alpha added, its output
  // dropped), one per plane for a 1-channel model.
  const std::vector<Pass> passes = plan_passes(3, m.info.in_channels);
  if (progress) {
    progress->tiles_done = 0;
    progress->tiles_total = static_cast<int>(tiles.size() * passes.size());
  }
  const at::Tensor dst = at::from_blob(out.data.data(), {3, out.height, out.width}, at::kFloat);
  for (const Pass& pass : passes) {
    const at::Tensor chan = at::tensor(pass.src, at::kLong);
    const bool identity = pass.identity(3);
    auto load = [&](const Rect& r) { return pass_input(crop(src, 1, r, in.width, in.height), pass, chan, identity).clone(); };
    auto store = [&](const at::Tensor& y_dev, const Tile& t) {
      const at::Tensor y = pass_output(y_dev, pass);
      const int ox = (t.core.x - t.padded.x) * s, oy = (t.core.y - t.padded.y) * s;
      dst.narrow(0, pass.dst, pass.written())
          .narrow(1, t.core.y * s, t.core.h * s)
          .narrow(2, t.core.x * s, t.core.w * s)
          .copy_(y.narrow(1, oy, t.core.h * s).narrow(2, ox, t.core.w * s).to(at::kCPU, at::kFloat));
    };
    m.gather_globals(tiles, in.width, in.height, load);
    m.run(tiles, tile, in.width, in.height, progress, load, store);
    m.net->reset_global();
  }
  return out;
}

}  // namespace yamiro
