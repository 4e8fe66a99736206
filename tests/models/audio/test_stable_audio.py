"""The Stable Audio Open backend on a tiny random-weight ``StableAudioPipeline`` saved
locally: it loads from a folder or the hub cache (never the network), shares the pipeline
cache, is seeded (same seed and weights, same samples on the CPU), takes seconds as the
clip's length and a negative prompt, reports progress per step and stops at the next step
on a cancel, and refuses a changed weights file on replay."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torchsde")

from museforge.models.audio.generation import (  # noqa: E402
    STABLE_AUDIO,
    AudioGenerationCancelled,
    AudioModelError,
    AudioRequest,
    AudioRun,
    family_of,
    generator_from_recipe,
    local_audio_model,
    locate,
    open_generator,
)
from museforge.models.audio.stable_audio import StableAudioBackend  # noqa: E402
from museforge.models.image.pipeline_cache import PipelineCache  # noqa: E402

from .tiny_stable_audio import SAMPLING_RATE, save_tiny_stable_audio  # noqa: E402


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_stable_audio(tmp_path_factory.mktemp("sa") / "tiny")


def test_a_folder_loads_once_and_is_seeded(folder):
    cache = PipelineCache()
    backend = StableAudioBackend(str(folder), cache=cache, steps=4)
    one = backend.generate(AudioRequest("calm piano", 1.5, 3))
    again = StableAudioBackend(str(folder), cache=cache, steps=4).generate(
        AudioRequest("calm piano", 1.5, 3))
    assert cache.loads == 1 and cache.used_bytes > 0
    assert one.sample_rate == SAMPLING_RATE and one.samples.shape == (12000, 2)
    assert one.samples.dtype == np.float32 and np.abs(one.samples).max() > 0
    assert np.array_equal(one.samples, again.samples)  # same seed and weights on the CPU
    assert not np.array_equal(one.samples, backend.generate(
        AudioRequest("calm piano", 1.5, 4)).samples)
    assert not np.array_equal(one.samples, backend.generate(
        AudioRequest("jazz guitar", 1.5, 3)).samples)  # the prompt conditions it
    negative = backend.generate(AudioRequest("calm piano", 1.5, 3, negative_prompt="drums"))
    assert not np.array_equal(one.samples, negative.samples)
    r = one.recipe
    assert r["backend"] == STABLE_AUDIO and r["steps"] == 4 and r["guidance"] == 7.0
    assert r["seed"] == 3 and r["deterministic"] and r["class"] == "StableAudioPipeline"
    assert r["scheduler"] == "CosineDPMSolverMultistepScheduler" and len(r["weights_sha256"]) == 64
    assert negative.recipe["negative_prompt"] == "drums"
    assert backend.generate(AudioRequest("x", 1.0, 1)).samples.shape == (8000, 2)


def test_progress_is_per_step_and_a_cancel_stops_at_the_next(folder):
    backend = StableAudioBackend(str(folder), cache=PipelineCache(), steps=6)
    seen: list[tuple[int, int]] = []
    backend.generate(AudioRequest("x", 1, 1), AudioRun(progress=lambda i, n: seen.append((i, n))))
    assert seen == [(i, 6) for i in range(7)]
    cancel = threading.Event()
    steps: list[int] = []
    calls = 0
    pipe = backend._entry().pipeline
    forward = pipe.transformer.forward

    def counted(*args, **kwargs):  # a cancel that arrives during the second step
        nonlocal calls
        calls += 1
        if calls == 2:
            cancel.set()
        return forward(*args, **kwargs)

    pipe.transformer.forward = counted
    try:
        with pytest.raises(AudioGenerationCancelled):
            backend.generate(AudioRequest("x", 1, 1),
                             AudioRun(progress=lambda i, n: steps.append(i), cancel=cancel))
    finally:
        del pipe.transformer.forward
    assert steps == [0, 1] and calls == 2  # it stopped when the second step ended, not at six
    ok = backend.generate(AudioRequest("x", 1, 1))  # the pipeline works after a cancel
    assert ok.samples.shape == (8000, 2)


def test_limits_are_one_sentence(folder):
    backend = StableAudioBackend(str(folder), cache=PipelineCache(), steps=2)
    longest = backend.generate(AudioRequest("x", 2.0, 1))  # the decoder ends 32 samples short
    assert longest.samples.shape == (16000, 2) and not longest.samples[-32:].any()
    with pytest.raises(AudioModelError, match="makes 0 to 2.0 seconds, not 3"):
        backend.generate(AudioRequest("x", 3, 1))
    with pytest.raises(AudioModelError, match="does not follow a melody"):
        backend.generate(AudioRequest("x", 1, 1, melody=np.zeros(800, np.float32),
                                      melody_rate=8000))
    with pytest.raises(AudioModelError, match="1 to 250 steps, not 300"):
        backend.generate(AudioRequest("x", 1, 1, steps=300))


def test_the_recipe_remakes_it_and_changed_weights_are_refused(folder, tmp_path):
    copy = Path(shutil.copytree(folder, tmp_path / "copy"))
    made = StableAudioBackend(str(copy), steps=3).generate(AudioRequest("lofi beat", 1, 7))
    again = generator_from_recipe(made.recipe)
    assert isinstance(again, StableAudioBackend) and again.default_steps == 3
    assert np.array_equal(again.generate(AudioRequest("lofi beat", 1, 7)).samples, made.samples)
    weights = next((copy / "transformer").glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(AudioModelError, match="have changed since this version was made"):
        generator_from_recipe(made.recipe)


def test_the_preset_is_found_in_the_hub_cache_only(monkeypatch, tmp_path, folder):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert local_audio_model("stable-audio-open") is None
    with pytest.raises(AudioModelError, match="museforge models pull stable-audio-open"):
        open_generator("stable-audio-open")
    repo = tmp_path / "models--stabilityai--stable-audio-open-1.0"
    shutil.copytree(folder, repo / "snapshots" / "rev1")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("rev1")
    path, preset = locate("stable-audio-open")
    assert path.name == "rev1" and preset is not None and preset.label == "Stable Audio Open"
    assert family_of(path) == STABLE_AUDIO
    backend = open_generator("stable-audio-open")
    assert isinstance(backend, StableAudioBackend) and backend.label == "Stable Audio Open"
    recipe = StableAudioBackend("stable-audio-open", steps=2).generate(
        AudioRequest("x", 1, 1)).recipe
    assert recipe["preset"] == "stable-audio-open" and recipe["revision"] == "rev1"


def test_models_pull_fetches_the_pipeline_folders_only(monkeypatch, tmp_path):
    import huggingface_hub

    from museforge.models.image.weights import pull

    asked = {}

    def snapshot_download(repo_id, allow_patterns=None, tqdm_class=None):
        asked.update(repo_id=repo_id, patterns=allow_patterns)
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert pull("stable-audio-open") == [tmp_path]
    assert asked["repo_id"] == "stabilityai/stable-audio-open-1.0"
    import fnmatch

    def fetched(name: str) -> bool:
        return any(fnmatch.fnmatch(name, p) for p in asked["patterns"])

    assert fetched("model_index.json")
    assert fetched("transformer/diffusion_pytorch_model.safetensors")
    assert fetched("tokenizer/spiece.model") and fetched("vae/config.json")
    assert not fetched("model.safetensors") and not fetched("model.ckpt")  # the 5 GB originals
