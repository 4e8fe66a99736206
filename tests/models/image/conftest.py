"""The tiny pipelines, built once per test session into a temp folder, and a backend
factory that loads them through the user's path (a local folder or the HF cache)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Never reach the hub from tests, even by accident.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from .tiny_pipelines import TinyModels, build_all  # noqa: E402

SIZE = 64


@pytest.fixture(scope="session")
def tiny_pipelines(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    pytest.importorskip("diffusers")
    return build_all(tmp_path_factory.mktemp("tiny-pipelines"))


@pytest.fixture
def empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugging Face cache with nothing in it: helpers (instruct-pix2pix, the latent
    upscaler) and presets are absent."""
    hub = tmp_path / "empty-hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    return hub


@pytest.fixture
def tiny_hub(tiny_pipelines: TinyModels, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The HF cache holding the tiny Kandinsky preset, instruct-pix2pix and upscaler."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tiny_pipelines.hub))
    return tiny_pipelines.hub
