"""Discord bot benchmark: how late the bot's event loop runs while 20 generations go
through it, against the same loop idle.

    .venv/bin/python bench/discord_loop.py [--quick] [--real] [--users N]

A ticker task on the loop asks to wake every 5 ms and records how late it wakes (the
loop lag: what a heartbeat, an interaction's 3-second deadline or another guild's
message would wait). Three phases, in one process, on one loop:

  idle      the ticker alone;
  bot       the ticker while 20 /imagine-style requests from several users go through
            the bot's own code path (``Runner.run``: the shared job queue, the queue-place
            wait, status-line coalescing, rendering the result with its files and
            buttons), each status edit and result costing a simulated 20 ms round trip
            to Discord (an ``await``, as discord.py's HTTP is);
  blocking  for reference, the anti-pattern: the same turns called directly on the loop.

Phases alternate over several rounds (6; 2 with --quick) and their lags are pooled.
Printed: p50 / p99 / max lag per phase and the ratios bot / idle and blocking / idle.
The turns use the procedural painter unless ``--real`` (then MUSEFORGE_IMAGE_BACKEND and
MUSEFORGE_IMAGE_MODEL decide, e.g. diffusers on a GPU with weights in the Hugging Face
cache). The data dir is a temp folder; nothing connects to Discord.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TICK_S = 0.005
RTT_S = 0.02


class Recording:
    """A ``runner.Target`` that does what the Discord ones do locally (opens the files it
    would upload) and awaits a simulated round trip instead of HTTP."""

    ephemeral = False
    upload_limit = 10 * 1024 * 1024

    def __init__(self) -> None:
        self.edits = 0
        self.files = 0

    async def edit(self, out: Any) -> None:
        for f in out.discord_files():
            self.files += 1
            f.close()
        self.edits += 1
        await asyncio.sleep(RTT_S)

    async def send(self, out: Any) -> None:
        await self.edit(out)


async def ticker(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        lags.append(max(0.0, loop.time() - due) * 1000)


async def measure(work: Any, min_s: float) -> tuple[list[float], float]:
    lags: list[float] = []
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(lags, stop))
    t0 = time.perf_counter()
    await asyncio.gather(work(), asyncio.sleep(min_s))
    elapsed = time.perf_counter() - t0
    stop.set()
    await tick
    return lags, elapsed


def summary(lags: list[float]) -> tuple[float, float, float]:
    ordered = sorted(lags)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


async def run(opts: argparse.Namespace) -> None:
    from museforge.bots.discord.bot import MuseBot
    from museforge.bots.service import Studio
    from museforge.config import load_settings
    from museforge.storage.models import Actor, Scope

    services = None
    if not opts.real:
        from museforge.models.image.procedural import ProceduralPainter
        from museforge.tools.base import Services

        services = Services(image=ProceduralPainter())
    studio = Studio.open(load_settings(), services=services)
    bot = MuseBot(studio, sync_commands=False)
    store = studio.store
    n = opts.generations
    users = [store.user("discord", str(1000 + i), f"user{i}") for i in range(opts.users)]
    requests = []
    for i in range(n):
        actor = Actor(users[i % len(users)], guild_id="1")
        session = store.session(actor, Scope.discord_thread("1", "2", str(100 + i), f"t{i}"))
        requests.append((actor, session, f"paint a fox number {i} in the snow, seed {i}"))
    # Warm up (first import of the painter, the first SQLite writes) outside the timing.
    studio.assistant.turn(*requests[0][:2], "paint a warm-up picture")

    targets: list[Recording] = []
    edits = 0

    async def through_the_bot() -> None:
        async def one(i: int) -> None:
            actor, session, message = requests[i]
            target = Recording()
            targets.append(target)
            # Each user has at most 3 requests in flight (the queue's limit): a user's
            # next request starts when the previous one is back, as when people wait.
            result = await bot.runner.run(bot.runner.request(
                actor, session, message, int(actor.user.external_id), 1), target)
            assert result is not None and result.artifacts, message

        per_user: dict[int, list[int]] = {}
        for i in range(n):
            per_user.setdefault(i % len(users), []).append(i)

        async def user_queue(items: list[int]) -> None:
            for i in items:
                await one(i)

        await asyncio.gather(*(user_queue(items) for items in per_user.values()))

    async def blocking() -> None:
        for actor, session, message in requests:
            studio.assistant.turn(actor, session, message)  # on the loop: what not to do
            await asyncio.sleep(0)

    pooled: dict[str, list[float]] = {"idle": [], "bot": [], "blocking": []}
    walls: dict[str, list[float]] = {"idle": [], "bot": [], "blocking": []}
    for r in range(opts.rounds):  # interleaved, alternating order: drift hits all alike
        phases = ["idle", "bot", "blocking"] if r % 2 == 0 else ["blocking", "bot", "idle"]
        for phase in phases:
            if phase == "blocking" and opts.no_blocking:
                continue
            if phase == "idle":
                lags, wall = await measure(lambda: asyncio.sleep(0), opts.idle_s)
            else:
                targets.clear()
                lags, wall = await measure(through_the_bot if phase == "bot" else blocking, 0)
                edits = sum(t.edits for t in targets) if phase == "bot" else edits
            pooled[phase] += lags
            walls[phase].append(wall)
    rows = [(name, pooled[name], statistics.median(walls[name]))
            for name in ("idle", "bot", "blocking") if pooled[name]]
    studio.close()

    backend = "configured backend" if opts.real else "procedural painter"
    print(f"{n} generations x {opts.rounds} rounds, {len(users)} users, {backend}; ticker "
          f"every {TICK_S * 1000:.0f} ms; {RTT_S * 1000:.0f} ms simulated Discord round trip; "
          f"{edits} status/result edits per round")
    print(f"{'phase':<9} {'wall s':>7} {'ticks':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
          "   (wall: median per round; lags pooled over rounds)")
    stats = {}
    for name, lags, wall in rows:
        p50, p99, worst = summary(lags)
        stats[name] = (p50, p99, worst)
        print(f"{name:<9} {wall:7.2f} {len(lags):6d} {p50:7.2f} {p99:7.2f} {worst:7.2f}")
    base = stats["idle"]
    for name in [r[0] for r in rows[1:]]:
        ratios = [s / max(b, 0.01) for s, b in zip(stats[name], base, strict=True)]
        print(f"ratio {name}/idle: p50 {ratios[0]:.1f}x, p99 {ratios[1]:.1f}x, "
              f"max {ratios[2]:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="8 generations, a shorter idle phase")
    ap.add_argument("--real", action="store_true", help="the configured image backend")
    ap.add_argument("--users", type=int, default=5, help="distinct users (default 5)")
    ap.add_argument("--no-blocking", action="store_true", help="skip the blocking reference")
    opts = ap.parse_args()
    opts.generations = 8 if opts.quick else 20
    opts.rounds = 2 if opts.quick else 6
    opts.idle_s = 0.5
    with tempfile.TemporaryDirectory() as home:
        os.environ["MUSEFORGE_HOME"] = home  # a throwaway data dir (weights: the HF cache)
        asyncio.run(run(opts))


if __name__ == "__main__":
    main()
