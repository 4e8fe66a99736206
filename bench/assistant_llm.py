"""LLM planner overhead: a turn "paint a fox" planned by the LLM planner against a
scripted OpenAI-compatible server on 127.0.0.1 that answers at once (so what is left is
the agent's own work: schemas, requests, parsing, validation, the second round-trip),
against the same turn planned offline, in one process, interleaved.

    .venv/bin/python bench/assistant_llm.py [--quick]

Printed: median turn times, the agent overhead (LLM turn − offline turn) as a share of
the offline turn (whose tool is the procedural painter at 256 px), and the model
round-trips per request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "assistant"))

from openai_stub import OpenAIStub, calls, say  # noqa: E402

from museforge.assistant.llm import LLMPlanner  # noqa: E402
from museforge.assistant.offline import OfflinePlanner  # noqa: E402
from museforge.assistant.turn import Assistant  # noqa: E402
from museforge.config import Settings  # noqa: E402
from museforge.models.image.procedural import ProceduralPainter  # noqa: E402
from museforge.storage.models import Actor, Scope  # noqa: E402
from museforge.storage.store import Store  # noqa: E402
from museforge.tools.base import Services  # noqa: E402

MESSAGE = "paint a fox in the snow, 256x256, seed 7"
CALL = {"prompt": "a fox in the snow", "width": 256, "height": 256, "seed": 7}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    rounds, per_round = (3, 3) if ap.parse_args().quick else (8, 5)
    stub = OpenAIStub()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            store = Store(f"sqlite:///{home / 'm.db'}", home)
            actor = Actor(store.local_user())
            painter = Services(image=ProceduralPainter())
            settings = Settings(llm_base_url=stub.url, llm_retries=0, llm_stream=False)
            offline = Assistant(store, OfflinePlanner(), services=painter)
            llm = Assistant(store, LLMPlanner.from_settings(settings), services=painter)
            times: dict[str, list[float]] = {"offline": [], "llm": []}
            trips: list[int] = []
            for r in range(rounds):
                for name in (["offline", "llm"] if r % 2 == 0 else ["llm", "offline"]):
                    assistant = offline if name == "offline" else llm
                    for i in range(per_round):
                        session = store.session(actor, Scope.local(f"{name}-{r}-{i}"))
                        before = len(stub.requests)
                        if name == "llm":
                            stub.script(calls(("generate_image", CALL)), say("Here it is."))
                        t = time.perf_counter()
                        result = assistant.turn(actor, session, MESSAGE)
                        times[name].append((time.perf_counter() - t) * 1000)
                        assert result.calls and result.calls[0].ok, result.reply
                        if name == "llm":
                            trips.append(len(stub.requests) - before)
            store.close()
    finally:
        stub.close()
    off, on = statistics.median(times["offline"]), statistics.median(times["llm"])
    print(f"museforge LLM planner benchmark: {len(times['llm'])} turns each, scripted "
          "server answering at once")
    print(f"  offline-planned turn (procedural painter, 256 px): {off:8.2f} ms")
    print(f"  LLM-planned turn, same tool and picture:          {on:8.2f} ms")
    print(f"  agent overhead (LLM − offline) ÷ offline turn:    {(on - off) / off:8.2f}")
    print(f"  model round-trips per request: median {statistics.median(trips):g}, "
          f"max {max(trips)}")


if __name__ == "__main__":
    main()
