"""Music benchmark (ratios in one run, interleaved where there is a pair):

1. model sampling, batch 64 ÷ 64 × batch 1 (what batching saves per melody);
2. compose 16 bars, 4 parts, end to end (model + arrangement + MIDI + audio + piano roll +
   version stored) and the share each stage takes, against the audio's duration;
3. audio render time ÷ audio duration for a 2-minute 4-part piece (goal ≤ 0.1), both
   renderers.

    .venv/bin/python bench/music.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from museforge.models.audio.render import render_audio  # noqa: E402
from museforge.models.music.composer import ComposeRequest, compose  # noqa: E402
from museforge.models.music.edit import fit_bars  # noqa: E402
from museforge.models.music.model import load_default  # noqa: E402
from museforge.storage.models import Actor, Scope  # noqa: E402
from museforge.storage.store import Store  # noqa: E402
from museforge.tools.base import (
    Services,
    ToolContext,  # noqa: E402
)
from museforge.tools.music_support import render_files  # noqa: E402
from museforge.tools.music_tools import compose_music  # noqa: E402


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kw)
    return (time.perf_counter() - t), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    quick = ap.add_argument("--quick", action="store_true") and ap.parse_args().quick
    reps = 2 if quick else 5
    model = load_default()
    model.sample(1, (4, 4), seed=0)  # warm

    batch, single = [], []
    for r in range(reps):
        order = ["batch", "single"] if r % 2 == 0 else ["single", "batch"]
        for name in order:
            if name == "batch":
                batch.append(timed(model.sample, 64, (4, 4), seed=r)[0])
            else:
                single.append(sum(timed(model.sample, 1, (4, 4), seed=r * 100 + i)[0]
                                  for i in range(64)))
    b, s = statistics.median(batch), statistics.median(single)
    print(f"museforge music benchmark ({'quick' if quick else 'full'}), model "
          f"{model.name} {model.revision}")
    print(f"1. sampling 64 melodies: one batch {b * 1000:.0f} ms, 64 single calls "
          f"{s * 1000:.0f} ms -> batch 64 ÷ 64 x batch 1 = {b / s:.3f}")

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = Store(f"sqlite:///{home / 'm.db'}", home)
        actor = Actor(store.local_user())
        session = store.session(actor, Scope.local("bench"))
        ctx = ToolContext(store, actor, session, services=Services(melody=model))
        req = {"prompt": "an upbeat rock song with drums", "bars": 16,
               "parts": ["melody", "chords", "bass", "drums"]}
        stages: dict[str, list[float]] = {"tool": [], "compose": [], "render": [], "store": []}
        seconds = 0.0
        for r in range(reps):
            # The tool end to end, then the same work stage by stage, alternating order.
            args = compose_music.args.model_validate({**req, "seed": r})
            stages["tool"].append(timed(compose_music.fn, ctx, args)[0])
            t_c, made = timed(compose, ComposeRequest(prompt=req["prompt"], bars=16,
                                                      parts=req["parts"], seed=r), model)
            t_r, (files, _) = timed(render_files, made.piece)
            t_s, _ = timed(store.create_artwork, actor, session, "music", title="bench",
                           operation="compose_music", recipe={}, files=files)
            stages["compose"].append(t_c)
            stages["render"].append(t_r)
            stages["store"].append(t_s)
            seconds = made.piece.seconds
        store.close()
    m = {k: statistics.median(v) for k, v in stages.items()}
    parts = m["compose"] + m["render"] + m["store"]
    print(f"2. compose 16 bars, 4 parts ({seconds:.1f} s of music), end to end "
          f"{m['tool'] * 1000:.0f} ms = {m['tool'] / seconds:.3f} x the music's duration; "
          f"stage by stage: model + arrangement {m['compose'] / parts:.0%}, MIDI + audio + "
          f"piano roll {m['render'] / parts:.0%}, store {m['store'] / parts:.0%}; "
          f"tool ÷ sum of its stages {m['tool'] / parts:.2f}")

    piece = compose(ComposeRequest(prompt="a rock song", bars=16, seed=1,
                                   parts=["melody", "chords", "bass", "drums"]), model).piece
    long = fit_bars(piece, max(16, round(120 / (piece.seconds / piece.bars))))
    for renderer in ("fluidsynth", "numpy"):
        runs = [timed(render_audio, long, renderer=renderer) for _ in range(2 if quick else 3)]
        t = statistics.median(r[0] for r in runs)
        audio = runs[0][1]
        print(f"3. render {long.seconds:.0f} s, 4 parts, {audio.renderer}: {t:.2f} s -> "
              f"render ÷ duration = {t / audio.seconds:.4f} (goal ≤ 0.1)")


if __name__ == "__main__":
    main()
