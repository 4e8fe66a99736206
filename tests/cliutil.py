"""Running the real ``museforge`` command in tests, and the ``ask --json`` contract of
DESIGN.md that its output must keep. Shared by tests that drive the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

MUSEFORGE = str(Path(sys.executable).with_name("museforge"))
SESSION = "studio"


def museforge(*args: str, url: str | None = None, stdin: str | None = None,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200", MUSEFORGE_NO_INLINE="1")  # MUSEFORGE_HOME: conftest
    if url is not None:
        env["MUSEFORGE_DATABASE_URL"] = url
    return subprocess.run([MUSEFORGE, *args], capture_output=True, text=True, env=env,
                          input=stdin, timeout=timeout)


def ask(message: str, *flags: str, url: str | None = None, timeout: float = 60
        ) -> dict[str, Any]:
    done = museforge("ask", message, "--session", SESSION, "--json", *flags, url=url,
                     timeout=timeout)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, f"--json prints one line, got {done.stdout!r}"
    return json.loads(lines[0])


def check_contract(out: dict[str, Any]) -> None:
    """The shape DESIGN.md promises scripts."""
    assert set(out) == {"session", "planner", "reply", "tool_calls", "artifacts", "errors"}
    assert out["session"] == SESSION
    assert out["planner"] == "offline"
    assert isinstance(out["reply"], str) and out["reply"]
    for call in out["tool_calls"]:
        assert set(call) >= {"name", "args", "ok", "error"}
        assert isinstance(call["name"], str) and isinstance(call["args"], dict)
        assert isinstance(call["ok"], bool)
        assert (call["error"] is None) == call["ok"]
        if not call["ok"]:
            assert isinstance(call["error"], str) and call["error"]
    for art in out["artifacts"]:
        assert set(art) == {"artwork", "version", "kind", "files", "recipe"}
        assert re.fullmatch(r"#\d+", art["artwork"])
        assert isinstance(art["version"], int) and art["version"] >= 1
        assert art["kind"] in ("image", "music")
        want = {"png"} if art["kind"] == "image" else {"mid", "ogg", "png"}
        assert set(art["files"]) == want
        assert all(Path(p).is_file() for p in art["files"].values())
        assert isinstance(art["recipe"], dict)
    assert isinstance(out["errors"], list)
