"""Learnt music styles: what fine-tuning costs and what composing with a style costs.

    .venv/bin/python bench/style.py [--tunes 50] [--steps 300] [--repeats 5] [--threads 1]

1. fine-tune time for ``--tunes`` of Aird's 6/8 airs (music21 corpus, read through the
   safe ABC loader as a person's files are), ``--steps`` steps on the committed model:
   wall and CPU seconds, split into training steps and the figures (held-out
   reconstruction and prior samples, before and after), per step; and the held-out
   figures it reached.
2. compose with a style / without: ``compose()`` of 8 bars of 6/8 with the style's
   model (numpy, loaded once, as a tool call after the first finds it in the context)
   over the same call with the committed model; and the style's load (read the
   safetensors file, build the numpy network) over one compose without it.

3. pictures (LoRA), on a tiny random-weight SD pipeline (tests/models/image), CPU: one
   training step through museforge (``LoraTrainer.step``) over a bare peft + diffusers
   step written as diffusers' train_text_to_image_lora.py does it (VAE encode, text
   encoder, DDPM add_noise, UNet, MSE, AdamW), same model, batch and rank, interleaved
   rounds (goal <= 1.1); and load-an-adapter-then-generate over generate alone through
   the diffusers backend (the adapter deleted between rounds, outside the timing).
   ``--only pictures`` runs this part alone (``--only music`` the first two).

Medians of ``--repeats`` runs after one warm-up; the two sides of 2. and 3. alternate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()
    return statistics.median(_timed(fn) for _ in range(repeats))


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=["music", "pictures"], default=None)
    parser.add_argument("--lora-steps", type=int, default=20,
                        help="training steps timed per side per round (part 3)")
    args = parser.parse_args()
    if args.only != "music":
        pictures(args.repeats, args.lora_steps)
    if args.only == "pictures":
        return

    from museforge.models.music.composer import ComposeRequest, compose
    from museforge.models.music.finetune import Settings, finetune, load_style_model
    from museforge.models.music.model import load_default
    from tests.models.music.test_finetune import aird_jigs

    pieces = aird_jigs(args.tunes)
    base = load_default()
    logged: list[float] = []

    def progress(step: int, steps: int, figures: dict[str, float]) -> None:
        logged.append(time.perf_counter())

    started, cpu = time.perf_counter(), time.process_time()
    made = finetune(base, pieces, settings=Settings(steps=args.steps), threads=args.threads,
                    progress=progress)
    wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    per_step = (logged[-1] - logged[0]) / (args.steps - 25) if len(logged) > 1 else 0.0
    f = made.figures
    rec = f["heldout_reconstruction"]
    print(f"fine-tune: {f['tunes']} tunes ({f['train_windows']} phrases to train on, "
          f"{f['heldout_windows']} held out), {args.steps} steps, threads {args.threads}")
    print(f"  wall {wall:6.1f} s   cpu {cpu_s:6.1f} s   per step {per_step * 1000:6.1f} ms   "
          f"figures and setup {wall - per_step * args.steps:5.1f} s")
    print(f"  held-out NLL per phrase {rec['before']['nll_per_window']:.2f} -> "
          f"{rec['after']['nll_per_window']:.2f}, accuracy {rec['before']['accuracy']:.3f} -> "
          f"{rec['after']['accuracy']:.3f}; statistics gap {f['stat_gap']['mean_base']:.3f} -> "
          f"{f['stat_gap']['mean_tuned']:.3f} ({f['closer']:.0%} closer)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "style.safetensors"
        path.write_bytes(made.weights)
        style = load_style_model(path, made.config)
        request = ComposeRequest(prompt="a jig", bars=8, time_signature=(6, 8), seed=5)
        plain_times, style_times = [], []
        compose(request, base), compose(request, style)
        for _ in range(args.repeats):
            plain_times.append(_timed(lambda: compose(request, base)))
            style_times.append(_timed(lambda: compose(request, style)))
        plain, styled = statistics.median(plain_times), statistics.median(style_times)
        load = median_seconds(lambda: load_style_model(path, made.config), args.repeats)
    print(f"compose 8 bars of 6/8, median of {args.repeats}")
    print(f"  without a style {plain * 1000:8.1f} ms")
    print(f"  with a style    {styled * 1000:8.1f} ms   ratio {styled / plain:5.2f}")
    print(f"  load the style  {load * 1000:8.1f} ms   load / compose {load / plain:5.2f}")


def pictures(repeats: int, steps: int) -> None:
    import copy
    import os

    import numpy as np
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler
    from peft import LoraConfig
    from PIL import Image

    from museforge.models.image.base import GenerateRequest, LearntStyle
    from museforge.models.image.diffusers_backend import DiffusersBackend
    from museforge.models.image.lora import TARGET_MODULES, LoraSettings, LoraTrainer
    from museforge.models.image.pipeline_cache import PipelineCache
    from tests.models.image.tiny_pipelines import build_sd

    os.environ["HF_HUB_OFFLINE"] = "1"
    size, rank = 64, 16
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
              for _ in range(4)]
    captions = ["a red fox", "a castle at night", "blue sea", "a forest"]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HF_HUB_CACHE"] = str(Path(tmp) / "hub")
        backend = DiffusersBackend(str(build_sd(Path(tmp) / "sd")), device="cpu",
                                   cache=PipelineCache())
        entry, pipe = backend._pipe("text2img")
        settings = LoraSettings(rank=rank, learning_rate=1e-4, steps=steps, resolution=size,
                                batch_size=1)
        ours = LoraTrainer(pipe, images, captions, settings, family="sd15")
        bare = _bare_step(pipe, images, captions, rank, size, copy, torch, F, DDPMScheduler,
                          LoraConfig, TARGET_MODULES)
        ours.step(), bare()  # warm-up
        our_times, bare_times = [], []
        for _ in range(repeats):
            our_times.append(_timed(lambda: [ours.step() for _ in range(steps)]) / steps)
            bare_times.append(_timed(lambda: [bare() for _ in range(steps)]) / steps)
        mine, theirs = statistics.median(our_times), statistics.median(bare_times)
        print(f"LoRA training step, tiny SD at {size} px, rank {rank}, batch 1, median of "
              f"{repeats} rounds of {steps} steps")
        print(f"  bare peft + diffusers {theirs * 1000:8.1f} ms")
        print(f"  museforge             {mine * 1000:8.1f} ms   ratio {mine / theirs:5.2f} "
              "(goal <= 1.1)")

        adapter = Path(tmp) / "style.safetensors"
        adapter.write_bytes(ours.adapter_bytes())
        style = LearntStyle("bench", 1, adapter, "0" * 64, 1.0, "diffusers")
        req = GenerateRequest("a red fox", width=size, height=size, steps=2, seed=1)
        backend.generate(req), backend.generate(req.with_(learnt=(style,)))
        plain_times, styled_times = [], []
        for _ in range(repeats):
            pipe.delete_adapters(pipe.get_list_adapters()["unet"])
            plain_times.append(_timed(lambda: backend.generate(req)))
            styled_times.append(_timed(lambda: backend.generate(req.with_(learnt=(style,)))))
        loaded = [_timed(lambda: backend.generate(req.with_(learnt=(style,))))
                  for _ in range(repeats)]
        plain, styled = statistics.median(plain_times), statistics.median(styled_times)
        print(f"generate 1 picture, {size} px, 2 steps, median of {repeats}")
        print(f"  alone                   {plain * 1000:8.1f} ms")
        print(f"  load adapter + generate {styled * 1000:8.1f} ms   ratio "
              f"{styled / plain:5.2f}")
        print(f"  adapter already loaded  {statistics.median(loaded) * 1000:8.1f} ms   "
              f"ratio {statistics.median(loaded) / plain:5.2f}")


def _bare_step(pipe, images, captions, rank, size, copy, torch, F, DDPMScheduler,
               LoraConfig, target_modules):  # type: ignore[no-untyped-def]
    """One training step as diffusers' example writes it, on its own UNet copy."""
    import numpy as np

    unet = copy.deepcopy(pipe.unet)
    unet.requires_grad_(False)
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                target_modules=list(target_modules)))
    unet.train()
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    pixels = torch.stack([torch.from_numpy(np.asarray(im.resize((size, size)),
                                                      dtype=np.float32) / 127.5 - 1)
                          .permute(2, 0, 1) for im in images])
    ids = pipe.tokenizer(captions, padding="max_length", truncation=True, return_tensors="pt",
                         max_length=pipe.tokenizer.model_max_length).input_ids
    state = {"i": 0}

    def step() -> float:
        i = state["i"] % len(images)
        state["i"] += 1
        with torch.no_grad():
            latents = pipe.vae.encode(pixels[i:i + 1]).latent_dist.sample()
            latents = latents * pipe.vae.config.scaling_factor
            hidden = pipe.text_encoder(ids[i:i + 1], return_dict=False)[0]
        noise = torch.randn_like(latents)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (1,)).long()
        noisy = noise_scheduler.add_noise(latents, noise, t)
        pred = unet(noisy, t, hidden, return_dict=False)[0]
        loss = F.mse_loss(pred.float(), noise.float(), reduction="mean")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad()
        return float(loss.detach())

    return step


if __name__ == "__main__":
    main()
