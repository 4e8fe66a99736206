"""The decisions around the backend that need no pipeline: where weights are, which
files a pull fetches, device and dtype, and the memory-bounded cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from museforge.models.devices import DeviceFacts, DevicePlan, plan_device
from museforge.models.image.presets import (
    PRESETS,
    local_folders,
    local_weights,
    snapshot_revision,
)
from museforge.models.image.weights import choose_files, locate

from .tiny_pipelines import SNAPSHOT, TinyModels

GB = 1024**3


@pytest.mark.parametrize(("facts", "device", "dtype", "expected"), [
    (DeviceFacts(), None, None, DevicePlan("cpu", "float32", False)),
    (DeviceFacts(mps=True), None, None, DevicePlan("mps", "float16", False)),
    (DeviceFacts(cuda=True, cuda_bf16=True, vram_bytes=24 * GB), None, None,
     DevicePlan("cuda", "float16", False)),
    (DeviceFacts(cuda=True, vram_bytes=6 * GB), None, None,
     DevicePlan("cuda", "float16", True)),  # small VRAM: offload
    (DeviceFacts(cuda=True, vram_bytes=24 * GB), "cpu", None,
     DevicePlan("cpu", "float32", False)),  # overridden
    (DeviceFacts(cuda=True, vram_bytes=24 * GB), "cuda:1", "float32",
     DevicePlan("cuda:1", "float32", False)),
])
def test_plan_device(facts: DeviceFacts, device: str | None, dtype: str | None,
                     expected: DevicePlan) -> None:
    assert plan_device(device, dtype, facts) == expected


def test_plan_device_bf16_only_where_the_gpu_has_it() -> None:
    big = dict(cuda=True, vram_bytes=80 * GB)
    assert plan_device(None, None, DeviceFacts(cuda_bf16=True, **big),
                       cuda_dtype="bfloat16").dtype == "bfloat16"
    assert plan_device(None, None, DeviceFacts(cuda_bf16=False, **big),
                       cuda_dtype="bfloat16").dtype == "float16"


def test_plan_device_offloads_a_model_bigger_than_vram() -> None:
    facts = DeviceFacts(cuda=True, vram_bytes=24 * GB)
    assert plan_device(None, None, facts, model_bytes=4 * GB).offload is False
    assert plan_device(None, None, facts, model_bytes=33 * GB).offload is True


@pytest.mark.parametrize(("device", "dtype", "message"), [
    ("cuda", None, "CUDA is not available"),
    ("mps", None, "MPS is not available"),
    ("tpu", None, "device must be"),
    (None, "float8", "dtype must be"),
])
def test_plan_device_refuses_what_cannot_be(device: str | None, dtype: str | None,
                                            message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_device(device, dtype, DeviceFacts())


def test_choose_files_prefers_the_variant_and_skips_root_checkpoints() -> None:
    files = ["model_index.json", "sd_turbo.safetensors", "README.md",
             "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
             "unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_pytorch_model.bin",
             "text_encoder/model.fp16.safetensors", "text_encoder/model.safetensors",
             "tokenizer/vocab.json", "tokenizer/merges.txt",
             "safety_checker/pytorch_model.bin",  # no variant, no safetensors
             "t5/model.safetensors.index.json", "t5/model-00001-of-00002.safetensors",
             "t5/model-00002-of-00002.safetensors"]
    assert choose_files(files, "fp16") == [
        "model_index.json", "safety_checker/pytorch_model.bin",
        "t5/model-00001-of-00002.safetensors", "t5/model-00002-of-00002.safetensors",
        "t5/model.safetensors.index.json", "text_encoder/model.fp16.safetensors",
        "tokenizer/merges.txt", "tokenizer/vocab.json", "unet/config.json",
        "unet/diffusion_pytorch_model.fp16.safetensors"]
    plain = choose_files(files, None)
    assert "unet/diffusion_pytorch_model.safetensors" in plain
    assert not any(".fp16." in f or f.endswith(".bin") and f.startswith("unet") for f in plain)


def test_locate_a_preset_in_the_hub_cache(tiny_hub: Path) -> None:
    files = locate("kandinsky-2.2")
    preset = PRESETS["kandinsky-2.2"]
    assert files.repo_id == preset.repo_id and files.revision == SNAPSHOT
    assert files.pipeline_class == "KandinskyV22Pipeline"
    assert files.extra[0] == local_folders(preset.extra_repos[0])[0]
    assert local_weights("kandinsky-2.2") == files.path
    assert snapshot_revision(files.path) == SNAPSHOT
    # The snapshot folder, as a recipe records it, is the same preset again.
    again = locate(str(files.path))
    assert again.preset == preset and again.repo_id == preset.repo_id
    assert again.revision == SNAPSHOT and again.extra == files.extra


def test_locate_a_folder(tiny_pipelines: TinyModels, empty_hub: Path) -> None:
    files = locate(str(tiny_pipelines.sdxl))
    assert files.repo_id is None and files.revision is None and files.preset is None
    assert files.pipeline_class == "StableDiffusionXLPipeline"
    assert local_weights("kandinsky-2.2") is None


def test_a_preset_needs_all_its_repos(tiny_pipelines: TinyModels, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    hub = tmp_path / "hub"
    shutil.copytree(tiny_pipelines.hub, hub)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    assert local_folders("kandinsky-2.2") is not None
    shutil.rmtree(hub / "models--kandinsky-community--kandinsky-2-2-prior")
    assert local_folders("kandinsky-2.2") is None


def test_cache_evicts_least_recently_used_by_bytes() -> None:
    torch = pytest.importorskip("torch")
    from museforge.models.image.pipeline_cache import PipelineCache, module_bytes

    def model(n: int):  # n float32 parameters = 4n bytes
        return lambda: torch.nn.Linear(n, 1, bias=False)

    assert module_bytes(torch.nn.Linear(250, 1, bias=False)) == 1000
    cache = PipelineCache(max_bytes=2500)
    cache.get("a", model(250))
    cache.get("b", model(250))
    cache.get("a", model(250))  # a is now the most recently used
    cache.get("c", model(250))  # 3000 > 2500: b goes
    assert cache.keys() == ["a", "c"] and cache.loads == 3 and cache.evictions == 1
    cache.get("big", model(1000))  # bigger than the budget alone: everything else goes
    assert cache.keys() == ["big"]
    assert cache.used_bytes == 4000


def test_shared_modules_are_counted_once() -> None:
    torch = pytest.importorskip("torch")
    from museforge.models.image.pipeline_cache import module_bytes

    class Pipe:
        def __init__(self) -> None:
            shared = torch.nn.Linear(10, 10, bias=False)
            self.components = {"a": shared, "b": torch.nn.Sequential(shared), "name": "x"}

    assert module_bytes(Pipe()) == 400


def test_fp16_variant_is_loaded_in_half_precision_or_when_alone(tmp_path: Path) -> None:
    from museforge.models.image.pipeline_cache import variant_for
    from museforge.models.image.weights import ModelFiles

    unet = tmp_path / "unet"
    unet.mkdir()
    (unet / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"x")
    files = ModelFiles("sd-turbo", tmp_path, "stabilityai/sd-turbo", None,
                       "StableDiffusionPipeline", preset=PRESETS["sd-turbo"])
    assert variant_for(files, "float32") == "fp16"  # only the fp16 files were pulled
    assert variant_for(files, "float16") == "fp16"
    (unet / "diffusion_pytorch_model.safetensors").write_bytes(b"x")
    assert variant_for(files, "float32") is None
    assert variant_for(files, "float16") == "fp16"
    folder = ModelFiles(str(tmp_path), tmp_path, None, None, "StableDiffusionPipeline")
    assert variant_for(folder, "float16") is None
