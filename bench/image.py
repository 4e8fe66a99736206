"""Image benchmark: the diffusers backend against a bare diffusers pipeline call doing the
same work, in one process, interleaved.

    .venv/bin/python bench/image.py [--quick] [--pairs N] [--size PX] [--device D]

The model is SD-Turbo-sized (UNet 866 M parameters, the SD 2.x VAE and OpenCLIP-H text
encoder) with random weights, built from the configs committed in ``bench/configs/``
(the hub is not reachable here; random weights cost the same compute as trained ones).
It is saved with ``save_pretrained`` to a temp folder and loaded the way users' weights
are: ``DiffusersBackend(model=<folder>)``. ``--quick`` uses a tiny model instead.

Measurements (the numbers that matter are the ratios):

1. generate, warm  ``DiffusersBackend.generate`` (1 image, ``--steps`` steps, guidance 0,
   ``--size`` px)  vs  the very pipeline object the backend loaded, called bare with the
   same prompt, size, steps, guidance and a seeded CPU generator. Pairs are interleaved
   (the order flips every pair); the ratio is the median of per-pair ratios.
2. second / first request  the backend's second ``generate`` over its first, which
   includes loading the pipeline from disk (the cache must skip it the second time).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach the hub
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONFIGS = Path(__file__).resolve().parent / "configs"
PROMPT = "a lighthouse on a cliff at sunset, oil painting"


def build_model(config: Path, out: Path) -> Path:
    """A random-weight StableDiffusionPipeline from ``config``'s JSON files, saved to
    ``out``. The tokenizer is the small local one in ``configs/tokenizer``: prompts are
    padded to 77 tokens either way, so the text encoder's work is the same."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(config / "unet"))
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(config / "vae"))
    text_encoder = CLIPTextModel(
        CLIPTextConfig.from_json_file(config / "text_encoder" / "config.json")).eval()
    scheduler = EulerDiscreteScheduler.from_config(
        EulerDiscreteScheduler.load_config(config / "scheduler"))
    tokenizer = CLIPTokenizer.from_pretrained(CONFIGS / "tokenizer")
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
        scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    pipe.save_pretrained(out)
    return out


def backend_call(backend: Any, size: int, steps: int, seed: int = 0) -> Any:
    """One generate request through the backend (what a tool does per image)."""
    from museforge.models.image.base import GenerateRequest

    return backend.generate(GenerateRequest(PROMPT, width=size, height=size, steps=steps,
                                            guidance=0.0, seed=seed))


def tool_call(ctx: Any, size: int, steps: int, seed: int = 0) -> Any:
    """``generate_image`` end to end: dispatch, generation, PNG with its recipe, version
    stored (what a person's request costs beyond the pipeline)."""
    from museforge.tools.image_tools import generate_image

    args = generate_image.args.model_validate(
        {"prompt": PROMPT, "width": size, "height": size, "steps": steps, "seed": seed})
    return generate_image.fn(ctx, args)


def bare_call(pipe: Any, size: int, steps: int, seed: int = 0, guidance: float = 0.0) -> Any:
    """The same work as ``backend_call`` (or, with the tool's guidance, as ``tool_call``),
    straight through diffusers."""
    import torch

    with torch.inference_mode():
        return pipe(PROMPT, height=size, width=size, num_inference_steps=steps,
                    guidance_scale=guidance,
                    generator=[torch.Generator("cpu").manual_seed(seed)]).images


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, a few seconds")
    parser.add_argument("--pairs", type=int, default=None, help="interleaved pairs")
    parser.add_argument("--size", type=int, default=None, help="px (256; --quick: 128)")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    pairs = args.pairs or (10 if args.quick else 5)
    args.size = args.size or (128 if args.quick else 256)
    config = CONFIGS / ("tiny" if args.quick else "sd-turbo")

    import numpy as np
    import torch

    from museforge.models.image.diffusers_backend import DiffusersBackend, package_versions
    from museforge.models.image.pipeline_cache import PipelineCache

    print(f"model {config.name}, {args.size}x{args.size}, {args.steps} step(s), "
          f"device {args.device}, torch threads {torch.get_num_threads()}, "
          f"{platform.processor() or platform.machine()}, {package_versions()}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        folder = build_model(config, Path(tmp) / "model")
        print(f"built and saved the random-weight model in {time.perf_counter() - t:.1f} s")

        cache = PipelineCache()
        backend = DiffusersBackend(str(folder), device=args.device, cache=cache)
        first = timed(lambda: backend_call(backend, args.size, args.steps))
        second = timed(lambda: backend_call(backend, args.size, args.steps))
        assert cache.loads == 1, "the second request reloaded the pipeline"
        pipe = cache.get(cache.keys()[0], lambda: None).pipeline

        # Same pixels both ways, or the comparison is not of the same work.
        ours = backend_call(backend, args.size, args.steps).images[0]
        theirs = bare_call(pipe, args.size, args.steps)[0]
        same = np.array_equal(np.asarray(ours), np.asarray(theirs))

        from museforge.storage.models import Actor, Scope
        from museforge.storage.store import Store
        from museforge.tools.base import Services, ToolContext

        store = Store(f"sqlite:///{Path(tmp) / 'm.db'}", Path(tmp))
        actor = Actor(store.local_user())
        ctx = ToolContext(store, actor, store.session(actor, Scope.local("bench")),
                          services=Services(image=backend))
        warm = tool_call(ctx, args.size, args.steps)  # warm the store and the PNG path
        # The tool leaves guidance to the model's default (7.5 for a folder that is no
        # preset): its baseline is the bare call with that same guidance.
        guidance = float(warm.artifacts[0].recipe["backend"]["guidance"])
        tool_png = warm.artifacts[0].files["png"]
        bare_same = bare_call(pipe, args.size, args.steps, 0, guidance)[0]
        from PIL import Image as _Image

        with _Image.open(tool_png) as stored:
            tool_same = np.array_equal(np.asarray(stored.convert("RGB")),
                                       np.asarray(bare_same))

        ratios, subject, baseline, tool_ratios, tools, tool_bases = [], [], [], [], [], []
        for i in range(pairs):
            run_ours = functools.partial(backend_call, backend, args.size, args.steps, i)
            run_bare = functools.partial(bare_call, pipe, args.size, args.steps, i)
            run_tool = functools.partial(tool_call, ctx, args.size, args.steps, i)
            run_tool_bare = functools.partial(bare_call, pipe, args.size, args.steps, i,
                                              guidance)
            order = [run_ours, run_bare, run_tool, run_tool_bare]
            took = {fn: timed(fn) for fn in (order if i % 2 == 0 else order[::-1])}
            s, b = took[run_ours], took[run_bare]
            t, tb = took[run_tool], took[run_tool_bare]
            subject.append(s)
            baseline.append(b)
            tools.append(t)
            tool_bases.append(tb)
            ratios.append(s / b)
            tool_ratios.append(t / tb)
        store.close()

    print(f"\nidentical pixels backend vs bare: {same}; generate_image's PNG vs bare with "
          f"guidance {guidance:g}: {tool_same}")
    print(f"{'operation':<28}{'museforge':>12}{'baseline':>12}{'ratio':>8}   p25-p75")
    print(f"{'generate, warm (median)':<28}{statistics.median(subject) * 1e3:>10.0f}ms"
          f"{statistics.median(baseline) * 1e3:>10.0f}ms{statistics.median(ratios):>8.3f}"
          f"   {pct(ratios, 0.25):.3f}-{pct(ratios, 0.75):.3f}   ({pairs} pairs)")
    print(f"{'generate_image tool, warm':<28}{statistics.median(tools) * 1e3:>10.0f}ms"
          f"{statistics.median(tool_bases) * 1e3:>10.0f}ms{statistics.median(tool_ratios):>8.3f}"
          f"   {pct(tool_ratios, 0.25):.3f}-{pct(tool_ratios, 0.75):.3f}   (PNG + recipe + "
          "version stored)")
    print(f"{'second / first request':<28}{second * 1e3:>10.0f}ms{first * 1e3:>10.0f}ms"
          f"{second / first:>8.3f}   (first includes loading from disk)")


if __name__ == "__main__":
    main()
