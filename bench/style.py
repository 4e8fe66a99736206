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

Medians of ``--repeats`` runs after one warm-up; the two sides of 2. alternate.
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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
