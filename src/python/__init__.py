"""yamiro: AI image upscaling (Real-ESRGAN, SwinIR, any ncnn model) on LibTorch.

    import yamiro
    up = yamiro.Upscaler(model="realesrgan-x4fast")   # device="auto", precision="auto"
    big = up.upscale(array)                           # uint8/uint16, HxW, HxWx3 or HxWx4
    yamiro.upscale_file("in.png", "out.png")          # the CLI's path: same bytes as `yamiro upscale`

Upscaler(model, device, precision, tile, tile_pad, threads, *, batch=1, border="zero", trust_model=False)
    Loads the model (a name searched in the model folders, or a path) and prepares it for
    the device. Raises ModelError, DeviceError or UsageError.
Upscaler.upscale(array, *, outscale=None, alpha="model", progress=None)
    Returns a new array of the input's kind (dtype, channels) at the model's scale, or at
    `outscale` (Lanczos/area resize after the network, as --outscale). alpha="bicubic"
    resizes an alpha plane instead of running it through the network. progress(done, total)
    is called after every tile; an exception from it stops the run and is re-raised. The
    GIL is released while the network runs: Ctrl-C raises KeyboardInterrupt at the next tile,
    and Upscaler.cancel() from another thread makes the call raise Interrupted. Calls on one
    Upscaler from several threads run one at a time.
Upscaler.upscale_file(input, output, *, outscale=None, alpha="model", quality=95,
                      overwrite=False, progress=None)
    One file through the CLI's pipeline (atomic write, output never replaces the input);
    returns a dict (input, output, width, height, seconds, infer_seconds).

Errors are yamiro.Error subclasses carrying yamiro's one-line message: UsageError,
InputError, ModelError, DeviceError, IoError, Interrupted.
"""
import json as _json

from ._yamiro import (  # noqa: F401
    DeviceError,
    Error,
    InputError,
    Interrupted,
    IoError,
    ModelError,
    Upscaler,
    UsageError,
    __version__,
    default_model,
    read_image,
    set_log_level,
    write_image,
)
from . import _yamiro

__all__ = [
    "Upscaler", "upscale_file", "info", "models", "read_image", "write_image", "set_log_level",
    "Error", "UsageError", "InputError", "ModelError", "DeviceError", "IoError", "Interrupted",
]


def upscale_file(input, output, *, model=default_model, device="auto", precision="auto", tile=None,
                 tile_pad=None, threads=None, batch=1, border="zero", trust_model=False, outscale=None,
                 alpha="model", quality=95, overwrite=False, progress=None):
    """Upscales one image file into `output` as `yamiro upscale INPUT -o OUTPUT` does (same
    options, same bytes). Returns the result dict of Upscaler.upscale_file."""
    up = Upscaler(model=model, device=device, precision=precision, tile=tile, tile_pad=tile_pad,
                  threads=threads, batch=batch, border=border, trust_model=trust_model)
    return up.upscale_file(input, output, outscale=outscale, alpha=alpha, quality=quality,
                           overwrite=overwrite, progress=progress)


def info():
    """The system profile as a dict: what `yamiro info --json` prints."""
    return _json.loads(_yamiro._info_json())


def models():
    """The known models (from the manifest; installed or not, with their path) and the other
    model files found in the model folders, as a list of dicts."""
    return _json.loads(_yamiro._models_json())
