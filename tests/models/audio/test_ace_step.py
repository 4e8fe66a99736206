"""The ACE-Step backend on a tiny random-weight ``AceStepPipeline`` saved locally (a tiny
Qwen3 text encoder and a word-level tokenizer written with the ``tokenizers`` library, no
hub): it loads from a folder or the hub cache, is seeded (same seed and weights, same
samples on the CPU), takes seconds as the clip's length, reports progress per step, stops
at the next step on a cancel, refuses a negative prompt, and replays from its recipe."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from museforge.models.audio.ace_step import AceStepBackend
from museforge.models.audio.generation import (
    ACE_STEP,
    AudioGenerationCancelled,
    AudioModelError,
    AudioRequest,
    AudioRun,
    generator_from_recipe,
    locate,
    open_generator,
)
from museforge.models.image.pipeline_cache import PipelineCache

from .tiny_ace_step import SAMPLING_RATE, save_tiny_ace_step, tiny_tokenizer


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_ace_step(tmp_path_factory.mktemp("ace") / "tiny")


def test_the_local_tokenizer_reads_words():
    ids = tiny_tokenizer()("a calm piano piece").input_ids
    assert len(set(ids)) == 4 and 1 not in ids  # four words, none unknown


def test_a_folder_loads_once_and_is_seeded(folder):
    cache = PipelineCache()
    backend = AceStepBackend(str(folder), cache=cache)
    one = backend.generate(AudioRequest("calm piano", 1.5, 3))
    again = AceStepBackend(str(folder), cache=cache).generate(AudioRequest("calm piano", 1.5, 3))
    assert cache.loads == 1 and cache.used_bytes > 0
    assert one.sample_rate == SAMPLING_RATE and one.samples.shape == (12000, 2)
    assert np.abs(one.samples).max() > 0 and np.array_equal(one.samples, again.samples)
    assert not np.array_equal(one.samples, backend.generate(
        AudioRequest("calm piano", 1.5, 4)).samples)
    assert not np.array_equal(one.samples, backend.generate(
        AudioRequest("jazz guitar", 1.5, 3)).samples)
    r = one.recipe
    assert (r["backend"], r["steps"], r["guidance"], r["class"]) == (
        ACE_STEP, 8, 7.0, "AceStepPipeline")
    assert r["deterministic"] and r["seed"] == 3
    with pytest.raises(AudioModelError, match="takes no negative prompt"):
        backend.generate(AudioRequest("x", 1, 1, negative_prompt="drums"))


def test_progress_and_a_cancel_at_the_next_step(folder):
    backend = AceStepBackend(str(folder), cache=PipelineCache(), steps=5)
    seen: list[int] = []
    backend.generate(AudioRequest("x", 1, 1), AudioRun(progress=lambda i, n: seen.append(i)))
    assert seen == list(range(6))
    cancel = threading.Event()
    seen.clear()

    def progress(i: int, n: int) -> None:
        seen.append(i)
        if i == 2:
            cancel.set()

    with pytest.raises(AudioGenerationCancelled):
        backend.generate(AudioRequest("x", 1, 1), AudioRun(progress=progress, cancel=cancel))
    assert seen == [0, 1, 2]


def test_the_preset_from_the_hub_cache_and_replay(monkeypatch, tmp_path, folder):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(AudioModelError, match="museforge models pull ace-step"):
        open_generator("ace-step")
    repo = tmp_path / "models--ACE-Step--acestep-v15-xl-turbo-diffusers"
    shutil.copytree(folder, repo / "snapshots" / "beef")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("beef")
    path, preset = locate("ace-step")
    assert path.name == "beef" and preset is not None and preset.label == "ACE-Step 1.5"
    backend = open_generator("ace-step")
    assert isinstance(backend, AceStepBackend)
    made = backend.generate(AudioRequest("lofi beat", 1, 2, steps=3))
    assert made.recipe["preset"] == "ace-step" and made.recipe["revision"] == "beef"
    again = generator_from_recipe(made.recipe)
    assert isinstance(again, AceStepBackend)
    assert np.array_equal(again.generate(AudioRequest("lofi beat", 1, 2, steps=3)).samples,
                          made.samples)


def test_a_turbo_checkpoint_runs_without_guidance(folder, tmp_path):
    import json

    turbo = Path(shutil.copytree(folder, tmp_path / "turbo"))
    config = turbo / "transformer" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "is_turbo": True}))
    made = AceStepBackend(str(turbo), cache=PipelineCache()).generate(AudioRequest("x", 1, 1))
    assert made.recipe["guidance"] == 1.0  # distilled: what ran, not the 7.0 asked of base
    plain = AceStepBackend(str(folder), cache=PipelineCache()).generate(AudioRequest("x", 1, 1))
    assert not np.array_equal(made.samples, plain.samples)  # no guidance pass ran


def test_a_diffusers_without_the_pipeline_is_one_sentence(folder, monkeypatch):
    """diffusers before AceStepPipeline (the image extra admits older ones) is said, with
    what to do, before anything loads; nothing is cached."""
    import diffusers

    cache = PipelineCache()
    backend = AceStepBackend(str(folder), cache=cache)
    monkeypatch.setattr(type(backend), "pipeline_class", "AceStepPipelineOfLater")
    assert not hasattr(diffusers, "AceStepPipelineOfLater")
    with pytest.raises(AudioModelError, match=r"needs a diffusers with AceStepPipelineOfLater; "
                       r"this one \(.+\) has none: `pip install -U diffusers`"):
        backend.generate(AudioRequest("calm piano", 1, 1))
    assert cache.loads == 0
