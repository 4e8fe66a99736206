"""The scores a turn's ``export_music`` calls wrote (ABC, MusicXML, MIDI under
``<data dir>/exports/``), found for the front-ends that hand them over: Discord attaches
them, the web links them. A call says where it wrote in its result sentence ("Wrote #2
as MusicXML: <path>."); only a path inside the data dir's ``exports`` folder, named as
the tool names its files (``<N>-v<M>-<title>.<suffix>``), counts, and the web shows the
file's name in place of the path."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = {"abc": "abc", "musicxml": "musicxml", "mid": "midi"}  # suffix -> format
NAMES = {"abc": "ABC", "musicxml": "MusicXML", "midi": "MIDI"}
MIME = {"abc": "text/vnd.abc; charset=utf-8",
        "musicxml": "application/vnd.recordare.musicxml+xml",
        "midi": "audio/midi"}
FILE_NAME = re.compile(r"^(?P<art>\d{1,7})-v(?P<ver>\d{1,7})-[a-z0-9-]{0,40}\."
                       r"(?P<suffix>abc|musicxml|mid)$")


@dataclass(frozen=True)
class Exported:
    artwork: int
    version: int
    format: str  # abc, musicxml or midi
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def _root(home: Path) -> str:
    return str(Path(home) / "exports")


def _paths(message: str, home: Path) -> list[str]:
    root = re.escape(_root(home))
    return re.findall(root + r"[/\\][A-Za-z0-9_-]{1,60}[/\\][a-z0-9-]+\.(?:abc|musicxml|mid)"
                      r"(?=[\s.,)]|$)", message)


def exports(calls: Iterable[Any], home: Path) -> list[Exported]:
    """The files the successful ``export_music`` calls among ``calls`` wrote (a turn's
    ``CallRecord``s, or the stored dicts of a message's tool calls) that are still there."""
    found: list[Exported] = []
    for call in calls:
        name, ok, message = _fields(call)
        if name != "export_music" or not ok or not message:
            continue
        # only the tool's own first line names the file it wrote: what follows is the
        # score itself (an ABC tune's T: line is the person's text and may hold any path)
        for text in _paths(message.split("\n", 1)[0], home):
            path = Path(text)
            m = FILE_NAME.match(path.name)
            if m and path.is_file():
                found.append(Exported(int(m["art"]), int(m["ver"]), FORMATS[m["suffix"]], path))
    return list(dict.fromkeys(found))


def _fields(call: Any) -> tuple[str, bool, str]:
    if isinstance(call, Mapping):
        return (str(call.get("name", "")), bool(call.get("ok")) and not call.get("cancelled"),
                str(call.get("result") or ""))
    return call.name, bool(call.ok and call.ran), str(call.message or "")


def without_paths(text: str, home: Path) -> str:
    """``text`` with every export path in it shown as the file's name alone."""
    for path in _paths(text, home):
        text = text.replace(path, Path(path).name)
    return text
