"""Helpers for the assistant tests: the local actor, a session, artworks made straight
through the real store (the image and music tools come later), and an assistant with the
offline planner."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.storage.models import Actor, FileIn, Scope, SessionInfo

_serial = itertools.count(1)

Paint = Callable[..., int]


@pytest.fixture
def me(store) -> Actor:
    return Actor(store.local_user())


@pytest.fixture
def chat(store, me: Actor) -> SessionInfo:
    return store.session(me, Scope.local("default"))


@pytest.fixture
def assistant(store) -> Assistant:
    return Assistant(store, OfflinePlanner())


def png() -> dict[str, FileIn]:
    """A one-PNG file set whose bytes no other call returns."""
    return {"png": FileIn(f"png {next(_serial)}".encode(), "image/png")}


def make_artwork(store, me: Actor, chat: SessionInfo, title: str, versions: int = 1,
                 kind: str = "image", prompt: str | None = None) -> int:
    """``#N`` titled ``title`` with ``versions`` versions made one after another."""
    prompt = title if prompt is None else prompt
    art, _ = store.create_artwork(me, chat, kind, title=title, prompt=prompt,
                                  operation="generate_image", recipe={"prompt": title, "seed": 7},
                                  files=png())
    for step in range(2, versions + 1):
        store.add_version(me, chat, art.number, operation="adjust_image",
                          recipe={"brightness": 1.0 + step / 10}, files=png())
    return art.number


@pytest.fixture
def paint(store, me: Actor, chat: SessionInfo) -> Paint:
    """``paint("a red fox", versions=3)`` -> the new artwork's number."""

    def make(title: str, versions: int = 1, kind: str = "image",
             prompt: str | None = None) -> int:
        return make_artwork(store, me, chat, title, versions, kind, prompt)

    return make


@pytest.fixture
def heads(store, me: Actor, chat: SessionInfo) -> Callable[[], dict[int, int]]:
    """``heads()`` -> {artwork number: current version} for the whole session."""

    def read() -> dict[int, int]:
        return {a.number: a.head_number for a in store.list_artworks(me, chat)}

    return read


@pytest.fixture
def remember(store, me: Actor, chat: SessionInfo) -> Callable[..., None]:
    """``remember([2, 3, 4])`` stores the messages a generation turn leaves behind ("paint
    three foxes" makes a batch): one call that touched every artwork listed. That is what
    "it" and "the second one" look back at."""

    def write(numbers: list[int], kind: str = "image") -> None:
        store.add_message(me, chat, "user", "paint a batch")
        store.add_message(
            me, chat, "assistant", "Here they are.", planner="offline",
            tool_calls=[{"name": "generate_image",
                         "args": {"prompt": "a batch", "count": len(numbers)},
                         "ok": True, "error": None, "result": "made them", "ms": 1.0,
                         "artifacts": [f"#{n} v1" for n in numbers],
                         "touched": [[n, kind] for n in numbers]}],
        )

    return write
