"""MusicGen through transformers (``MusicgenForConditionalGeneration``, and
``MusicgenMelodyForConditionalGeneration`` for musicgen-melody), from local weights only.

The model and its T5 tokenizer are loaded once into the process-wide ``PipelineCache``
(the memory budget the image pipelines share) and run one request at a time. Sampling is
seeded (``torch.manual_seed`` under the entry's lock), so the same prompt, seconds, seed and
weights give the same samples on the same device; the recipe says whether the device is
one where that holds. Progress and cancel come through a stopping criterion that never
stops, which generate() calls after every step. musicgen-melody's chroma is computed here
in numpy, exactly as its feature extractor does (which would need torchaudio)."""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.audio.generation import (
    DEFAULT_MODEL,
    LONGEST_S,
    AudioModelError,
    AudioRequest,
    AudioRun,
    GeneratedAudio,
    locate,
)
from museforge.models.devices import detect, plan_device, torch_dtype
from museforge.models.image.pipeline_cache import PipelineCache, default_cache
from museforge.models.image.presets import snapshot_revision

DEFAULT_GUIDANCE = 3.0  # transformers' and MusicGen's own default


@dataclass
class LoadedMusicgen:
    model: Any  # the torch module (what the cache measures)
    tokenizer: Any
    melody: bool
    sampling_rate: int
    frame_rate: float
    num_codebooks: int


def weights_sha256(path: Path) -> str:
    """One hash over the folder's weight files (names and bytes), computed once per state."""
    files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
    return _hash_files(tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))


@functools.lru_cache(maxsize=32)
def _hash_files(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in files:
        digest.update(Path(name).name.encode())
        with open(name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@functools.cache
def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("transformers", "torch"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


class MusicgenBackend:
    """MusicGen from a preset name, a hub id whose snapshot is cached, or a saved folder."""

    name = "musicgen"

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str | None = None,
                 dtype: str | None = None, cache: PipelineCache | None = None) -> None:
        self.model_name = model
        self.path, self.preset = locate(model)
        config = json.loads((self.path / "config.json").read_text())
        self.melody = config.get("model_type") == "musicgen_melody"
        # the rate it makes audio at, and the rate a melody to follow is rendered at
        self.melody_rate = int(config.get("audio_encoder", {}).get("sampling_rate", 32000))
        self.cache = cache if cache is not None else default_cache()
        try:
            self.plan = plan_device(device, dtype, detect(device))
        except ValueError as error:
            raise AudioModelError(str(error)) from error
        self.sha256 = weights_sha256(self.path)

    @property
    def label(self) -> str:
        return self.preset.label if self.preset else self.path.name

    @classmethod
    def from_recipe(cls, recipe: dict[str, Any]) -> MusicgenBackend:
        backend = cls(str(recipe.get("local_path") or recipe["model"]),
                      device=recipe.get("device"), dtype=recipe.get("dtype"))
        if recipe.get("weights_sha256") not in (None, backend.sha256):
            raise AudioModelError(f"The weights of {backend.label} have changed since this "
                                  "version was made, so it cannot be re-made.")
        return backend

    def _entry(self) -> Any:
        key = ("musicgen", str(self.path), self.sha256, self.plan.device, self.plan.dtype)
        return self.cache.get(key, self._load)

    def _load(self) -> LoadedMusicgen:
        import transformers

        from museforge.models.image.pipeline_cache import quiet_loading

        cls = (transformers.MusicgenMelodyForConditionalGeneration if self.melody
               else transformers.MusicgenForConditionalGeneration)
        try:
            with quiet_loading():
                model = cls.from_pretrained(self.path, local_files_only=True,
                                            dtype=torch_dtype(self.plan.dtype))
                tokenizer = transformers.AutoTokenizer.from_pretrained(self.path,
                                                                       local_files_only=True)
        except (OSError, ValueError) as error:
            raise AudioModelError(f"Could not load the audio model from {self.path}: "
                                  f"{str(error).splitlines()[0][:200]}") from error
        model.eval().to(self.plan.device)
        audio: Any = model.config.audio_encoder
        return LoadedMusicgen(model, tokenizer, self.melody, int(audio.sampling_rate),
                              float(audio.frame_rate), int(model.decoder.num_codebooks))

    def generate(self, request: AudioRequest, run: AudioRun | None = None) -> GeneratedAudio:
        import torch

        if not 0 < request.seconds <= LONGEST_S:
            raise AudioModelError(f"MusicGen makes 0 to {LONGEST_S:g} seconds, not "
                                  f"{request.seconds:g}.")
        if request.negative_prompt:
            raise AudioModelError(f"{self.label} takes no negative prompt; Stable Audio Open "
                                  "does (MUSEFORGE_AUDIO_MODEL=stable-audio-open).")
        if request.steps is not None:
            raise AudioModelError(f"{self.label}'s steps follow from the seconds; steps are "
                                  "for the diffusion models (Stable Audio, ACE-Step).")
        guidance = DEFAULT_GUIDANCE if request.guidance is None else request.guidance
        if request.melody is not None and not self.melody:
            raise AudioModelError(f"{self.label} does not follow a melody; musicgen-melody "
                                  "does (`museforge models pull musicgen-melody`).")
        run = run or AudioRun()
        run.step(0, 1)  # a cancel before the model loads
        entry = self._entry()
        mg: LoadedMusicgen = entry.pipeline
        frames = math.ceil(request.seconds * mg.frame_rate)
        steps = frames + mg.num_codebooks - 1  # the delay pattern's extra steps
        kwargs: dict[str, Any] = {}
        if request.melody is not None:
            chroma = melody_chroma(request.melody, int(request.melody_rate or mg.sampling_rate),
                                   mg.sampling_rate)
            kwargs["input_features"] = torch.from_numpy(chroma)[None].to(
                self.plan.device, torch_dtype(self.plan.dtype))
        inputs = mg.tokenizer([request.prompt], padding=True, return_tensors="pt")
        with entry.lock, torch.inference_mode():
            torch.manual_seed(request.seed)
            audio = mg.model.generate(
                **{k: v.to(self.plan.device) for k, v in inputs.items()}, **kwargs,
                do_sample=True, guidance_scale=guidance, max_new_tokens=steps,
                stopping_criteria=_steps(run, steps))
        run.step(steps, steps)
        samples = audio[0].float().cpu().numpy().T  # (frames, channels)
        total = int(round(request.seconds * mg.sampling_rate))
        if len(samples) < total:
            samples = np.concatenate([samples, np.zeros((total - len(samples),
                                                         samples.shape[1]), np.float32)])
        samples = np.clip(samples[:total], -1.0, 1.0).astype(np.float32)
        recipe: dict[str, Any] = {"backend": "musicgen", "model": self.model_name,
                  "preset": self.preset.name if self.preset else None,
                  "revision": snapshot_revision(self.path),
                  "local_path": str(self.path), "weights_sha256": self.sha256,
                  "class": type(mg.model).__name__, "steps": steps,
                  "guidance": guidance, "seed": request.seed,
                  "sample_rate": mg.sampling_rate, "device": self.plan.device,
                  "dtype": self.plan.dtype, "deterministic": self.plan.device == "cpu",
                  **package_versions()}
        if not recipe["deterministic"]:
            recipe["notes"] = [f"sampling on {self.plan.device} is not bit-exact between "
                               "runs, so a replay may differ slightly"]
        return GeneratedAudio(samples, mg.sampling_rate, recipe)


def _steps(run: AudioRun, total: int) -> Any:
    """A stopping criterion that never stops: it is what generate() calls after every step
    (progress, and a cancel between steps). MusicGen's generate() in transformers 5 does
    not hand its ``streamer`` on to the sampling loop, so a streamer only sees the start."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Steps(StoppingCriteria):
        done = 0

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            self.done += 1
            run.step(min(self.done, total), total)
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([Steps()])


# -- musicgen-melody's chroma ------------------------------------------------------------------

CHROMA_N_FFT = 16384
CHROMA_HOP = 4096


def melody_chroma(samples: np.ndarray, rate: int, model_rate: int) -> np.ndarray:
    """(frames, 12) one-hot chroma of ``samples``: the loudest pitch class per STFT frame,
    as ``MusicgenMelodyFeatureExtractor`` computes it (power spectrogram, Hann window,
    normalised, centred with reflection; librosa's chroma filters)."""
    from transformers.audio_utils import chroma_filter_bank

    from museforge.models.audio.edits import as_frames, resample

    mono = as_frames(samples).mean(axis=1, keepdims=True)
    wave = resample(mono, rate, model_rate)[:, 0].astype(np.float64)
    if len(wave) < CHROMA_N_FFT:
        pad = CHROMA_N_FFT - len(wave)
        wave = np.pad(wave, (pad // 2, pad - pad // 2))
    wave = np.pad(wave, CHROMA_N_FFT // 2, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(CHROMA_N_FFT) / CHROMA_N_FFT)
    count = 1 + (len(wave) - CHROMA_N_FFT) // CHROMA_HOP
    power = np.empty((CHROMA_N_FFT // 2 + 1, count))
    for i in range(count):
        frame = wave[i * CHROMA_HOP:i * CHROMA_HOP + CHROMA_N_FFT] * window
        power[:, i] = np.abs(np.fft.rfft(frame)) ** 2
    power /= float(np.sum(window ** 2))  # torchaudio's normalized=True, squared
    filters = chroma_filter_bank(sampling_rate=model_rate, num_frequency_bins=CHROMA_N_FFT,
                                 tuning=0, num_chroma=12)
    chroma = filters @ power  # (12, frames)
    chroma = chroma / np.maximum(np.abs(chroma).max(axis=0, keepdims=True), 1e-6)
    onehot = np.zeros((count, 12), dtype=np.float32)
    onehot[np.arange(count), chroma.argmax(axis=0)] = 1.0
    return onehot
