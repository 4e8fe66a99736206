"""Helpers for the storage tests: the local actor, a session, and fresh file bytes."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from museforge.storage.models import Actor, FileIn, Scope, SessionInfo

_serial = itertools.count(1)

Files = Callable[..., dict[str, FileIn]]


@pytest.fixture
def me(store) -> Actor:
    return Actor(store.local_user())


@pytest.fixture
def chat(store, me: Actor) -> SessionInfo:
    return store.session(me, Scope.local("default"))


@pytest.fixture
def files() -> Files:
    """``files()`` -> a one-PNG file set whose bytes no other call returns."""

    def make(tag: str = "") -> dict[str, FileIn]:
        return {"png": FileIn(f"png {next(_serial)} {tag}".encode(), "image/png")}

    return make
