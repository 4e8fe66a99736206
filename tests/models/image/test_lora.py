"""LoRA styles on the tiny random-weight SD and SDXL pipelines, on CPU: training a few
steps changes the pictures, the saved file is diffusers' LoRA format and reloads to the
same pixels in a fresh backend, styles combine at strengths, a cancel stops it."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from museforge.models.image.base import (
    GenerateRequest,
    GenerationCancelled,
    ImageBackendError,
    LearntStyle,
    RunControl,
    TrainRequest,
)

from .conftest import SIZE
from .test_diffusers_backend import backend, pixels
from .tiny_pipelines import TinyModels

pytest.importorskip("peft")

LR = 1e-2  # the tiny models learn visibly in a few steps (real models: 1e-4)
REQ = GenerateRequest("a red fox in the snow", width=SIZE, height=SIZE, steps=2, seed=7)


def pictures() -> list[Image.Image]:
    """Two pictures with something to learn: warm stripes, and a cold block."""
    a = np.zeros((SIZE, SIZE, 3), np.uint8)
    a[::8] = (230, 120, 30)
    b = np.full((SIZE, SIZE, 3), (20, 60, 200), np.uint8)
    b[16:48, 16:48] = (250, 250, 250)
    return [Image.fromarray(a), Image.fromarray(b)]


def train(model: Path, steps: int = 6, seed: int = 0, run: RunControl | None = None):
    req = TrainRequest("stripes", pictures(), ["a red fox", "a castle at night"],
                       steps=steps, seed=seed, resolution=SIZE, learning_rate=LR)
    return backend(model).train_style(req, run)


def as_style(tmp_path: Path, data: bytes, name: str = "stripes", weight: float = 1.0
             ) -> LearntStyle:
    sha = hashlib.sha256(data).hexdigest()
    path = tmp_path / f"{sha}.safetensors"
    path.write_bytes(data)
    return LearntStyle(name, 1, path, sha, weight, "diffusers")


def test_a_lora_trains_and_changes_the_pictures(tiny_pipelines: TinyModels, empty_hub: Path,
                                                tmp_path: Path) -> None:
    losses: list[tuple[int, int, float]] = []
    made = train(tiny_pipelines.sd, run=RunControl(loss=lambda i, n, x: losses.append((i, n, x))))

    assert [(i, n) for i, n, _ in losses] == [(i, 6) for i in range(1, 7)]
    assert all(np.isfinite(x) and x > 0 for _, _, x in losses)
    recipe = made.recipe
    assert recipe["family"] == "sd15" and recipe["method"] == "lora"
    assert recipe["settings"]["rank"] == 16 and recipe["settings"]["steps"] == 6
    assert recipe["settings"]["target_modules"] == ["to_k", "to_q", "to_v", "to_out.0"]
    assert recipe["base"]["local_path"] == str(tiny_pipelines.sd)
    assert recipe["final_loss"] > 0 and made.mime == "application/x-safetensors"

    painter = backend(tiny_pipelines.sd)
    plain = pixels(painter.generate(REQ).images[0])
    styled = painter.generate(REQ.with_(learnt=(as_style(tmp_path, made.data),)))
    assert np.abs(pixels(styled.images[0]) - plain).mean() > 1.0
    assert styled.recipe["learnt_styles"][0]["name"] == "stripes"
    # Without the style again, the adapter is off: the plain pixels come back exactly.
    assert (pixels(painter.generate(REQ).images[0]) == plain).all()


def test_the_adapter_is_diffusers_lora_format_and_reloads_to_identical_pixels(
        tiny_pipelines: TinyModels, empty_hub: Path, tmp_path: Path) -> None:
    from diffusers import StableDiffusionPipeline
    from safetensors.torch import load_file

    made = train(tiny_pipelines.sd, steps=3)
    style = as_style(tmp_path, made.data)
    keys = list(load_file(str(style.path)))
    assert keys and all(k.startswith("unet.") and ".lora." in k for k in keys)
    # The same training again makes the same file, byte for byte.
    assert train(tiny_pipelines.sd, steps=3).data == made.data

    first = backend(tiny_pipelines.sd).generate(REQ.with_(learnt=(style,))).images[0]
    again = backend(tiny_pipelines.sd).generate(REQ.with_(learnt=(style,))).images[0]
    assert (pixels(first) == pixels(again)).all()

    # diffusers' own loader reads it, and paints what the backend painted.
    pipe = StableDiffusionPipeline.from_pretrained(tiny_pipelines.sd, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    pipe.load_lora_weights(str(tmp_path), weight_name=style.path.name)
    import torch

    out = pipe(REQ.prompt, num_inference_steps=2, height=SIZE, width=SIZE,
               generator=[torch.Generator("cpu").manual_seed(7)]).images[0]
    assert (pixels(out) == pixels(first)).all()


def test_styles_combine_at_their_strengths(tiny_pipelines: TinyModels, empty_hub: Path,
                                           tmp_path: Path) -> None:
    a = as_style(tmp_path, train(tiny_pipelines.sd, seed=1).data, "a")
    b = as_style(tmp_path, train(tiny_pipelines.sd, seed=2).data, "b")
    painter = backend(tiny_pipelines.sd)

    def paint(*styles: LearntStyle) -> np.ndarray:
        return pixels(painter.generate(REQ.with_(learnt=styles)).images[0])

    plain, only_a, both = paint(), paint(a), paint(a, b)
    half_a = paint(LearntStyle(a.name, 1, a.path, a.sha256, 0.5, "diffusers"))
    assert np.abs(only_a - plain).mean() > 1.0
    assert np.abs(both - only_a).mean() > 0.5
    assert np.abs(half_a - plain).mean() < np.abs(only_a - plain).mean()
    zero = LearntStyle(a.name, 1, a.path, a.sha256, 0.0, "diffusers")
    assert (paint(zero) == plain).all()


def test_sdxl_trains_with_its_time_ids(tiny_pipelines: TinyModels, empty_hub: Path,
                                       tmp_path: Path) -> None:
    made = train(tiny_pipelines.sdxl, steps=3)
    assert made.recipe["family"] == "sdxl"
    assert made.recipe["settings"]["resolution"] == SIZE
    painter = backend(tiny_pipelines.sdxl)
    plain = pixels(painter.generate(REQ).images[0])
    styled = pixels(painter.generate(REQ.with_(learnt=(as_style(tmp_path, made.data),)))
                    .images[0])
    assert np.abs(styled - plain).mean() > 0.5


def test_cancel_stops_the_training(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    cancel = threading.Event()
    steps: list[int] = []

    def loss(i: int, n: int, x: float) -> None:
        steps.append(i)
        if i == 2:
            cancel.set()

    with pytest.raises(GenerationCancelled):
        train(tiny_pipelines.sd, steps=50, run=RunControl(cancel=cancel, loss=loss))
    assert steps == [1, 2]


def test_models_that_cannot_learn_say_why(tiny_pipelines: TinyModels, empty_hub: Path,
                                          tmp_path: Path) -> None:
    with pytest.raises(ImageBackendError, match="inpainting or editing model"):
        train(tiny_pipelines.inpaint)
    painted = as_style(tmp_path, b"{}", "painted")
    painted = LearntStyle("painted", 1, painted.path, painted.sha256, 1.0, "procedural")
    with pytest.raises(ImageBackendError, match="learnt by the built-in painter"):
        backend(tiny_pipelines.sd).generate(REQ.with_(learnt=(painted,)))


def test_family_defaults() -> None:
    from museforge.models.image.lora import FAMILY_DEFAULTS, caption_for, settings_for

    assert FAMILY_DEFAULTS["sdxl"].resolution == 1024
    assert FAMILY_DEFAULTS["sd15"].resolution == FAMILY_DEFAULTS["sd-turbo"].resolution == 512
    assert settings_for("sd-turbo", steps=None).steps == FAMILY_DEFAULTS["sd-turbo"].steps
    assert caption_for("", "Aird", None) == "a picture in the style of Aird"
    assert caption_for("a fox", "Pip", "Pip") == "Pip, a fox"
    assert caption_for("", "Pip", "Pip") == "a picture of Pip"
