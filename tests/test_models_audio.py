"""The audio presets in ``museforge models list`` and ``museforge doctor``: each preset
with whether its weights are in the Hugging Face cache (a snapshot holding config.json,
as ``museforge models pull musicgen-small`` leaves it), and which one generate_audio uses.
The cache is a temp folder (HF_HUB_CACHE); nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from cliutil import museforge

from museforge.config import load_settings
from museforge.doctor import run_checks


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("MUSEFORGE_AUDIO_MODEL", raising=False)
    return cache


def cached(hub: Path, repo_id: str) -> Path:
    """A snapshot of ``repo_id`` in the hub cache, as snapshot_download leaves it."""
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"model_type": "musicgen"}')
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    return snapshot


def rows(text: str) -> dict[str, list[str]]:
    """The audio table's rows: preset -> its cells (preset, model, weights, notes)."""
    table = text[text.index("Audio (generate_audio)"):]
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 4 and cells[0].startswith("musicgen-"):
            out[cells[0].removesuffix(" (configured)")] = cells
    return out


def test_models_list_shows_each_audio_preset_and_whether_its_weights_are_here(hub):
    cached(hub, "facebook/musicgen-small")

    done = museforge("models", "list")

    assert done.returncode == 0, done.stderr
    found = rows(done.stdout)
    assert [cells[:3] for cells in found.values()] == [
        ["musicgen-small (configured)", "facebook/musicgen-small", "present"],
        ["musicgen-medium", "facebook/musicgen-medium", "missing"],
        ["musicgen-melody", "facebook/musicgen-melody", "missing"]]
    assert found["musicgen-melody"][3].startswith("MusicGen melody")


def test_models_list_marks_the_configured_audio_model(hub, monkeypatch):
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "musicgen-melody")
    cached(hub, "facebook/musicgen-melody")

    found = rows(museforge("models", "list").stdout)

    assert found["musicgen-melody"][:3] == ["musicgen-melody (configured)",
                                            "facebook/musicgen-melody", "present"]
    assert found["musicgen-small"][:3] == ["musicgen-small", "facebook/musicgen-small",
                                           "missing"]


def audio_check(settings=None):
    [check] = [c for c in run_checks(settings or load_settings()) if c.name == "audio weights"]
    return check


def test_doctor_says_the_audio_weights_are_missing_and_how_to_get_them(hub):
    check = audio_check()
    assert check.level == "warn"
    assert check.detail.startswith("musicgen-small not present locally")
    assert "`museforge models pull musicgen-small`" in check.detail
    assert "the audio edits still work" in check.detail
    assert check.detail.endswith("(presets present: none)")


def test_doctor_says_which_audio_presets_are_present(hub, monkeypatch):
    cached(hub, "facebook/musicgen-small")
    cached(hub, "facebook/musicgen-melody")
    check = audio_check()
    assert (check.level, check.detail) == (
        "ok", "musicgen-small present; presets present: musicgen-small, musicgen-melody")

    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "musicgen-medium")
    check = audio_check()
    assert check.level == "warn" and "`museforge models pull musicgen-medium`" in check.detail
    assert check.detail.endswith("(presets present: musicgen-small, musicgen-melody)")

    done = museforge("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "! audio weights: musicgen-medium not present locally" in done.stdout


def cached_pipeline(hub: Path, repo_id: str, cls: str = "StableAudioPipeline") -> Path:
    """A diffusers pipeline snapshot (model_index.json) in the hub cache."""
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / "4567cdef"
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text(f'{{"_class_name": "{cls}"}}')
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("4567cdef")
    return snapshot


def test_models_list_and_doctor_know_stable_audio_open(hub, monkeypatch):
    cached_pipeline(hub, "stabilityai/stable-audio-open-1.0")
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "stable-audio-open")

    text = museforge("models", "list").stdout
    [row] = [line for line in text.splitlines() if "stable-audio-open" in line]
    assert "stable-audio-open (configured)" in row and "stabilityai/stable-audio-open-1.0" in row
    assert "present" in row
    [ace] = [line for line in text.splitlines() if "ace-step" in line]
    assert "ACE-Step/acestep-v15-xl-turbo-diffusers" in ace and "missing" in ace
    check = audio_check()
    assert (check.level, check.detail) == (
        "ok", "stable-audio-open present; presets present: stable-audio-open")


def test_doctor_warns_when_stable_audio_lacks_torchsde(hub, monkeypatch):
    import importlib.util

    cached_pipeline(hub, "stabilityai/stable-audio-open-1.0")
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "stable-audio-open")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torchsde" else find_spec(name, *a))
    check = audio_check()
    assert check.level == "warn" and "needs torchsde" in check.detail


def test_doctor_says_a_folder_that_is_no_audio_model(hub, monkeypatch, tmp_path):
    folder = tmp_path / "sd"
    folder.mkdir()
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", str(folder))
    check = audio_check()
    assert check.level == "warn" and "holds a StableDiffusionPipeline pipeline" in check.detail
