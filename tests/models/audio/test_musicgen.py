"""The MusicGen backend on a tiny random-weight model saved locally: it loads from a folder
or the hub cache (never the network), shares the pipeline cache, is seeded, refuses a
changed weights file on replay, and musicgen-melody's chroma picks the sung pitch class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from museforge.models.audio.generation import (
    AudioModelError,
    AudioRequest,
    AudioWeightsMissing,
    locate,
)
from museforge.models.audio.musicgen import MusicgenBackend, melody_chroma
from museforge.models.image.pipeline_cache import PipelineCache

from .tiny_musicgen import save_tiny_musicgen


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_musicgen(tmp_path_factory.mktemp("mg") / "tiny")


def test_a_folder_loads_once_into_the_shared_cache_and_is_seeded(folder):
    cache = PipelineCache()
    backend = MusicgenBackend(str(folder), cache=cache)
    one = backend.generate(AudioRequest("lofi beat", 1.5, 3))
    again = MusicgenBackend(str(folder), cache=cache).generate(AudioRequest("lofi beat", 1.5, 3))
    assert cache.loads == 1 and cache.used_bytes > 0
    assert one.samples.shape == (12000, 1) and np.array_equal(one.samples, again.samples)
    other = backend.generate(AudioRequest("jazz guitar", 1.5, 3))
    assert not np.array_equal(one.samples, other.samples)  # the prompt conditions it
    with pytest.raises(AudioModelError, match="0 to 30 seconds"):
        backend.generate(AudioRequest("x", 31, 1))
    with pytest.raises(AudioModelError, match="does not follow a melody"):
        backend.generate(AudioRequest("x", 1, 1, melody=np.zeros(800, np.float32),
                                      melody_rate=8000))


def test_a_changed_weights_file_is_refused_on_replay(folder, tmp_path):
    import shutil

    copy = Path(shutil.copytree(folder, tmp_path / "copy"))
    recipe = MusicgenBackend(str(copy)).generate(AudioRequest("x", 1, 1)).recipe
    assert MusicgenBackend.from_recipe(recipe).sha256 == recipe["weights_sha256"]
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(AudioModelError, match="have changed since this version was made"):
        MusicgenBackend.from_recipe(recipe)


def test_presets_are_found_in_the_hub_cache_only(monkeypatch, tmp_path, folder):
    import shutil

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(AudioWeightsMissing, match="museforge models pull musicgen-medium"):
        locate("musicgen-medium")
    repo = tmp_path / "models--facebook--musicgen-medium"
    shutil.copytree(folder, repo / "snapshots" / "rev1")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("rev1")
    path, preset = locate("musicgen-medium")
    assert path.name == "rev1" and preset is not None and preset.label == "MusicGen medium"
    with pytest.raises(AudioWeightsMissing, match="no folder with a config.json"):
        locate(str(tmp_path / "nothing-here"))


def test_models_pull_knows_the_audio_presets(monkeypatch, tmp_path):
    import huggingface_hub

    from museforge.models.image.weights import pull

    asked = {}

    def snapshot_download(repo_id, allow_patterns=None, tqdm_class=None):
        asked.update(repo_id=repo_id, patterns=allow_patterns)
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert pull("musicgen-small") == [tmp_path]
    assert asked["repo_id"] == "facebook/musicgen-small"
    assert "*.safetensors" in asked["patterns"] and "spiece.model" in asked["patterns"]


@pytest.mark.parametrize("hz, pitch_class", [(261.63, 0), (440.0, 9), (392.0, 7)])
def test_the_melody_chroma_is_the_sung_pitch_class(hz, pitch_class):
    t = np.arange(32000 * 2) / 32000
    chroma = melody_chroma((0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32), 32000, 32000)
    assert chroma.shape == (1 + 2 * 32000 // 4096, 12)
    assert (chroma.sum(axis=1) == 1).all() and (chroma.argmax(axis=1) == pitch_class).all()
