"""What goes wrong on users' machines: weights not there, the GPU out of memory (the
error injected, since a CPU does not raise it), the safety checker flagging."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from museforge.models.image.base import (
    ContentFlagged,
    GenerateRequest,
    ImageBackendError,
    WeightsMissing,
)

from .conftest import SIZE
from .test_diffusers_backend import REQ, backend
from .tiny_pipelines import TinyModels

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("model", ["sd-turbo", "kandinsky-2.2", "someone/some-model"])
def test_missing_weights_name_the_model_and_the_pull_command(model: str,
                                                             empty_hub: Path) -> None:
    with pytest.raises(WeightsMissing) as caught:
        backend(model)
    message = str(caught.value)
    assert f"'{model}' is not on this machine" in message
    assert f"museforge models pull {model}" in message


def test_missing_folder_says_so(tmp_path: Path, empty_hub: Path) -> None:
    with pytest.raises(WeightsMissing, match="model_index.json"):
        backend(tmp_path / "nothing-here")


def test_missing_tiny_autoencoder(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    with pytest.raises(WeightsMissing, match="madebyollin/taesd"):
        backend(tiny_pipelines.sd, taesd="madebyollin/taesd")


def _raise_oom_on_calls(monkeypatch: pytest.MonkeyPatch, cls: type, times: int) -> list:
    """Make ``cls.__call__`` raise CUDA's out-of-memory error ``times`` times, recording
    the sizes it was asked for."""
    real = cls.__call__
    asked: list[tuple[int, int]] = []

    @functools.wraps(real)  # the backend reads the call's signature
    def flaky(self, *args, **kwargs):
        asked.append((kwargs.get("width"), kwargs.get("height")))
        if len(asked) <= times:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__call__", flaky)
    return asked


def test_out_of_memory_retries_once_smaller(tiny_pipelines: TinyModels, empty_hub: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import StableDiffusionPipeline

    b = backend(tiny_pipelines.sd)
    asked = _raise_oom_on_calls(monkeypatch, StableDiffusionPipeline, times=1)
    result = b.generate(REQ.with_(width=128, height=128))
    assert asked == [(128, 128), (96, 96)]
    assert result.images[0].size == (96, 96)
    assert result.recipe["width"] == 96
    assert "out of memory: retried at 96x96" in result.recipe["notes"]


def test_out_of_memory_in_image_operations_keeps_the_input_size(
        tiny_pipelines: TinyModels, empty_hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """img2img takes its size from the image, inpainting from its arguments: both retry
    smaller and come back at the input's size."""
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline
    from PIL import Image

    from .test_diffusers_backend import a_picture

    b = backend(tiny_pipelines.sd)
    picture = a_picture((128, 96))
    _raise_oom_on_calls(monkeypatch, StableDiffusionImg2ImgPipeline, times=1)
    varied = b.img2img(picture, REQ, 0.5)
    assert varied.images[0].size == (128, 96)
    assert "out of memory: retried at 96x72" in varied.recipe["notes"]
    asked = _raise_oom_on_calls(monkeypatch, StableDiffusionInpaintPipeline, times=1)
    mask = Image.new("L", picture.size, 0)
    mask.paste(255, (0, 0, 64, 96))
    repainted = b.inpaint(picture, mask, REQ)
    assert asked == [(128, 96), (96, 72)]
    assert repainted.images[0].size == (128, 96)
    right = np.asarray(repainted.images[0])[:, 72:]
    assert np.array_equal(right, np.asarray(picture)[:, 72:])


def test_out_of_memory_twice_is_a_clear_error_and_the_backend_survives(
        tiny_pipelines: TinyModels, empty_hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import StableDiffusionPipeline

    b = backend(tiny_pipelines.sd)
    before = b.generate(REQ).images[0]
    _raise_oom_on_calls(monkeypatch, StableDiffusionPipeline, times=2)
    with pytest.raises(ImageBackendError, match="Out of memory making 1 image"):
        b.generate(REQ)
    after = b.generate(REQ).images[0]  # the third call goes through
    assert np.array_equal(np.asarray(before), np.asarray(after))


def test_a_runtime_error_saying_out_of_memory_counts(tiny_pipelines: TinyModels,
                                                     empty_hub: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import StableDiffusionPipeline

    b = backend(tiny_pipelines.sd)
    real = StableDiffusionPipeline.__call__
    calls = []

    @functools.wraps(real)
    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("MPS backend out of memory (MPS allocated: 8 GB)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionPipeline, "__call__", flaky)
    assert len(b.generate(REQ.with_(width=96, height=96)).images) == 1

    @functools.wraps(real)
    def broken(self, *args, **kwargs):
        calls.append(1)
        raise RuntimeError("shape mismatch")

    calls.clear()
    monkeypatch.setattr(StableDiffusionPipeline, "__call__", broken)
    # Other errors are not retried.
    with pytest.raises(RuntimeError, match="shape mismatch"):
        b.generate(REQ)
    assert len(calls) == 1


def test_oom_fallback_decision() -> None:
    from museforge.models.devices import DevicePlan
    from museforge.models.image.diffusers_backend import oom_fallback

    assert oom_fallback(DevicePlan("cuda", "float16", offload=False)) == "offload"
    assert oom_fallback(DevicePlan("cuda", "float16", offload=True)) == "smaller"
    assert oom_fallback(DevicePlan("cpu", "float32", offload=False)) == "smaller"


def test_safety_checker_flagging_everything_keeps_nothing(tiny_pipelines: TinyModels,
                                                          empty_hub: Path) -> None:
    with pytest.raises(ContentFlagged, match="safety checker"):
        backend(tiny_pipelines.sd_flagging).generate(REQ.with_(count=2))
    # Configurable: off, the same model gives images.
    result = backend(tiny_pipelines.sd_flagging, safety_checker=False).generate(REQ)
    assert result.flagged == [False]
    assert result.recipe["safety_checker"] is False
    assert np.asarray(result.images[0]).std() > 5


def test_safety_checker_that_passes(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    result = backend(tiny_pipelines.sd_checked).generate(REQ.with_(count=2))
    assert result.flagged == [False, False]


def test_some_flagged_images_are_reported(tiny_pipelines: TinyModels, empty_hub: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import StableDiffusionPipeline

    real = StableDiffusionPipeline.run_safety_checker

    def first_flagged(self, image, device, dtype):
        image, _ = real(self, image, device, dtype)
        return image, [True] + [False] * (len(image) - 1)

    monkeypatch.setattr(StableDiffusionPipeline, "run_safety_checker", first_flagged)
    result = backend(tiny_pipelines.sd_checked).generate(REQ.with_(count=2))
    assert result.flagged == [True, False]
    assert len(result.images) == 2


def test_request_defaults_come_from_the_preset(tiny_hub: Path) -> None:
    from museforge.models.image.presets import PRESETS

    b = backend("kandinsky-2.2")
    steps, guidance = b._defaults(GenerateRequest("x", width=SIZE, height=SIZE))
    assert (steps, guidance) == (PRESETS["kandinsky-2.2"].steps,
                                 PRESETS["kandinsky-2.2"].guidance)


def test_out_of_memory_on_a_gpu_reloads_with_offload(tiny_pipelines: TinyModels,
                                                     empty_hub: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The CUDA path of the retry, walked on the CPU: the decision says "offload" (as it
    does on a GPU without offload), the model is reloaded with model CPU offload, and the
    backend keeps it for later requests."""
    from diffusers import DiffusionPipeline, StableDiffusionPipeline

    import museforge.models.image.diffusers_backend as module
    from museforge.models.image.pipeline_cache import PipelineCache

    offloaded: list[str] = []
    monkeypatch.setattr(module, "oom_fallback", lambda plan: "smaller" if plan.offload
                        else "offload")
    monkeypatch.setattr(DiffusionPipeline, "enable_model_cpu_offload",
                        lambda self, device=None, **kw: offloaded.append(str(device)))
    cache = PipelineCache()
    b = backend(tiny_pipelines.sd, cache)
    b.generate(REQ)
    _raise_oom_on_calls(monkeypatch, StableDiffusionPipeline, times=1)
    result = b.generate(REQ)
    assert "out of memory: retried with model CPU offload" in result.recipe["notes"]
    assert result.recipe["offload"] is True and b.plan.offload is True
    assert offloaded == ["cpu"] and cache.loads == 2 and len(cache.keys()) == 1
    b.generate(REQ)
    assert cache.loads == 2


def test_a_device_that_is_not_there(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    from museforge.models.image.diffusers_backend import DiffusersBackend

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ImageBackendError, match="CUDA is not available"):
        DiffusersBackend(str(tiny_pipelines.sd), device="cuda")


def test_backends_share_the_process_cache_by_default(tiny_pipelines: TinyModels,
                                                     empty_hub: Path) -> None:
    from museforge.models.image.diffusers_backend import DiffusersBackend
    from museforge.models.image.pipeline_cache import default_cache

    cache = default_cache()
    before = cache.loads
    for seed in (1, 2):
        DiffusersBackend(str(tiny_pipelines.sdxl), device="cpu").generate(REQ.with_(seed=seed))
    assert cache.loads == before + 1
    cache.drop()
