"""GAN upscalers for ``upscale_image``: Real-ESRGAN and the rest of the ESRGAN family, or any
super-resolution weights file that spandrel recognises (``.pth``, ``.safetensors``).

A picture is upscaled in tiles so that memory stays bounded whatever its size: each tile
is run with ``overlap`` pixels of context on every side, and only its core is kept (the
overlap is cropped, as Real-ESRGAN's own ``tile_pad`` does), so tiles meet without seams
wherever the model's reach is within the overlap. Models are loaded through the
process-wide ``PipelineCache`` (the same memory budget as the diffusion pipelines), in
half precision on CUDA, and every recipe records the weights file's sha256 and the tiling,
so a replay on the same device re-makes the same pixels.

torch and spandrel are imported when an upscaler is built, never when this module is."""

from __future__ import annotations

import enum
import functools
import hashlib
import importlib.util
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from museforge.models.devices import DevicePlan, detect, plan_device, torch_dtype
from museforge.models.image.base import (
    GenerateRequest,
    ImageBackendError,
    ImageResult,
    RunControl,
    WeightsMissing,
)
from museforge.models.image.pipeline_cache import PipelineCache, default_cache
from museforge.models.image.presets import (
    UPSCALER_PRESETS,
    UPSCALER_SUFFIXES,
    UpscalerPreset,
    local_upscaler,
    upscaler_dir,
)

if TYPE_CHECKING:
    from museforge.config import Settings

DEFAULT_TILE = 256  # input pixels a side per tile; 0: the whole picture at once
DEFAULT_OVERLAP = 16  # input pixels of context around each tile, cropped afterwards
BUILTIN = "builtin"  # MUSEFORGE_UPSCALER: the image backend's own upscaling (Lanczos...)
AUTO = "auto"


@dataclass(frozen=True)
class UpscaleConfig:
    """What ``MUSEFORGE_UPSCALER``, ``MUSEFORGE_UPSCALE_TILE`` and
    ``MUSEFORGE_UPSCALE_OVERLAP`` (``settings.upscaler``...) ask for."""

    choice: str = AUTO
    tile: int = DEFAULT_TILE
    overlap: int = DEFAULT_OVERLAP

    @classmethod
    def from_settings(cls, settings: Settings) -> UpscaleConfig:
        check_tiling(settings.upscale_tile, settings.upscale_overlap)
        return cls(settings.upscaler.strip() or AUTO, settings.upscale_tile,
                   settings.upscale_overlap)

    def weights_for(self, factor: int) -> str | None:
        """The upscaler to use for ``factor``, or None for the image backend's own.
        ``auto`` takes the preset of that scale when its file is here, else the other."""
        if self.choice == BUILTIN:
            return None
        if self.choice != AUTO:
            return self.choice
        presets = sorted(UPSCALER_PRESETS.values(), key=lambda p: p.scale != factor)
        return next((p.name for p in presets if local_upscaler(p.name)), None)


def check_tiling(tile: int, overlap: int) -> None:
    if tile != 0 and not 32 <= tile <= 4096:
        raise ImageBackendError(f"The upscaling tile is 32 to 4096 pixels (or 0 for none), "
                                f"not {tile}.")
    if not 0 <= overlap <= 256 or (tile and overlap >= tile):
        raise ImageBackendError(f"The tile overlap is 0 to 256 pixels and less than the tile "
                                f"({tile}), not {overlap}.")


# -- finding weights ---------------------------------------------------------------------------

def missing_message(name: str) -> str:
    """One sentence: what is missing and how to get it."""
    preset = UPSCALER_PRESETS.get(name)
    if preset is not None:
        return (f"The upscaler '{name}' is not on this machine: run `museforge models pull "
                f"{name}` where there is network (or put {preset.file} from {preset.url} in "
                f"{upscaler_dir()}), then try again.")
    return (f"The upscaler file '{name}' is not on this machine: give a .pth or .safetensors "
            f"file (a path, or a file name in {upscaler_dir()}), or a preset: "
            f"{', '.join(UPSCALER_PRESETS)}.")


def find_weights(name: str) -> tuple[Path, UpscalerPreset | None]:
    """The weights file of a preset, a path or a file name in the upscalers folder."""
    preset = UPSCALER_PRESETS.get(name)
    looks_like_file = name.lower().endswith(UPSCALER_SUFFIXES) or "/" in name
    if preset is None and not looks_like_file:
        raise ImageBackendError(f"'{name}' is not an upscaler: give a preset "
                                f"({', '.join(UPSCALER_PRESETS)}) or a .pth or .safetensors "
                                "file.")
    path = local_upscaler(name)
    if path is None:
        raise WeightsMissing(missing_message(name))
    return path.resolve(), preset


_hashes: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """The file's sha256, computed once per (path, size, mtime)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _hashes:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _hashes[key] = digest.hexdigest()
    return _hashes[key]


# -- spandrel --------------------------------------------------------------------------------

_import_lock = threading.Lock()


def spandrel_module() -> Any:
    """spandrel, imported once.

    Its registry imports every architecture it knows, and two that we never run (LaMa
    inpainting, RestoreFormer faces) import torchvision at module level. PyPI's torchvision
    builds do not load beside the CPU torch wheel that scripts/setup.sh installs, so where
    torchvision cannot be imported those two names are a stand-in that refuses to run,
    present only while spandrel imports (nothing else ever sees a torchvision module)."""
    with _import_lock:
        if "spandrel" in sys.modules:
            return sys.modules["spandrel"]
        if importlib.util.find_spec("spandrel") is None:
            raise ImageBackendError(
                "The GAN upscalers need the spandrel package: `pip install --no-deps "
                "spandrel einops` in museforge's environment (scripts/setup.sh does it).")
        if _torchvision_loads():
            import spandrel

            return spandrel
        stand_in = _torchvision_stand_in()
        saved = {name: sys.modules.get(name) for name in stand_in}
        sys.modules.update(stand_in)
        try:
            import spandrel
        finally:
            for name, old in saved.items():
                if old is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = old
        return spandrel


def _torchvision_loads() -> bool:
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        import torchvision  # noqa: F401
    except Exception:  # a build for another torch fails with RuntimeError, not ImportError
        return False
    return True


def _torchvision_stand_in() -> dict[str, types.ModuleType]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise ImageBackendError("This model needs torchvision, which is not installed here.")

    functional = types.ModuleType("torchvision.transforms.functional")
    functional.InterpolationMode = enum.Enum(  # type: ignore[attr-defined,misc]
        "InterpolationMode", "NEAREST BILINEAR BICUBIC")
    functional.rotate = refuse  # type: ignore[attr-defined]
    functional.normalize = refuse  # type: ignore[attr-defined]
    transforms = types.ModuleType("torchvision.transforms")
    transforms.functional = functional  # type: ignore[attr-defined]
    torchvision = types.ModuleType("torchvision")
    torchvision.transforms = transforms  # type: ignore[attr-defined]
    return {"torchvision": torchvision, "torchvision.transforms": transforms,
            "torchvision.transforms.functional": functional}


def load_descriptor(path: Path, plan: DevicePlan) -> Any:
    """The spandrel model in ``path`` on ``plan``'s device and dtype, or a one-sentence
    refusal when it is not a super-resolution model spandrel knows."""
    spandrel = spandrel_module()
    try:
        model = spandrel.ModelLoader(device="cpu").load_from_file(path)
    except Exception as error:  # unknown architecture, not a state dict, a damaged file
        why = str(error).strip().splitlines()[0][:160] if str(error).strip() else \
            type(error).__name__
        raise ImageBackendError(f"{path.name} is not an upscaler spandrel knows ({why}).") \
            from error
    if not isinstance(model, spandrel.ImageModelDescriptor) or model.purpose != "SR" \
            or model.scale < 2:
        what = getattr(model, "purpose", "?")
        raise ImageBackendError(f"{path.name} is a {model.architecture.name} model for "
                                f"'{what}' at ×{model.scale}, not an upscaler.")
    if (model.input_channels, model.output_channels) != (3, 3):
        raise ImageBackendError(f"{path.name} works on {model.input_channels}-channel "
                                "images; upscale_image needs a colour (RGB) model.")
    half = {"float16": model.supports_half, "bfloat16": model.supports_bfloat16}
    if not half.get(plan.dtype, True):
        raise ImageBackendError(f"{path.name} does not run in {plan.dtype}; set "
                                "MUSEFORGE_DEVICE=cpu to run it in float32.")
    model.eval()
    return model.to(torch_dtype(plan.dtype)).to(plan.device)


@functools.cache
def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("spandrel", "torch"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "absent"
    return versions


# -- tiling ----------------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # left, top, right, bottom


def tile_grid(width: int, height: int, tile: int, overlap: int) -> list[tuple[Box, Box]]:
    """(core, context) boxes covering a ``width``×``height`` picture: cores tile it
    exactly, each context is its core grown by ``overlap`` (within the picture)."""
    if tile == 0 or (width <= tile and height <= tile):
        whole = (0, 0, width, height)
        return [(whole, whole)]
    boxes = []
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            core = (left, top, min(left + tile, width), min(top + tile, height))
            context = (max(0, core[0] - overlap), max(0, core[1] - overlap),
                       min(width, core[2] + overlap), min(height, core[3] + overlap))
            boxes.append((core, context))
    return boxes


def run_tiled(model: Any, image: Image.Image, device: str, dtype: str, tile: int,
              overlap: int, run: RunControl) -> Image.Image:
    """``image`` through ``model`` tile by tile, assembled in a uint8 buffer on the CPU;
    each tile is converted to 8 bits exactly as a whole-picture run would be."""
    import torch

    pixels = np.array(image.convert("RGB"))  # writable: torch reads it without a copy
    scale = int(model.scale)
    out = np.empty((pixels.shape[0] * scale, pixels.shape[1] * scale, 3), dtype=np.uint8)
    grid = tile_grid(image.width, image.height, tile, overlap)
    for i, (core, context) in enumerate(grid):
        run.step(i, len(grid))
        with torch.inference_mode():
            y = _run_tile(model, pixels, context, device, dtype)
        ox, oy = (core[0] - context[0]) * scale, (core[1] - context[1]) * scale
        w, h = (core[2] - core[0]) * scale, (core[3] - core[1]) * scale
        out[core[1] * scale:core[3] * scale, core[0] * scale:core[2] * scale] = \
            y[oy:oy + h, ox:ox + w]
    run.step(len(grid), len(grid))
    return Image.fromarray(out, "RGB")


def _run_tile(model: Any, pixels: np.ndarray, box: Box, device: str, dtype: str
              ) -> np.ndarray:
    import torch

    left, top, right, bottom = box
    crop = np.ascontiguousarray(pixels[top:bottom, left:right])
    x = torch.from_numpy(crop).permute(2, 0, 1).unsqueeze(0)
    # contiguous: a permuted HWC array would run the convolutions channels-last (slower)
    x = x.to(device=device, dtype=torch_dtype(dtype)).contiguous().div_(255.0)
    y = model(x)[0].float().mul_(255.0).round_().clamp_(0, 255).to(torch.uint8)
    return y.permute(1, 2, 0).cpu().numpy()  # type: ignore[no-any-return]


# -- the upscaler ----------------------------------------------------------------------------

class GanUpscaler:
    """One GAN upscaler: a preset name, a weights file path, or a file name in the
    upscalers folder. Has the image backends' ``upscale`` signature, so a replay re-makes
    its versions the way it re-makes theirs."""

    name = "spandrel"

    def __init__(self, weights: str, *, device: str | None = None, dtype: str | None = None,
                 tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP,
                 cache: PipelineCache | None = None) -> None:
        check_tiling(tile, overlap)
        self.weights = weights
        self.path, self.preset = find_weights(weights)
        self.sha256 = file_sha256(self.path)
        self.tile, self.overlap = tile, overlap
        self.cache = cache if cache is not None else default_cache()
        try:
            self.plan = plan_device(device, dtype, detect(device))
        except ValueError as error:
            raise ImageBackendError(str(error)) from error

    @classmethod
    def from_recipe(cls, recipe: dict[str, Any]) -> GanUpscaler:
        """The upscaler that made a version, refusing when its weights file changed."""
        upscaler = cls(str(recipe.get("local_path") or recipe["weights"]),
                       device=recipe.get("device"), dtype=recipe.get("dtype"),
                       tile=int(recipe.get("tile", DEFAULT_TILE)),
                       overlap=int(recipe.get("overlap", DEFAULT_OVERLAP)))
        if recipe.get("weights_sha256") not in (None, upscaler.sha256):
            raise ImageBackendError(f"{upscaler.path.name} has changed since this version "
                                    "was made (its sha256 differs), so it cannot re-make it.")
        return upscaler

    @property
    def label(self) -> str:
        return self.preset.label if self.preset else self.path.name

    def model(self) -> Any:
        """The loaded spandrel descriptor (from the shared cache)."""
        return self._entry().pipeline

    def _entry(self) -> Any:
        key = ("spandrel", str(self.path), self.sha256, self.plan.device, self.plan.dtype)
        return self.cache.get(key, lambda: load_descriptor(self.path, self.plan))

    def upscale(self, image: Image.Image, factor: int, req: GenerateRequest | None = None,
                run: RunControl | None = None) -> ImageResult:
        if factor not in (2, 4):
            raise ImageBackendError(f"Upscaling is by 2 or 4, not {factor}.")
        run = run or RunControl()
        run.step(0, 1)  # a cancel before the model loads
        entry = self._entry()
        model = entry.pipeline
        dtype = self.plan.dtype
        notes = []  # what a person should hear beside the upscaler's name
        with entry.lock:
            big = run_tiled(model, image.convert("RGB"), self.plan.device, dtype, self.tile,
                            self.overlap, run)
        target = (image.width * factor, image.height * factor)
        if big.size != target:
            notes.append(f"{self.label} enlarges ×{model.scale}; Lanczos resampling made "
                         f"that ×{factor}")
            big = big.resize(target, Image.Resampling.LANCZOS)
        seed = req.seed if req is not None else 0
        grid = tile_grid(image.width, image.height, self.tile, self.overlap)
        recipe: dict[str, Any] = {
            "backend": "spandrel", "mode": "upscale", "upscaler": self.label,
            "preset": self.preset.name if self.preset else None, "weights": self.path.name,
            "local_path": str(self.path), "weights_sha256": self.sha256,
            "architecture": model.architecture.name, "model_scale": int(model.scale),
            "factor": factor, "tile": self.tile, "overlap": self.overlap,
            "tiles": len(grid), "device": self.plan.device, "dtype": dtype,
            "width": target[0], "height": target[1], "notes": notes, **package_versions()}
        return ImageResult([big], [seed], recipe)


def upscaler_used(recipe: dict[str, Any]) -> str:
    """The words for what made an upscale's pixels, from its backend recipe."""
    if recipe.get("backend") == "spandrel":
        return str(recipe.get("upscaler") or recipe.get("weights"))
    if recipe.get("backend") == "diffusers" and recipe.get("pipeline") not in (None, "Lanczos"):
        return "the SD x2 latent upscaler"
    return "Lanczos resampling"


__all__ = ["GanUpscaler", "UpscaleConfig", "find_weights", "missing_message", "run_tiled",
           "spandrel_module", "tile_grid", "upscaler_used"]
