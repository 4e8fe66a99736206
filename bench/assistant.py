"""Assistant benchmark: the overhead of one turn ("undo #N" through the offline planner,
reference resolution, validation, storing both messages) against the store call alone,
in a session of 1,000 artworks, measured in one process, interleaved.

    .venv/bin/python bench/assistant.py [--quick]

Printed: per-operation medians, the ratio turn / store.undo, and the overhead ratio
(turn minus the tool's own time) / store.undo.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from museforge.assistant.offline import OfflinePlanner  # noqa: E402
from museforge.assistant.turn import Assistant  # noqa: E402
from museforge.storage.models import Actor, FileIn, Scope  # noqa: E402
from museforge.storage.store import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="100 artworks, fewer rounds")
    opts = ap.parse_args()
    n_artworks = 100 if opts.quick else 1000
    rounds, per_round = (5, 10) if opts.quick else (10, 30)

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = Store(f"sqlite:///{home / 'museforge.db'}", home)
        actor = Actor(store.local_user())
        session = store.session(actor, Scope.local("bench"))
        t0 = time.perf_counter()
        for i in range(n_artworks):
            store.create_artwork(actor, session, "image", title=f"artwork {i}", prompt=f"p {i}",
                                 operation="generate_image", recipe={"seed": i},
                                 files={"png": FileIn(f"png {i}".encode(), "image/png")})
        # Enough history on every artwork that undo never runs dry: a version per round.
        for i in range(n_artworks):
            for r in range(rounds * per_round * 2 // n_artworks + 2):
                store.add_version(actor, session, i + 1, operation="adjust_image",
                                  recipe={"r": r},
                                  files={"png": FileIn(f"v {i} {r}".encode(), "image/png")})
        setup_s = time.perf_counter() - t0
        assistant = Assistant(store, OfflinePlanner())

        turn_ms: list[float] = []
        tool_ms: list[float] = []
        bare_ms: list[float] = []
        target = 0

        def next_artwork() -> int:
            nonlocal target
            target = target % n_artworks + 1
            return target

        for r in range(rounds):
            blocks = ["turn", "bare"] if r % 2 == 0 else ["bare", "turn"]
            for block in blocks:
                for _ in range(per_round):
                    number = next_artwork()
                    if block == "turn":
                        t = time.perf_counter()
                        result = assistant.turn(actor, session, f"undo #{number}")
                        turn_ms.append((time.perf_counter() - t) * 1000)
                        assert result.calls[0].ok, result.reply
                        tool_ms.append(result.calls[0].ms)
                    else:
                        t = time.perf_counter()
                        store.undo(actor, session, number)
                        bare_ms.append((time.perf_counter() - t) * 1000)
        store.close()

    turn, tool, bare = (statistics.median(x) for x in (turn_ms, tool_ms, bare_ms))
    overhead = statistics.median(t - u for t, u in zip(turn_ms, tool_ms, strict=True))
    print(f"museforge assistant benchmark ({'quick' if opts.quick else 'full'}): "
          f"{n_artworks} artworks, {len(turn_ms)} turns, setup {setup_s:.1f} s")
    print(f"{'operation':<36}{'median ms':>10}{'÷ store.undo':>14}")
    print(f"{'store.undo (baseline)':<36}{bare:>10.3f}{1.0:>13.1f}x")
    print(f"{'turn: undo #N, whole':<36}{turn:>10.3f}{turn / bare:>13.1f}x")
    print(f"{'  of which the undo tool':<36}{tool:>10.3f}{tool / bare:>13.1f}x")
    print(f"{'  turn overhead (whole - tool)':<36}{overhead:>10.3f}{overhead / bare:>13.1f}x")


if __name__ == "__main__":
    main()
