"""Where one request shows itself on Discord: its target (a deferred interaction
response, or a message the bot posted) and its live status line (queue place, then
step i/n), whose edits are coalesced because Discord rate-limits them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import discord

from museforge.assistant.jobs import TurnHandle
from museforge.bots.discord import render
from museforge.bots.discord.context import NO_PINGS
from museforge.bots.discord.render import Outgoing

log = logging.getLogger(__name__)


def upload_limit(guild: discord.Guild | None) -> int:
    return guild.filesize_limit if guild is not None else render.DEFAULT_UPLOAD_LIMIT


class Target(Protocol):
    """Where one request's status line and result show."""

    ephemeral: bool
    upload_limit: int

    async def edit(self, out: Outgoing) -> None: ...

    async def send(self, out: Outgoing) -> None: ...


class InteractionTarget:
    """A deferred slash command or button press: its response is edited in place."""

    def __init__(self, interaction: discord.Interaction[Any], ephemeral: bool = False):
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.upload_limit = upload_limit(interaction.guild)

    async def edit(self, out: Outgoing) -> None:
        if self.interaction.is_expired():  # queued past the 15 minutes a response lives
            await self._late(out)
            return
        await self.interaction.edit_original_response(
            content=out.content, attachments=out.discord_files(), view=out.view,
            allowed_mentions=NO_PINGS)

    async def _late(self, out: Outgoing) -> None:
        """The result as a new message in the channel, telling (only) the requester."""
        channel = self.interaction.channel
        if out.status:
            return  # a status line nobody can see any more
        if self.ephemeral or not isinstance(channel, discord.abc.Messageable):
            log.warning("the response to a request expired before its result was ready")
            return
        user = self.interaction.user
        extra: dict[str, Any] = {"view": out.view} if out.view is not None else {}
        await channel.send(render.clip(f"{user.mention} {out.content}"),
                           files=out.discord_files(),
                           allowed_mentions=discord.AllowedMentions.none().merge(
                               discord.AllowedMentions(users=[user])), **extra)

    async def send(self, out: Outgoing) -> None:
        extra: dict[str, Any] = {"view": out.view} if out.view is not None else {}
        await self.interaction.followup.send(out.content, files=out.discord_files(),
                                             ephemeral=self.ephemeral,
                                             allowed_mentions=NO_PINGS, **extra)


class MessageTarget:
    """A message the bot posted (in a thread or a DM), edited in place."""

    ephemeral = False

    def __init__(self, message: discord.Message):
        self.message = message
        self.upload_limit = upload_limit(message.guild)

    async def edit(self, out: Outgoing) -> None:
        self.message = await self.message.edit(content=out.content,
                                               attachments=out.discord_files(),
                                               view=out.view, allowed_mentions=NO_PINGS)

    async def send(self, out: Outgoing) -> None:
        extra: dict[str, Any] = {"view": out.view} if out.view is not None else {}
        await self.message.channel.send(out.content, files=out.discord_files(),
                                        allowed_mentions=NO_PINGS, **extra)


class Status:
    """The live status line of one request. Events arrive on the loop's thread; edits
    are coalesced to one per ``interval`` seconds (Discord rate-limits message edits),
    and the queue position is looked at again every ``poll`` seconds while waiting."""

    def __init__(self, target: Target, interval: float, poll: float):
        self.target, self.interval, self.poll = target, interval, poll
        self.text = "⏳ Working on it…"
        self.shown: str | None = None
        self.view: discord.ui.View | None = None
        self.job: TurnHandle | None = None
        self.changed = asyncio.Event()
        self.stopped = asyncio.Event()

    def set(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.changed.set()

    def queued(self) -> None:
        place = self.job.position() if self.job is not None else 0
        if place:
            self.set(f"⏳ The studio is busy: you are number {place} in the queue.")

    def started(self) -> None:
        self.set("🎨 Working on it…")

    def progress(self, what: str, step: int, total: int) -> None:
        self.set(f"🎨 {what} — step {step}/{total}")

    async def show(self) -> None:
        if self.text == self.shown:
            return
        text = self.text
        try:
            await self.target.edit(Outgoing(text, view=self.view, status=True))
            self.shown = text
        except discord.HTTPException as exc:  # a missed status line is not worth failing for
            log.warning("could not update the status line: %s", exc)

    async def follow(self) -> None:
        """Until ``stop``: show each change, at most one edit per ``interval``."""
        while not self.stopped.is_set():
            try:
                await asyncio.wait_for(self.changed.wait(), self.poll)
            except TimeoutError:
                pass
            self.changed.clear()
            if self.stopped.is_set():
                return
            if self.job is not None and self.job.state == "queued":
                self.queued()
            if self.text != self.shown:
                await self.show()
                try:  # a pause that ``stop`` cuts short: the result never waits for it
                    await asyncio.wait_for(self.stopped.wait(), self.interval)
                except TimeoutError:
                    pass

    def stop(self) -> None:
        """Let an edit in flight finish (so it cannot land after the result), then end."""
        self.stopped.set()
        self.changed.set()
