"""Stable Audio Open through diffusers (``StableAudioPipeline``), from local weights only.

The pipeline is loaded once into the process-wide ``PipelineCache`` (the memory budget the
image pipelines and MusicGen share) and runs one request at a time under the entry's lock
(its scheduler keeps state between steps). The starting noise comes from a CPU
``torch.Generator`` seeded with the request's seed, and the sampler's Brownian noise
(torchsde) is seeded from that generator, so the same prompt, seconds, steps, seed and
weights give the same samples on the CPU; on a GPU the kernels are not bit-exact, which the
recipe says. ``seconds`` is the pipeline's ``audio_end_in_s``; progress and cancel come
through its step callback, so a cancel stops the run at the next step.

``PipelineAudioBackend`` is what the diffusers audio pipelines share (loading, the cache,
the seeded call, progress, cancel, the recipe); ``StableAudioBackend`` says how to call
Stable Audio, and models/audio/ace_step.py how to call ACE-Step."""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.audio.generation import (
    STABLE_AUDIO,
    AudioModelError,
    AudioRequest,
    AudioRun,
    GeneratedAudio,
    locate,
)
from museforge.models.devices import detect, plan_device, torch_dtype
from museforge.models.image.pipeline_cache import PipelineCache, default_cache

DEFAULT_STEPS = 100  # diffusers' default for this pipeline; its model card uses 100-200
DEFAULT_GUIDANCE = 7.0
MAX_STEPS = 250


def pipeline_sha256(path: Path) -> str:
    """One hash over the weight files of every component folder (names and bytes)."""
    from museforge.models.audio.musicgen import _hash_files

    files = sorted(p for p in path.glob("*/*") if p.suffix in (".safetensors", ".bin"))
    return _hash_files(tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))


@functools.cache
def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("diffusers", "transformers", "torch", "torchsde"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


class PipelineAudioBackend:
    """A diffusers text-to-audio pipeline from a preset name, a hub id whose snapshot is
    cached, or a saved pipeline folder."""

    name = STABLE_AUDIO
    pipeline_class = "StableAudioPipeline"
    default_preset = "stable-audio-open"
    melody = False  # text only: a melody to follow is MusicGen-melody's
    negative = True  # takes a negative prompt
    needs: tuple[str, ...] = ()  # packages the pipeline's sampler imports at run time

    def __init__(self, model: str | None = None, *, device: str | None = None,
                 dtype: str | None = None, cache: PipelineCache | None = None,
                 steps: int | None = None) -> None:
        model = model or self.default_preset
        self.model_name = model
        self.path, self.preset = locate(model)
        index = json.loads((self.path / "model_index.json").read_text())
        if index.get("_class_name") != self.pipeline_class:
            raise AudioModelError(f"{self.path} holds a {index.get('_class_name')} pipeline, "
                                  f"not {self.pipeline_class}.")
        self.cache = cache if cache is not None else default_cache()
        try:
            self.plan = plan_device(device, dtype, detect(device))
        except ValueError as error:
            raise AudioModelError(str(error)) from error
        self.default_steps = steps or self.model_default_steps()
        self.sha256 = pipeline_sha256(self.path)

    def model_default_steps(self) -> int:
        return DEFAULT_STEPS

    @property
    def label(self) -> str:
        return self.preset.label if self.preset else self.path.name

    @classmethod
    def from_recipe(cls, recipe: dict[str, Any]) -> PipelineAudioBackend:
        backend = cls(str(recipe.get("local_path") or recipe["model"]),
                      device=recipe.get("device"), dtype=recipe.get("dtype"),
                      steps=recipe.get("steps"))
        if recipe.get("weights_sha256") not in (None, backend.sha256):
            raise AudioModelError(f"The weights of {backend.label} have changed since this "
                                  "version was made, so it cannot be re-made.")
        return backend

    def _entry(self) -> Any:
        key = (self.name, str(self.path), self.sha256, self.plan.device, self.plan.dtype,
               self.plan.offload)
        return self.cache.get(key, self._load)

    def _load(self) -> Any:
        import importlib.util

        import diffusers

        from museforge.models.image.pipeline_cache import dtype_arg, quiet_loading

        if not hasattr(diffusers, self.pipeline_class):  # ACE-Step came in a later diffusers
            raise AudioModelError(f"{self.label} needs a diffusers with {self.pipeline_class}; "
                                  f"this one ({diffusers.__version__}) has none: `pip install "
                                  "-U diffusers`.")
        for package in self.needs:
            if importlib.util.find_spec(package) is None:
                raise AudioModelError(f"{self.label}'s sampler needs the {package} package, "
                                      f"which is not installed: `pip install {package}` (it "
                                      "is in museforge's image extra).")

        try:
            with quiet_loading(), warnings.catch_warnings():
                # the Oobleck VAE builds its layers with torch's older weight_norm
                warnings.filterwarnings("ignore", message=r"`torch\.nn\.utils\.weight_norm` "
                                        "is deprecated", category=FutureWarning)
                pipe = getattr(diffusers, self.pipeline_class).from_pretrained(
                    self.path, local_files_only=True,
                    **{dtype_arg(): torch_dtype(self.plan.dtype)})
        except (OSError, ValueError) as error:
            raise AudioModelError(f"Could not load the audio model from {self.path}: "
                                  f"{str(error).splitlines()[0][:200]}") from error
        pipe.set_progress_bar_config(disable=True)
        if self.plan.offload:
            pipe.enable_model_cpu_offload(device=self.plan.device)
        else:
            pipe.to(self.plan.device)
        return pipe

    def longest_s(self, pipe: Any) -> float:
        """The longest clip the model makes."""
        raise NotImplementedError

    def guidance(self, pipe: Any, request: AudioRequest) -> float:
        return DEFAULT_GUIDANCE if request.guidance is None else request.guidance

    def call_args(self, request: AudioRequest, steps: int, guidance: float) -> dict[str, Any]:
        """The pipeline's own names for the request (all but the generator and callback)."""
        raise NotImplementedError

    def generate(self, request: AudioRequest, run: AudioRun | None = None) -> GeneratedAudio:
        import torch

        if request.negative_prompt and not self.negative:
            raise AudioModelError(f"{self.label} takes no negative prompt; Stable Audio Open "
                                  "does (MUSEFORGE_AUDIO_MODEL=stable-audio-open).")
        if request.melody is not None:
            raise AudioModelError(f"{self.label} does not follow a melody; musicgen-melody "
                                  "does (`museforge models pull musicgen-melody`).")
        steps = request.steps or self.default_steps
        if not 1 <= steps <= MAX_STEPS:
            raise AudioModelError(f"{self.label} takes 1 to {MAX_STEPS} steps, not {steps}.")
        run = run or AudioRun()
        run.step(0, steps)  # a cancel before the model loads
        entry = self._entry()
        pipe = entry.pipeline
        longest = self.longest_s(pipe)
        if not 0 < request.seconds <= longest + 1e-6:
            raise AudioModelError(f"{self.label} makes 0 to {longest:.1f} seconds, not "
                                  f"{request.seconds:g}.")
        rate = int(pipe.vae.config.sampling_rate)
        guidance = self.guidance(pipe, request)

        def on_step(i: int, t: Any, latents: Any) -> None:
            run.step(i + 1, steps)  # raises AudioGenerationCancelled: the loop stops here

        with entry.lock, torch.inference_mode(), warnings.catch_warnings():
            # diffusers asks torchsde's Brownian tree for the last interval down to sigma 0,
            # below the tree's start (sigma_min); torchsde clamps it and warns each step
            warnings.filterwarnings("ignore", message=r"Should have (ta|tb)", module="torchsde")
            audio = pipe(**self.call_args(request, steps, guidance),
                         generator=torch.Generator("cpu").manual_seed(request.seed),
                         callback=on_step, callback_steps=1).audios
        samples = audio[0].float().cpu().numpy().T  # (frames, channels)
        total = int(round(request.seconds * rate))
        if len(samples) < total:  # the VAE's decoder can end a few samples short
            samples = np.concatenate([samples, np.zeros((total - len(samples),
                                                         samples.shape[1]), np.float32)])
        samples = np.clip(samples[:total], -1.0, 1.0).astype(np.float32)
        from museforge.models.image.presets import snapshot_revision

        recipe: dict[str, Any] = {
            "backend": self.name, "model": self.model_name,
            "preset": self.preset.name if self.preset else None,
            "revision": snapshot_revision(self.path), "local_path": str(self.path),
            "weights_sha256": self.sha256, "class": type(pipe).__name__,
            "scheduler": type(pipe.scheduler).__name__, "steps": steps, "guidance": guidance,
            "negative_prompt": request.negative_prompt, "seed": request.seed,
            "sample_rate": rate, "device": self.plan.device, "dtype": self.plan.dtype,
            "deterministic": self.plan.device == "cpu", **package_versions()}
        if not recipe["deterministic"]:
            recipe["notes"] = [f"diffusion on {self.plan.device} is not bit-exact between "
                               "runs, so a replay may differ slightly"]
        return GeneratedAudio(samples, rate, recipe)


class StableAudioBackend(PipelineAudioBackend):
    """Stable Audio Open (``StableAudioPipeline``): seconds are ``audio_end_in_s``."""

    needs = ("torchsde",)  # CosineDPMSolverMultistepScheduler's Brownian noise

    def longest_s(self, pipe: Any) -> float:
        hop = int(np.prod(pipe.vae.config.downsampling_ratios))
        return float(pipe.transformer.config.sample_size * hop / pipe.vae.config.sampling_rate)

    def call_args(self, request: AudioRequest, steps: int, guidance: float) -> dict[str, Any]:
        return {"prompt": request.prompt, "negative_prompt": request.negative_prompt or None,
                "audio_end_in_s": float(request.seconds), "num_inference_steps": steps,
                "guidance_scale": guidance}
