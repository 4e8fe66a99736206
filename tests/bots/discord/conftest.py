"""The Discord bot against simcord's offline Discord (no network, no token): a real
MuseBot on a real Studio (SQLite in the test's data dir, the offline planner, the
procedural painter).

No ``__init__.py`` here or in tests/bots on purpose: with one, pytest would import this
folder as a package named ``discord`` and hide discord.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

Scenario = Callable[[Any], Awaitable[None]]


@pytest.fixture
def studio(museforge_home) -> Iterator[Any]:
    from museforge.bots.service import Studio
    from museforge.config import load_settings
    from museforge.models.image.procedural import ProceduralPainter
    from museforge.tools.base import Services

    st = Studio.open(load_settings(), services=Services(image=ProceduralPainter()))
    yield st
    st.close()


@pytest.fixture
def simulate(studio: Any) -> Callable[..., None]:
    """``simulate(scenario)`` runs ``await scenario(env)`` with the bot logged in to a
    fresh simulated Discord; errors the bot swallowed fail the test."""
    simcord = pytest.importorskip("simcord", reason="simcord is in the dev extra")
    from discordsim import new_bot

    def go(scenario: Scenario, **options: Any) -> None:
        # Each action waits for the bot to finish its turn; a slow machine may need more
        # than simcord's default 5 s for a piece of music.
        options.setdefault("settle_timeout", 60.0)

        async def main() -> None:
            async with simcord.run(new_bot(studio), **options) as env:
                await scenario(env)

        asyncio.run(main())

    return go
