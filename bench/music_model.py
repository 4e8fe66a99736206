"""Melody model benchmark: the committed VAE's run-time costs, as ratios in one process.

    .venv/bin/python bench/music_model.py [--repeats N] [--threads T]

1. sample batch 64 / batch 1  time for one ``sample(64)`` over one ``sample(1)``
   (the composer samples several candidates and scores them; a ratio far under 64
   means batching pays)
2. continue 8 bars / sample 1  ``continue_melody`` by 8 bars (4 chunks of 16 candidates
   each) over one ``sample(1)``
3. load / sample 1  ``MelodyVAEModel.from_dir`` (first use in a process) over one sample

Each figure is the median of ``--repeats`` runs, after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from museforge.models.music.model import WEIGHTS_DIR, MelodyVAEModel

    torch.set_num_threads(args.threads)
    model = MelodyVAEModel.from_dir(WEIGHTS_DIR)
    ts = (4, 4)
    one = median_seconds(lambda: model.sample(1, ts, seed=1), args.repeats)
    many = median_seconds(lambda: model.sample(64, ts, seed=1), args.repeats)
    melody = model.sample(1, ts, seed=2)[0]
    cont = median_seconds(lambda: model.continue_melody(melody, ts, 8, seed=3), args.repeats)
    load = median_seconds(lambda: MelodyVAEModel.from_dir(WEIGHTS_DIR), args.repeats)

    print(f"threads {args.threads}, 4/4 windows (32 steps), median of {args.repeats}")
    print(f"sample(1)                         {one * 1000:8.1f} ms")
    print(f"sample(64) / sample(1)            {many / one:8.2f}   (64 melodies for the price "
          f"of {many / one:.1f})")
    print(f"continue 8 bars / sample(1)       {cont / one:8.2f}")
    print(f"load / sample(1)                  {load / one:8.2f}")


if __name__ == "__main__":
    main()
