"""Cold starts: a music turn against a picture turn, each a fresh process, plus the melody
model's numpy run time against torch in one process.

    .venv/bin/python bench/cold_start.py [--rounds N] [--no-torch-turn] [--repeats N]

1. cold turns. Each round runs, as fresh subprocesses with a fresh MUSEFORGE_HOME (a new
   temporary data dir, so a new database too) and the embedded defaults (no config file,
   no MUSEFORGE_* settings, no API key: the offline planner, the procedural painter where
   no image model is pulled):
     ``museforge ask "compose a jig"``   (the numpy melody model, what a user runs)
     ``museforge ask "paint a fox"``     (the baseline)
     the same compose turn with the melody model on torch (``--no-torch-turn`` skips it):
       ``load_default`` swapped for ``from_dir(backend="torch")`` before the CLI runs,
       which is what every music turn cost before the numpy run time
   in an order that alternates from round to round. Wall-clock and CPU seconds (user +
   system) per process, the per-round ratios compose ÷ paint, and their medians (the
   goal: ≤ 1.5). One more compose
   turn under ``-X importtime`` says whether torch was imported.
2. in-process compose. ``composer.compose`` of "a jig" (8 bars of 6/8, 8 sampled
   candidates per window) with the committed model on numpy and on torch, both loaded
   and warmed first, one thread each (OPENBLAS/OMP/MKL threads and torch's), alternating
   blocks of ``--repeats``; medians and the ratio numpy ÷ torch. Also the weights' load
   (``from_dir``) on each, not counting torch's own import.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUSEFORGE = str(Path(sys.executable).with_name("museforge"))
USER_ENV = dict(os.environ)  # before main() pins this process's threads

_TORCH_TURN = (
    "import sys\n"
    "from museforge.models.music import model as m\n"
    "m.load_default = lambda: m.MelodyVAEModel.from_dir(m.WEIGHTS_DIR, backend='torch')\n"
    "from museforge.cli import main\n"
    "sys.argv = ['museforge', 'ask', 'compose a jig']\n"
    "main()\n"
)


def clean_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in USER_ENV.items()
           if not k.startswith("MUSEFORGE_") and k != "OPENAI_API_KEY"}
    env.update(MUSEFORGE_HOME=home, COLUMNS="200")
    return env


def cold(kind: str, *, importtime: bool = False) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system) of one fresh process running the turn
    ``kind``, and its stdout (stderr with -X importtime)."""
    commands = {"compose": [MUSEFORGE, "ask", "compose a jig"],
                "paint": [MUSEFORGE, "ask", "paint a fox"],
                "torch": [sys.executable, "-c", _TORCH_TURN]}
    command = commands[kind]
    if importtime:
        command = [sys.executable, "-X", "importtime", "-c",
                   "import sys; from museforge.cli import main; "
                   "sys.argv = ['museforge', 'ask', 'compose a jig']; main()"]
    with tempfile.TemporaryDirectory(prefix="mf-cold-") as home:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=clean_env(home),
                              cwd=ROOT, timeout=300)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    expect = "Painted" if kind == "paint" else "Composed"
    if done.returncode != 0 or expect not in done.stdout:
        raise SystemExit(f"{kind} turn failed (exit {done.returncode}):\n{done.stdout}\n"
                         f"{done.stderr[-2000:]}")
    return seconds, cpu, done.stderr if importtime else done.stdout


def quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def cold_turns(rounds: int, with_torch: bool) -> None:
    kinds = ["compose", "paint"] + (["torch"] if with_torch else [])
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpus: dict[str, list[float]] = {k: [] for k in kinds}
    cold("paint")  # fill the OS file cache once (a first-ever run reads every .py from disk)
    for r in range(rounds):
        order = kinds if r % 2 == 0 else kinds[::-1]
        for kind in order:
            wall, cpu, _ = cold(kind)
            times[kind].append(wall)
            cpus[kind].append(cpu)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(
            f"{k} {times[k][-1]:.2f} s ({cpus[k][-1]:.2f} s CPU)" for k in kinds), flush=True)
    _, _, trace = cold("compose", importtime=True)
    imported = {line.split("|")[-1].strip() for line in trace.splitlines()
                if line.startswith("import time:")}
    heavy = sorted(m for m in ("torch", "safetensors", "music21", "diffusers") if m in imported)

    print(f"\ncold turns, fresh process and data dir each, {rounds} rounds, medians "
          "(wall clock; CPU seconds, which the neighbours on a shared machine disturb less):")
    for kind, label in (("paint", 'ask "paint a fox"'), ("compose", 'ask "compose a jig"'),
                        ("torch", 'ask "compose a jig", model on torch')):
        if kind in times:
            print(f"  {label:38s} {statistics.median(times[kind]):6.2f} s   "
                  f"{statistics.median(cpus[kind]):6.2f} s CPU")
    for kind, label in (("compose", "compose ÷ paint"), ("torch", "compose on torch ÷ paint")):
        if kind not in times:
            continue
        goal = "  (goal ≤ 1.5)" if kind == "compose" else ""
        for what, figures in (("wall", times), ("CPU ", cpus)):
            ratios = [c / p for c, p in zip(figures[kind], figures["paint"], strict=True)]
            lo, hi = quartiles(ratios)
            print(f"  {label + ', ' + what:38s} {statistics.median(ratios):6.2f}  (per-round "
                  f"p25-p75 {lo:.2f}-{hi:.2f}){goal}")
    print(f"  heavy modules a compose turn imports: {', '.join(heavy) or 'none'}")


def in_process(repeats: int) -> None:
    import torch

    from museforge.models.music.composer import ComposeRequest, compose
    from museforge.models.music.model import WEIGHTS_DIR, MelodyVAEModel

    torch.set_num_threads(1)
    models = {b: MelodyVAEModel.from_dir(WEIGHTS_DIR, backend=b) for b in ("numpy", "torch")}
    times: dict[str, list[float]] = {b: [] for b in models}
    loads: dict[str, list[float]] = {b: [] for b in models}
    seed = 0
    for model in models.values():  # warm-up
        compose(ComposeRequest(prompt="a jig", seed=seed), model)
    for block in range(4):
        order = list(models) if block % 2 == 0 else list(models)[::-1]
        for b in order:
            for _ in range(repeats):
                seed += 1
                started = time.perf_counter()
                compose(ComposeRequest(prompt="a jig", seed=seed), models[b])
                times[b].append(time.perf_counter() - started)
            started = time.perf_counter()
            MelodyVAEModel.from_dir(WEIGHTS_DIR, backend=b)
            loads[b].append(time.perf_counter() - started)
    med = {b: statistics.median(v) for b, v in times.items()}
    load = {b: statistics.median(v) for b, v in loads.items()}
    print(f"\nin-process compose of 'a jig' (8 bars 6/8), warm, 1 thread, "
          f"{4 * repeats} runs each:")
    print(f"  numpy run time       {med['numpy'] * 1000:8.1f} ms")
    print(f"  torch                {med['torch'] * 1000:8.1f} ms")
    print(f"  numpy ÷ torch        {med['numpy'] / med['torch']:8.2f}")
    print(f"  load weights: numpy {load['numpy'] * 1000:.1f} ms, torch "
          f"{load['torch'] * 1000:.1f} ms (after torch is imported)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch-turn", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    args = parser.parse_args()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # this process's numpy; the cold turns get the user's env
    sys.path.insert(0, str(ROOT))
    if not args.skip_cold:
        cold_turns(args.rounds, not args.no_torch_turn)
    in_process(args.repeats)


if __name__ == "__main__":
    main()
