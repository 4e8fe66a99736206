"""Small pure helpers of the diffusers backend: request checks, sizes, cancellation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from museforge.models.image.base import GenerateRequest, ImageBackendError, ImageResult, RunControl


def check_request(req: GenerateRequest) -> None:
    if not 1 <= req.count <= 4:
        raise ImageBackendError(f"count is 1 to 4 images, not {req.count}.")
    if req.width % 8 or req.height % 8 or min(req.width, req.height) < 64:
        raise ImageBackendError(
            f"Width and height must be multiples of 8 and at least 64; got "
            f"{req.width}x{req.height}.")
    if req.steps is not None and not 1 <= req.steps <= 150:
        raise ImageBackendError(f"steps is 1 to 150, not {req.steps}.")


def check_strength(strength: float) -> None:
    if not 0.0 <= strength <= 1.0:
        raise ImageBackendError(f"strength is between 0 and 1, not {strength}.")


def raise_if_cancelled(run: RunControl | None) -> None:
    from museforge.models.image.base import GenerationCancelled

    if run is not None and run.cancel is not None and run.cancel.is_set():
        raise GenerationCancelled()


def is_inpaint_model(pipe: Any) -> bool:
    unet = getattr(pipe, "unet", None)
    return unet is not None and getattr(unet.config, "in_channels", 4) == 9


def fit_to_multiple(image: Image.Image, multiple: int = 8) -> tuple[Image.Image,
                                                                      tuple[int, int]]:
    """The image at the nearest size the models take, and its own size (results are
    brought back to it, so that an edit keeps the picture's size)."""
    width = max(multiple, round(image.width / multiple) * multiple)
    height = max(multiple, round(image.height / multiple) * multiple)
    if (width, height) == image.size:
        return image, image.size
    return image.resize((width, height), Image.Resampling.LANCZOS), image.size


def restore_size(result: ImageResult, size: tuple[int, int] | None) -> ImageResult:
    """Results at the input's size (after rounding to a multiple of 8, or a retry at a
    smaller size, changed it)."""
    if size is None or result.images[0].size == size:
        return result
    result.recipe["notes"].append(
        f"made at {result.images[0].width}x{result.images[0].height}, resized to the "
        f"input's {size[0]}x{size[1]}")
    result.images = [im.resize(size, Image.Resampling.LANCZOS) for im in result.images]
    result.recipe["width"], result.recipe["height"] = size
    return result


def shrink(value: Any, size: tuple[int, int]) -> Any:
    if isinstance(value, Image.Image):
        resample = Image.Resampling.NEAREST if value.mode == "L" else Image.Resampling.LANCZOS
        return value.resize(size, resample)
    if isinstance(value, list) and value and isinstance(value[0], Image.Image):
        return [shrink(v, size) for v in value]
    return value


def revision(path: Path) -> str | None:
    from museforge.models.image.presets import snapshot_revision

    return snapshot_revision(path)
