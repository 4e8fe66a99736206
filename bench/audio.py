"""MusicGen through museforge's backend against a bare transformers call doing the same
work (tokenise, seeded ``generate`` with the same steps and guidance, samples to numpy), on
a tiny random-weight MusicGen (tests/models/audio/tiny_musicgen.py), interleaved in
alternating rounds; the same for Stable Audio Open (museforge's backend against a bare
``StableAudioPipeline`` call with the same prompt, seconds, steps, guidance and seeded
generator, on tests/models/audio/tiny_stable_audio.py), and for ACE-Step (8 steps, on
tests/models/audio/tiny_ace_step.py); and the numpy tempo change (WSOLA)
in seconds of audio per second. Prints medians and the ratios (goal: backend ÷ bare ≤
1.05). With ``--model NAME_OR_PATH`` (e.g. musicgen-small), ``--stable-audio-model``
(e.g. stable-audio-open) or ``--ace-step-model`` (e.g. ace-step), when its weights are in
the hub cache, it times that model instead, and on a CUDA machine it says seconds of audio
made per second.

    .venv/bin/python bench/audio.py [--seconds 4] [--rounds 5] [--model musicgen-small]
        [--stable-audio-model stable-audio-open] [--steps 100] [--ace-step-model ace-step]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "models" / "audio"))


def interleaved(fns: dict[str, Any], rounds: int, cuda: bool) -> dict[str, list[float]]:
    """Seconds of each call per round, the order alternating between rounds."""
    import torch

    timings: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns.items())
    for round_ in range(rounds):
        for name, fn in order if round_ % 2 == 0 else order[::-1]:
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if cuda:
                torch.cuda.synchronize()
            timings[name].append(time.perf_counter() - start)
    return timings


def stable_audio(opts: argparse.Namespace) -> None:
    import importlib.util

    if importlib.util.find_spec("torchsde") is None:
        print("Stable Audio: skipped (torchsde is not installed)")
        return
    import numpy as np
    import torch

    from museforge.models.audio.generation import AudioRequest
    from museforge.models.audio.stable_audio import StableAudioBackend

    with tempfile.TemporaryDirectory() as tmp:
        if opts.stable_audio_model is None:
            from tiny_stable_audio import LONGEST_S, save_tiny_stable_audio

            model_name = str(save_tiny_stable_audio(Path(tmp) / "tiny-sa"))
            label, seconds, steps = "tiny random Stable Audio", LONGEST_S, opts.steps or 20
        else:
            model_name, label = opts.stable_audio_model, opts.stable_audio_model
            seconds, steps = opts.seconds, opts.steps or 100
        backend = StableAudioBackend(model_name, device=opts.device, steps=steps)
        pipe = backend._entry().pipeline  # the bare call runs the very same pipeline
        rate = int(pipe.vae.config.sampling_rate)
        request = AudioRequest("rain on a tin roof", seconds, 1)

        def ours() -> None:
            backend.generate(request)

        def bare() -> None:
            with torch.inference_mode():
                audio = pipe(request.prompt, audio_end_in_s=seconds, num_inference_steps=steps,
                             guidance_scale=7.0,
                             generator=torch.Generator("cpu").manual_seed(request.seed)).audios
            np.clip(audio[0].float().cpu().numpy().T[:int(seconds * rate)], -1.0, 1.0)

        import warnings

        warnings.filterwarnings("ignore", message=r"Should have (ta|tb)", module="torchsde")
        ours()
        bare()  # warm both
        device = backend.plan.device
        timings = interleaved({"museforge": ours, "bare": bare}, opts.rounds,
                              device.startswith("cuda"))
        report(f"{label} on {device} ({backend.plan.dtype}), {seconds:g} s of audio, {steps} "
               f"steps, {opts.rounds} rounds", seconds, timings, "bare diffusers")


def ace_step(opts: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from museforge.models.audio.ace_step import AceStepBackend
    from museforge.models.audio.generation import AudioRequest

    with tempfile.TemporaryDirectory() as tmp:
        if opts.ace_step_model is None:
            from tiny_ace_step import save_tiny_ace_step

            model_name = str(save_tiny_ace_step(Path(tmp) / "tiny-ace"))
            label, seconds = "tiny random ACE-Step", 2.0
        else:
            model_name, label, seconds = opts.ace_step_model, opts.ace_step_model, opts.seconds
        steps = 8
        backend = AceStepBackend(model_name, device=opts.device, steps=steps)
        pipe = backend._entry().pipeline  # the bare call runs the very same pipeline
        rate = int(pipe.vae.config.sampling_rate)
        request = AudioRequest("a happy rock song", seconds, 1)
        guidance = backend.guidance(pipe, request)

        def ours() -> None:
            backend.generate(request)

        def bare() -> None:
            with torch.inference_mode():
                audio = pipe(request.prompt, audio_duration=seconds, num_inference_steps=steps,
                             guidance_scale=guidance,
                             generator=torch.Generator("cpu").manual_seed(request.seed)).audios
            np.clip(audio[0].float().cpu().numpy().T[:int(seconds * rate)], -1.0, 1.0)

        ours()
        bare()  # warm both
        device = backend.plan.device
        timings = interleaved({"museforge": ours, "bare": bare}, opts.rounds,
                              device.startswith("cuda"))
        report(f"{label} on {device} ({backend.plan.dtype}), {seconds:g} s of audio, {steps} "
               f"steps, {opts.rounds} rounds", seconds, timings, "bare diffusers")


def report(title: str, seconds: float, timings: dict[str, list[float]], bare_label: str
           ) -> None:
    mine, theirs = (statistics.median(timings[k]) for k in ("museforge", "bare"))
    ratios = sorted(a / b for a, b in zip(timings["museforge"], timings["bare"], strict=True))
    print(title)
    print(f"  museforge backend  {mine:8.3f} s   ({seconds / mine:6.2f} s audio/s)")
    print(f"  {bare_label:<17}  {theirs:8.3f} s   ({seconds / theirs:6.2f} s audio/s)")
    print(f"  ratio backend ÷ bare: {mine / theirs:.3f} "
          f"(per round {ratios[0]:.3f}–{ratios[-1]:.3f}; goal ≤ 1.05)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default=None)
    parser.add_argument("--stable-audio-model", default=None)
    parser.add_argument("--ace-step-model", default=None)
    parser.add_argument("--steps", type=int, default=None,
                        help="Stable Audio steps (default: 100 on a real model, 20 on the tiny)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: steadier on a shared machine)")
    opts = parser.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(opts.threads)

    from museforge.models.audio.generation import AudioRequest
    from museforge.models.audio.musicgen import MusicgenBackend

    with tempfile.TemporaryDirectory() as tmp:
        if opts.model is None:
            from tiny_musicgen import save_tiny_musicgen

            model_name = str(save_tiny_musicgen(Path(tmp) / "tiny"))
            label = "tiny random MusicGen"
        else:
            model_name, label = opts.model, opts.model
        backend = MusicgenBackend(model_name, device=opts.device)
        loaded = backend._entry().pipeline  # the bare call runs the very same module
        model, tokenizer = loaded.model, loaded.tokenizer
        steps = int(np.ceil(opts.seconds * loaded.frame_rate)) + loaded.num_codebooks - 1
        device = backend.plan.device
        request = AudioRequest("a calm piano piece with soft drums", opts.seconds, 1)

        def ours() -> None:
            backend.generate(request)

        def bare() -> None:
            inputs = tokenizer([request.prompt], padding=True, return_tensors="pt").to(device)
            with torch.inference_mode():
                torch.manual_seed(request.seed)
                audio = model.generate(**inputs, do_sample=True, guidance_scale=3.0,
                                       max_new_tokens=steps)
            np.clip(audio[0].float().cpu().numpy().T, -1.0, 1.0)  # as the backend hands back

        ours()
        bare()  # warm both
        timings = interleaved({"museforge": ours, "bare": bare}, opts.rounds,
                              device.startswith("cuda"))
        report(f"{label} on {device} ({backend.plan.dtype}), {opts.seconds:g} s of audio, "
               f"{steps} steps, {opts.rounds} rounds", opts.seconds, timings,
               "bare transformers")

    stable_audio(opts)
    ace_step(opts)

    from museforge.models.audio.edits import time_stretch

    rate, seconds = 44100, 30.0
    t = np.arange(int(rate * seconds)) / rate
    clip = np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1).astype(np.float32)
    start = time.perf_counter()
    time_stretch(clip, rate, 0.8)
    took = time.perf_counter() - start
    print(f"WSOLA tempo ×0.8 on {seconds:g} s of 44.1 kHz stereo: {took:.2f} s "
          f"({seconds / took:.0f}× realtime)")


if __name__ == "__main__":
    main()
