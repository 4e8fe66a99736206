"""Audio generation: what ``generate_audio`` asks of a backend (the ``AudioGenerator``
protocol), the presets of the models it knows and where their weights are. Imports no
torch: ``doctor`` and the tool's refusals read this without loading a model.

A preset's weights are the Hugging Face snapshot of its repo in the hub cache the image
presets use (``museforge models pull musicgen-small`` puts them there); a path to a
saved model folder works too. Nothing is ever fetched while a tool runs."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DEFAULT_MODEL = "musicgen-small"
LONGEST_S = 30.0  # MusicGen was trained on 30 s clips; longer ones drift


class AudioModelError(Exception):
    """A failure a person can act on (its text is shown as is)."""


class AudioWeightsMissing(AudioModelError):
    """The model's weights are not on this machine."""


class AudioGenerationCancelled(AudioModelError):
    def __init__(self) -> None:
        super().__init__("cancelled")


@dataclass(frozen=True)
class AudioPreset:
    name: str
    repo_id: str
    label: str
    melody: bool  # conditioned on a melody (chroma) as well as text
    description: str


AUDIO_PRESETS: dict[str, AudioPreset] = {
    p.name: p
    for p in (
        AudioPreset("musicgen-small", "facebook/musicgen-small", "MusicGen small", False,
                    "MusicGen small (300 M): text to 32 kHz mono music, ~2.4 GB"),
        AudioPreset("musicgen-medium", "facebook/musicgen-medium", "MusicGen medium", False,
                    "MusicGen medium (1.5 B): text to music, ~8 GB, a GPU advised"),
        AudioPreset("musicgen-melody", "facebook/musicgen-melody", "MusicGen melody", True,
                    "MusicGen melody (1.5 B): text plus a melody to follow, ~6 GB"),
    )
}


@dataclass(frozen=True)
class AudioRequest:
    prompt: str
    seconds: float
    seed: int
    guidance: float = 3.0
    # A melody to follow (musicgen-melody): mono float32 samples and their rate.
    melody: np.ndarray | None = field(default=None, compare=False)
    melody_rate: int | None = None


@dataclass
class GeneratedAudio:
    samples: np.ndarray  # float32, (frames, channels)
    sample_rate: int
    # What re-makes these samples: backend, model and revision, weights hash, seed,
    # guidance, device, dtype, package versions, and whether the device is deterministic.
    recipe: dict[str, Any] = field(default_factory=dict)


@dataclass
class AudioRun:
    """Progress and cancel between generation steps."""

    progress: Any = None  # (step, total) -> None
    cancel: threading.Event | None = None

    def step(self, i: int, n: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise AudioGenerationCancelled()
        if self.progress is not None:
            self.progress(i, n)


class AudioGenerator(Protocol):
    name: str

    @property
    def label(self) -> str:
        """How a reply names the model ("MusicGen small")."""

    def generate(self, request: AudioRequest, run: AudioRun | None = None) -> GeneratedAudio:
        """Text (and a melody, where the model takes one) to ``request.seconds`` of audio."""


def missing_message(model: str) -> str:
    """One sentence: what is missing and how to get it."""
    if model in AUDIO_PRESETS:
        return (f"There are no weights for the audio model '{model}' on this machine, so I "
                f"cannot generate audio: run `museforge models pull {model}` where there is "
                "network, then ask again.")
    return (f"The audio model '{model}' is not on this machine (no folder with a config.json "
            f"there): give a saved MusicGen folder or a preset ({', '.join(AUDIO_PRESETS)}), "
            f"for example after `museforge models pull {DEFAULT_MODEL}`.")


def local_audio_model(model: str) -> Path | None:
    """The folder holding ``model``'s weights (a preset, a hub id or a path), if present."""
    from museforge.models.image.presets import local_component

    preset = AUDIO_PRESETS.get(model)
    return local_component(preset.repo_id if preset else os.path.expanduser(model))


def locate(model: str) -> tuple[Path, AudioPreset | None]:
    path = local_audio_model(model)
    if path is None:
        raise AudioWeightsMissing(missing_message(model))
    preset = AUDIO_PRESETS.get(model)
    if preset is None:  # a hub id or a snapshot path of a preset's repo keeps its preset
        preset = next((p for p in AUDIO_PRESETS.values()
                       if p.repo_id == model or f"models--{p.repo_id.replace('/', '--')}"
                       in str(path)), None)
    return path.resolve(), preset


def pull_audio(name: str, progress: Any = None) -> Path:
    """Download an audio preset's weights into the Hugging Face cache (needs network)."""
    from huggingface_hub import snapshot_download

    preset = AUDIO_PRESETS[name]
    patterns = ["*.json", "*.safetensors", "spiece.model", "*.txt"]
    tqdm_class = None
    if progress is not None:
        from museforge.models.image.weights import _progress_tqdm

        tqdm_class = _progress_tqdm(preset.repo_id, progress)
    return Path(snapshot_download(preset.repo_id, allow_patterns=patterns,
                                  tqdm_class=tqdm_class))
