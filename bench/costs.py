"""The cost model against the clock: each call's estimate (tools/costs.py) beside the
CPU-seconds it took, measured with time.process_time on the committed melody model and
the procedural painter. A ratio near 1 (within a factor of two) is what the model is for.

    .venv/bin/python bench/costs.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from museforge.models.image.procedural import ProceduralPainter  # noqa: E402
from museforge.models.music.model import load_default  # noqa: E402
from museforge.storage.models import Actor, Scope  # noqa: E402
from museforge.storage.store import Store  # noqa: E402
from museforge.tools.base import (
    Services,
    ToolContext,  # noqa: E402
)
from museforge.tools.costs import estimate  # noqa: E402
from museforge.tools.registry import get_tool  # noqa: E402

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("compose_music", {"prompt": "a folk tune", "bars": 16, "tempo": 120, "seed": 1}),
    ("compose_music", {"prompt": "a slow folk tune", "bars": 64, "tempo": 40, "seed": 2}),
    ("vary_music", {"artwork": "#2", "count": 2, "seed": 3}),
    ("continue_music", {"artwork": "#1", "bars": 16, "seed": 4}),
    ("edit_music", {"artwork": "#2", "tempo_scale": 0.8}),
    ("interpolate_music", {"artwork_a": "#1", "artwork_b": "#3", "steps": 2}),
    ("generate_image", {"prompt": "a lighthouse at dusk", "count": 2, "seed": 5}),
    ("generate_image", {"prompt": "a fox in snow", "width": 1024, "height": 1024, "seed": 6}),
    ("upscale_image", {"artwork": "#6", "factor": 2}),
]


def main() -> None:
    model = load_default()
    model.sample(1, (4, 4), seed=0)  # warm
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = Store(f"sqlite:///{home / 'c.db'}", home)
        actor = Actor(store.local_user())
        session = store.session(actor, Scope.local("bench"))
        ctx = ToolContext(store, actor, session,
                          services=Services(melody=model, image=ProceduralPainter()))
        print(f"{'call':62} {'estimate':>9} {'CPU-s':>7} {'ratio':>6}")
        for name, raw in CALLS:
            tool = get_tool(name)
            args = tool.args.model_validate(raw)
            guess = estimate(name, ctx, args)
            started = time.process_time()
            tool.fn(ctx, args)
            spent = time.process_time() - started
            said = f"{name}({', '.join(f'{k}={v}' for k, v in raw.items() if k != 'prompt')})"
            print(f"{said[:62]:62} {guess:9.2f} {spent:7.2f} {spent / guess:6.2f}", flush=True)
        store.close()


if __name__ == "__main__":
    main()
