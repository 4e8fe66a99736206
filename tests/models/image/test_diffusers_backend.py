"""The diffusers backend on tiny random-weight pipelines, loaded from folders the way a
user's weights are: loading, caching, seeds, batches, progress, every operation."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from museforge.models.image.base import (
    GenerateRequest,
    GenerationCancelled,
    ImageBackendError,
    RunControl,
)

from .conftest import SIZE
from .tiny_pipelines import SNAPSHOT, TinyModels

pytest.importorskip("diffusers")

REQ = GenerateRequest("a red fox in the snow", width=SIZE, height=SIZE, steps=2, seed=7)


def backend(model: str | Path, cache=None, **kwargs):
    from museforge.models.image.diffusers_backend import DiffusersBackend
    from museforge.models.image.pipeline_cache import PipelineCache

    return DiffusersBackend(str(model), device="cpu",
                            cache=cache if cache is not None else PipelineCache(), **kwargs)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def a_picture(size: tuple[int, int] = (SIZE, SIZE)) -> Image.Image:
    """Not noise: a gradient with a block, so edits have something to keep."""
    x = np.linspace(0, 255, size[0], dtype=np.uint8)
    rgb = np.stack([np.tile(x, (size[1], 1)), np.tile(x[::-1], (size[1], 1)),
                    np.full((size[1], size[0]), 90, np.uint8)], axis=-1)
    rgb[size[1] // 4: size[1] // 2, size[0] // 4: size[0] // 2] = (250, 20, 20)
    return Image.fromarray(rgb)


def test_importing_the_backend_does_not_import_torch() -> None:
    code = ("import sys, museforge.models.image.diffusers_backend, "
            "museforge.models.image.weights, museforge.models.image.pipeline_cache, "
            "museforge.models.devices; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_generate_loads_a_folder_and_records_the_recipe(tiny_pipelines: TinyModels,
                                                        empty_hub: Path) -> None:
    result = backend(tiny_pipelines.sd).generate(REQ)
    assert [im.size for im in result.images] == [(SIZE, SIZE)]
    assert result.seeds == [7] and result.flagged == [False]
    recipe = result.recipe
    assert recipe["backend"] == "diffusers"
    assert recipe["local_path"] == str(tiny_pipelines.sd)
    assert recipe["pipeline"] == "StableDiffusionPipeline"
    assert recipe["scheduler"] == "EulerDiscreteScheduler"
    assert (recipe["steps"], recipe["width"], recipe["height"]) == (2, SIZE, SIZE)
    assert recipe["dtype"] == "float32" and recipe["device"] == "cpu"
    assert recipe["seeds"] == [7] and recipe["revision"] is None
    assert set(recipe["versions"]) == {"diffusers", "torch", "transformers"}
    # The image is not flat: a tokenizer or a pipeline that silently did nothing would be.
    assert pixels(result.images[0]).std() > 5


def test_second_request_reuses_the_loaded_pipeline(tiny_pipelines: TinyModels,
                                                   empty_hub: Path) -> None:
    from museforge.models.image.pipeline_cache import PipelineCache

    cache = PipelineCache()
    first = backend(tiny_pipelines.sd, cache)
    first.generate(REQ)
    first.generate(REQ.with_(seed=8))
    # A second backend on the same model (the tools make one per call) shares it too,
    # and img2img / inpaint are made from it with from_pipe, not loaded.
    second = backend(tiny_pipelines.sd, cache)
    second.img2img(a_picture(), REQ, 0.5)
    second.inpaint(a_picture(), Image.new("L", (SIZE, SIZE), 255), REQ)
    assert cache.loads == 1
    entry = cache.get(cache.keys()[0], lambda: pytest.fail("reloaded"))
    img2img = entry.siblings["img2img"]
    assert img2img.unet is entry.pipeline.unet


def test_same_request_same_pixels_and_seeds_differ(tiny_pipelines: TinyModels,
                                                   empty_hub: Path) -> None:
    b = backend(tiny_pipelines.sd)
    one = b.generate(REQ).images[0]
    again = b.generate(REQ).images[0]
    other = b.generate(REQ.with_(seed=8)).images[0]
    assert np.array_equal(pixels(one), pixels(again))
    assert np.abs(pixels(one) - pixels(other)).mean() > 1


def test_a_fresh_backend_remakes_the_pixels_from_the_recipe(tiny_pipelines: TinyModels,
                                                            empty_hub: Path) -> None:
    first = backend(tiny_pipelines.sd).generate(REQ)
    recipe = first.recipe
    remade = backend(recipe["local_path"]).generate(GenerateRequest(
        recipe["prompt"], negative_prompt=recipe["negative_prompt"], width=recipe["width"],
        height=recipe["height"], steps=recipe["steps"], guidance=recipe["guidance"],
        seed=recipe["seed"], count=recipe["count"], style=recipe["style"]))
    assert np.array_equal(pixels(first.images[0]), pixels(remade.images[0]))


def test_count_two_is_one_batch_and_each_image_remakes_alone(tiny_pipelines: TinyModels,
                                                              empty_hub: Path) -> None:
    b = backend(tiny_pipelines.sd)
    steps: list[tuple[int, int]] = []
    batch = b.generate(REQ.with_(count=2), RunControl(progress=lambda i, n: steps.append((i, n))))
    assert len(batch.images) == 2 and batch.seeds == [7, 8]
    assert batch.recipe["seeds"] == [7, 8]
    assert steps == [(1, 2), (2, 2)]  # one pipeline call for both images
    alone = b.generate(REQ.with_(seed=8)).images[0]
    # Batched and single convolutions may round differently in the last bit.
    assert np.abs(pixels(batch.images[1]) - pixels(alone)).max() <= 2
    assert np.abs(pixels(batch.images[0]) - pixels(alone)).mean() > 1


def test_progress_reports_every_step(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    steps: list[tuple[int, int]] = []
    backend(tiny_pipelines.sd).generate(REQ.with_(steps=3),
                                        RunControl(progress=lambda i, n: steps.append((i, n))))
    assert steps == [(1, 3), (2, 3), (3, 3)]


def test_cancel_between_steps(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    b = backend(tiny_pipelines.sd)
    cancel = threading.Event()
    seen: list[int] = []

    def progress(i: int, n: int) -> None:
        seen.append(i)
        cancel.set()  # the user presses stop during step 1

    with pytest.raises(GenerationCancelled):
        b.generate(REQ.with_(steps=3), RunControl(progress=progress, cancel=cancel))
    assert seen == [1]
    # Cancelled before it starts: no step runs. And the backend still works afterwards.
    with pytest.raises(GenerationCancelled):
        b.generate(REQ, RunControl(progress=progress, cancel=cancel))
    assert seen == [1]
    assert len(b.generate(REQ).images) == 1


def test_img2img_keeps_size_and_follows_strength(tiny_pipelines: TinyModels,
                                                 empty_hub: Path) -> None:
    b = backend(tiny_pipelines.sd)
    picture = a_picture((72, 56))  # not the model's size: kept
    steps: list[tuple[int, int]] = []
    subtle = b.img2img(picture, REQ, 0.35, RunControl(progress=lambda i, n: steps.append((i, n))))
    strong = b.img2img(picture, REQ, 0.9)
    assert subtle.images[0].size == (72, 56) and strong.images[0].size == (72, 56)
    # A turbo-style 2 steps at strength 0.35 still runs 2 steps.
    assert steps == [(1, 2), (2, 2)]
    assert subtle.recipe["strength"] == 0.35 and subtle.recipe["steps"] == 2
    assert subtle.recipe["pipeline"] == "StableDiffusionImg2ImgPipeline"
    # Random weights give no meaning to "closer to the input"; only that strength matters.
    assert not np.array_equal(pixels(subtle.images[0]), pixels(strong.images[0]))
    source = pixels(picture)
    variations = b.img2img(picture, REQ.with_(count=2), 0.7)
    assert [im.size for im in variations.images] == [(72, 56)] * 2
    assert variations.seeds == [7, 8]
    kept = b.img2img(picture, REQ, 0.0)
    assert np.array_equal(pixels(kept.images[0]), source)


def test_edit_with_instruct_pix2pix_when_present(tiny_pipelines: TinyModels,
                                                 tiny_hub: Path) -> None:
    result = backend(tiny_pipelines.sd).edit(a_picture(), "make it snowy",
                                             REQ.with_(count=2), 0.5)
    assert [im.size for im in result.images] == [(SIZE, SIZE)] * 2
    recipe = result.recipe
    assert recipe["pipeline"] == "StableDiffusionInstructPix2PixPipeline"
    assert recipe["helper"]["revision"] == SNAPSHOT
    assert recipe["helper"]["model_id"] == "timbrooks/instruct-pix2pix"
    assert recipe["instruction"] == "make it snowy" and recipe["image_guidance"] == 1.5
    assert recipe["seeds"] == [7, 8]


def test_edit_without_instruct_pix2pix_folds_the_instruction(tiny_pipelines: TinyModels,
                                                             empty_hub: Path) -> None:
    result = backend(tiny_pipelines.sd).edit(a_picture(), "make it snowy", REQ, 0.5)
    recipe = result.recipe
    assert result.images[0].size == (SIZE, SIZE)
    assert recipe["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert recipe["prompt"] == "a red fox in the snow, make it snowy"
    assert any("instruct-pix2pix is not on this machine" in n for n in recipe["notes"])
    with pytest.raises(ImageBackendError, match="instruction"):
        backend(tiny_pipelines.sd).edit(a_picture(), "  ", REQ, 0.5)


def test_inpaint_repaints_only_the_mask(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    picture = a_picture()
    mask = Image.new("L", (SIZE, SIZE), 0)
    mask.paste(255, (0, 0, SIZE // 2, SIZE))  # the left half
    result = backend(tiny_pipelines.sd).inpaint(picture, mask, REQ)
    assert result.images[0].size == (SIZE, SIZE)
    assert result.recipe["pipeline"] == "StableDiffusionInpaintPipeline"
    diff = np.abs(pixels(result.images[0]) - pixels(picture)).mean(axis=(0, 2))
    assert diff[: SIZE // 2 - 4].mean() > 5
    assert diff[SIZE // 2 + 4:].max() == 0  # the original, beyond the softened edge
    with pytest.raises(ImageBackendError, match="mask"):
        backend(tiny_pipelines.sd).inpaint(picture, mask.resize((32, 32)), REQ)


def test_inpaint_with_a_dedicated_model(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    b = backend(tiny_pipelines.sd, inpaint_model=str(tiny_pipelines.inpaint))
    result = b.inpaint(a_picture(), Image.new("L", (SIZE, SIZE), 255), REQ.with_(count=2))
    assert len(result.images) == 2
    assert result.recipe["helper"]["local_path"] == str(tiny_pipelines.inpaint)
    assert "dedicated inpainting model" in result.recipe["notes"]
    with pytest.raises(ImageBackendError, match="inpainting model"):
        backend(tiny_pipelines.inpaint).generate(REQ)


def test_upscale_with_the_latent_upscaler(tiny_pipelines: TinyModels, tiny_hub: Path) -> None:
    steps: list[tuple[int, int]] = []
    b = backend(tiny_pipelines.sd)
    two = b.upscale(a_picture((32, 32)), 2, REQ, RunControl(progress=lambda i, n: steps.append(
        (i, n))))
    assert two.images[0].size == (64, 64)
    assert two.recipe["pipeline"] == "StableDiffusionLatentUpscalePipeline"
    assert two.recipe["helper"]["revision"] == SNAPSHOT
    assert steps == [(1, 2), (2, 2)]
    four = b.upscale(a_picture((32, 32)), 4, REQ)
    assert four.images[0].size == (128, 128)
    assert "then Lanczos x2" in four.recipe["notes"]


def test_upscale_falls_back_to_lanczos(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    result = backend(tiny_pipelines.sd).upscale(a_picture((40, 24)), 4, REQ)
    assert result.images[0].size == (160, 96)
    assert result.recipe["pipeline"] == "Lanczos"
    assert any("Lanczos" in n for n in result.recipe["notes"])
    with pytest.raises(ImageBackendError, match="2 or 4"):
        backend(tiny_pipelines.sd).upscale(a_picture(), 3, REQ)


def test_sdxl_generate_and_img2img(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    b = backend(tiny_pipelines.sdxl)
    result = b.generate(REQ.with_(count=2))
    assert [im.size for im in result.images] == [(SIZE, SIZE)] * 2
    assert result.recipe["pipeline"] == "StableDiffusionXLPipeline"
    varied = b.img2img(result.images[0], REQ, 0.7)
    assert varied.recipe["pipeline"] == "StableDiffusionXLImg2ImgPipeline"


def test_kandinsky_preset_from_the_hub_cache(tiny_hub: Path) -> None:
    from museforge.models.image.presets import PRESETS

    b = backend("kandinsky-2.2")
    steps: list[tuple[int, int]] = []
    result = b.generate(REQ.with_(count=2), RunControl(progress=lambda i, n: steps.append((i, n))))
    assert [im.size for im in result.images] == [(SIZE, SIZE)] * 2
    recipe = result.recipe
    assert recipe["model_id"] == PRESETS["kandinsky-2.2"].repo_id
    assert recipe["revision"] == SNAPSHOT and recipe["prior_revision"] == SNAPSHOT
    assert recipe["pipeline"] == "KandinskyV22Pipeline"
    # The prior once per image, then the decoder: 2 + 2 + 2 steps of 6.
    assert steps == [(i, 6) for i in range(1, 7)]
    assert np.array_equal(pixels(b.generate(REQ.with_(seed=8)).images[0]),
                          pixels(b.generate(REQ.with_(seed=8)).images[0]))
    varied = b.img2img(result.images[0], REQ, 0.5)
    assert varied.recipe["pipeline"] == "KandinskyV22Img2ImgPipeline"
    with pytest.raises(ImageBackendError, match="inpaint"):
        b.inpaint(a_picture(), Image.new("L", (SIZE, SIZE), 255), REQ)


def test_tiny_autoencoder_previews_and_cpu_decoding(tiny_pipelines: TinyModels,
                                                   empty_hub: Path) -> None:
    previews: list[tuple[int, int, tuple[int, int]]] = []
    b = backend(tiny_pipelines.sd, taesd=str(tiny_pipelines.taesd),
                preview=lambda i, n, im: previews.append((i, n, im.size)))
    result = b.generate(REQ)
    assert previews == [(1, 2, (SIZE, SIZE)), (2, 2, (SIZE, SIZE))]
    assert result.images[0].size == (SIZE, SIZE)
    assert result.recipe["decoder"]["class"] == "AutoencoderTiny"
    full = backend(tiny_pipelines.sd).generate(REQ).images[0]
    assert not np.array_equal(pixels(full), pixels(result.images[0]))


def test_bad_requests_are_refused_with_a_reason(tiny_pipelines: TinyModels,
                                                empty_hub: Path) -> None:
    b = backend(tiny_pipelines.sd)
    with pytest.raises(ImageBackendError, match="count is 1 to 4"):
        b.generate(REQ.with_(count=5))
    with pytest.raises(ImageBackendError, match="multiples of 8"):
        b.generate(REQ.with_(width=100))
    with pytest.raises(ImageBackendError, match="strength"):
        b.img2img(a_picture(), REQ, 1.5)
