"""Audio generation: what ``generate_audio`` asks of a backend (the ``AudioGenerator``
protocol), the presets of the models it knows, where their weights are and which backend
runs them (MusicGen through transformers, Stable Audio Open and ACE-Step through diffusers).
Imports no torch: ``doctor`` and the tool's refusals read this without loading a model.

A preset's weights are the Hugging Face snapshot of its repo in the hub cache the image
presets use (``museforge models pull musicgen-small`` puts them there); a path to a
saved model folder works too (a MusicGen folder has a config.json, a diffusers pipeline
folder a model_index.json). Nothing is ever fetched while a tool runs."""

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


# The model families and the diffusers pipeline class each pipeline family saves.
MUSICGEN, STABLE_AUDIO, ACE_STEP = "musicgen", "stable-audio", "ace-step"
PIPELINE_FAMILIES = {"StableAudioPipeline": STABLE_AUDIO, "AceStepPipeline": ACE_STEP}


@dataclass(frozen=True)
class AudioPreset:
    name: str
    repo_id: str
    label: str
    melody: bool  # conditioned on a melody (chroma) as well as text
    description: str
    family: str = MUSICGEN


AUDIO_PRESETS: dict[str, AudioPreset] = {
    p.name: p
    for p in (
        AudioPreset("musicgen-small", "facebook/musicgen-small", "MusicGen small", False,
                    "MusicGen small (300 M): text to 32 kHz mono music, ~2.4 GB"),
        AudioPreset("musicgen-medium", "facebook/musicgen-medium", "MusicGen medium", False,
                    "MusicGen medium (1.5 B): text to music, ~8 GB, a GPU advised"),
        AudioPreset("musicgen-melody", "facebook/musicgen-melody", "MusicGen melody", True,
                    "MusicGen melody (1.5 B): text plus a melody to follow, ~6 GB"),
        AudioPreset("stable-audio-open", "stabilityai/stable-audio-open-1.0",
                    "Stable Audio Open", False,
                    "Stable Audio Open 1.0 (1.2 B, diffusers): text to 44.1 kHz stereo sound "
                    "and music up to 47 s, ~5 GB; gated: accept its licence on Hugging Face "
                    "and log in before pulling", family=STABLE_AUDIO),
        AudioPreset("ace-step", "ACE-Step/acestep-v15-xl-turbo-diffusers", "ACE-Step 1.5", False,
                    "ACE-Step 1.5 XL turbo (5 B, diffusers): text to 48 kHz stereo music in 8 "
                    "steps, ~12 GB, a GPU advised", family=ACE_STEP),
    )
}


@dataclass(frozen=True)
class AudioRequest:
    prompt: str
    seconds: float
    seed: int
    guidance: float | None = None  # None: the model's own default
    negative_prompt: str = ""  # what it should not sound like (Stable Audio)
    steps: int | None = None  # diffusion steps (Stable Audio); None: the model's default
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
            "or a model_index.json there): give a saved MusicGen, Stable Audio or ACE-Step "
            f"folder or a preset ({', '.join(AUDIO_PRESETS)}), for example after "
            f"`museforge models pull {DEFAULT_MODEL}`.")


def local_audio_model(model: str) -> Path | None:
    """The folder holding ``model``'s weights (a preset, a hub id or a path), if present:
    a MusicGen folder (config.json) or a diffusers audio pipeline (model_index.json)."""
    from museforge.models.image.presets import local_component, local_folders

    preset = AUDIO_PRESETS.get(model)
    if preset is not None:
        if preset.family == MUSICGEN:
            return local_component(preset.repo_id)
        found = local_folders(preset.repo_id)
        return found[0] if found else None
    name = os.path.expanduser(model)
    found = local_folders(name)
    return found[0] if found else local_component(name)


def family_of(path: Path) -> str:
    """Which backend runs the model saved in ``path``."""
    index = path / "model_index.json"
    if not index.is_file():
        return MUSICGEN
    import json

    cls = str(json.loads(index.read_text()).get("_class_name", ""))
    if cls not in PIPELINE_FAMILIES:
        raise AudioModelError(f"{path} holds a {cls or 'diffusers'} pipeline, not an audio "
                              f"model I run ({', '.join(PIPELINE_FAMILIES)} or MusicGen).")
    return PIPELINE_FAMILIES[cls]


def pipeline_weight_bytes(path: Path) -> tuple[int, int]:
    """(the transformer's weight bytes, all the components') of a diffusers audio pipeline
    saved in ``path``: what a denoising step and a load cost grow with (tools/costs.py).
    Only the files' sizes are read."""
    files = [p for p in path.glob("*/*") if p.suffix in (".safetensors", ".bin")]
    total = sum(p.stat().st_size for p in files)
    return sum(p.stat().st_size for p in files if p.parent.name == "transformer"), total


def open_generator(model: str, *, device: str | None = None,
                   dtype: str | None = None) -> AudioGenerator:
    """The backend for ``model`` (a preset, hub id or folder), by what its folder holds."""
    path, _ = locate(model)
    family = family_of(path)
    if family == STABLE_AUDIO:
        from museforge.models.audio.stable_audio import StableAudioBackend

        return StableAudioBackend(model, device=device, dtype=dtype)
    if family == ACE_STEP:
        from museforge.models.audio.ace_step import AceStepBackend

        return AceStepBackend(model, device=device, dtype=dtype)
    from museforge.models.audio.musicgen import MusicgenBackend

    return MusicgenBackend(model, device=device, dtype=dtype)


def generator_from_recipe(recipe: dict[str, Any]) -> AudioGenerator:
    """The backend that re-makes a version from its recipe's ``backend`` record."""
    if recipe.get("backend") == STABLE_AUDIO:
        from museforge.models.audio.stable_audio import StableAudioBackend

        return StableAudioBackend.from_recipe(recipe)
    if recipe.get("backend") == ACE_STEP:
        from museforge.models.audio.ace_step import AceStepBackend

        return AceStepBackend.from_recipe(recipe)
    from museforge.models.audio.musicgen import MusicgenBackend

    return MusicgenBackend.from_recipe(recipe)


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
    if preset.family != MUSICGEN:  # the pipeline's folders only, not a checkpoint at the root
        patterns = ["model_index.json", "*/*.json", "*/*.safetensors", "*/spiece.model",
                    "*/*.txt"]
    tqdm_class = None
    if progress is not None:
        from museforge.models.image.weights import _progress_tqdm

        tqdm_class = _progress_tqdm(preset.repo_id, progress)
    return Path(snapshot_download(preset.repo_id, allow_patterns=patterns,
                                  tqdm_class=tqdm_class))
