"""The Discord front-end: ``run(settings)`` for ``museforge discord``, ``start(studio)``
to run beside another front-end on a shared Studio."""

from __future__ import annotations

from museforge.bots.discord.bot import BotSetupError, MuseBot, invite_url, run, start

__all__ = ["BotSetupError", "MuseBot", "invite_url", "run", "start"]
