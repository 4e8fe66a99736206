"""Helpers for the web chat's tests: one waited-for turn, a PNG, a parsed event stream."""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

LOCAL = "http://127.0.0.1"


def turn(client: TestClient, sid: int, message: str = "", **body: Any) -> dict[str, Any]:
    """One turn, waited for; the finished job's JSON."""
    if message:
        body["message"] = message
    r = client.post(f"/api/sessions/{sid}/turns?wait=true", json=body)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["state"] == "done", job
    return job


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) pairs of a server-sent event stream."""
    out = []
    for block in text.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if data is not None:
            out.append((name, data))
    return out


MIDI = (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60"
        b"MTrk\x00\x00\x00\x0c\x00\x90\x3c\x40\x60\x80\x3c\x00\x00\xff\x2f\x00")


def seed_music(store: Any, actor: Any, session: Any, title: str = "a calm piece") -> int:
    """A piece as the music tools store it (MIDI, OGG, piano roll) and the reply that
    showed it, made through the store: the web shows what is stored, whatever made it."""
    from museforge.storage.models import FileIn

    store.add_message(actor, session, "user", f"compose {title}")
    art, _ = store.create_artwork(
        actor, session, "music", title=title, prompt=title, operation="compose_music",
        recipe={"tool": "compose_music", "args": {"prompt": title}},
        files={"mid": FileIn(MIDI, "audio/midi"),
               "ogg": FileIn(b"OggS\x00\x02" + title.encode(), "audio/ogg"),
               "png": FileIn(png_bytes((320, 120), "white"), "image/png")})
    store.add_message(actor, session, "assistant", f"Composed #{art.number}.",
                      tool_calls=[{"name": "compose_music", "args": {}, "ok": True,
                                   "error": None, "artifacts": [f"#{art.number} v1"],
                                   "touched": [[art.number, "music"]]}])
    return int(art.number)
