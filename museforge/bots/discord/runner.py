"""One request from Discord, start to finish: hand the turn to the studio's door,
keep a status line up to date (queue position, then step i/n) without ever blocking the
event loop, and show the result with its files and buttons.

Mentions, slash commands and button presses all end in ``Runner.run``; they differ only
in where they show things (``MessageTarget`` for a message the bot posted,
``InteractionTarget`` for a deferred interaction response)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from museforge.assistant.jobs import QueueFull, TurnHandle
from museforge.assistant.turn import TurnResult
from museforge.bots.discord import render, translate
from museforge.bots.discord.context import (
    actor_for,
    full_key,
    scope_for,
    short_key,
    thread_scope,
    thread_title,
)
from museforge.bots.discord.files import download
from museforge.bots.discord.render import Outgoing
from museforge.bots.discord.targets import InteractionTarget, Status, Target
from museforge.bots.discord.views import cancel_view
from museforge.bots.service import turn_request
from museforge.storage.errors import StorageError
from museforge.storage.models import Actor, SessionInfo

if TYPE_CHECKING:
    from museforge.bots.discord.bot import MuseBot

log = logging.getLogger(__name__)
QUEUE_GRACE_S = 0.25


@dataclass
class Request:
    actor: Actor
    session: SessionInfo
    message: str
    user_id: int
    guild_id: int | None
    preset: str | None = None
    attachments: Sequence[Path] = ()
    notes: list[str] = field(default_factory=list)


class Runner:
    def __init__(self, bot: MuseBot, *, progress_interval: float = 1.0, poll: float = 2.0):
        self.bot = bot
        self.studio = bot.studio
        self.store = bot.studio.store
        self.progress_interval = progress_interval
        self.poll = poll
        self.jobs: dict[int, tuple[TurnHandle, int]] = {}  # job id -> (job, requester's id)

    # -- entry points --------------------------------------------------------------------

    async def slash(self, interaction: discord.Interaction[Any], message: str, *,
                    open_thread: str | None = None,
                    attachments: Sequence[discord.Attachment] = ()) -> None:
        """A slash command as a turn. In a plain text channel a creating command opens a
        thread on its own response, and the conversation goes on there."""
        private = self.bot.prefs.user(interaction.user.id).private
        await interaction.response.defer(thinking=True, ephemeral=private)
        target = InteractionTarget(interaction, ephemeral=private)
        channel = interaction.channel
        scope = None
        if open_thread and not private and isinstance(channel, discord.TextChannel):
            try:
                response = await interaction.original_response()
                thread = await response.create_thread(name=thread_title(open_thread))
                scope = thread_scope(thread)
            except discord.HTTPException as exc:  # no thread permission: stay in the channel
                log.info("could not open a thread: %s", exc)
        if scope is None:
            scope = scope_for(channel, interaction.user, interaction.guild_id, private=private)
        actor = await actor_for(self.store, interaction.user, interaction.guild_id)
        try:
            session = await asyncio.to_thread(self.store.session, actor, scope)
        except StorageError as exc:
            await target.edit(Outgoing(f"I can't open this conversation: {exc}."))
            return
        limit = self.bot.prefs.guild(interaction.guild_id).max_upload_mb
        files = await download(attachments, limit)
        try:
            await self.run(self.request(actor, session, message, interaction.user.id,
                                        interaction.guild_id, files.paths, files.refused),
                           target)
        finally:
            files.close()

    async def press(self, interaction: discord.Interaction[Any], action: str, artwork: int,
                    version: int, key: str) -> None:
        """A button: a turn in the button's session, by whoever pressed it."""
        source = interaction.message
        ephemeral = bool(source is not None and source.flags.ephemeral)
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        target = InteractionTarget(interaction, ephemeral=ephemeral)
        actor = await actor_for(self.store, interaction.user, interaction.guild_id)
        try:
            session = await asyncio.to_thread(self.store.find_session, actor, full_key(key))
            recipe = None
            if action == "rr":
                _, shown = await asyncio.to_thread(self.store.resolve, actor, session,
                                                   f"#{artwork} v{version}")
                recipe = shown.recipe
        except StorageError as exc:  # another guild's, or someone else's private session
            await target.edit(Outgoing(f"I can't find that here ({exc})."))
            return
        message = translate.button(action, artwork, version, recipe)
        await self.run(self.request(actor, session, message, interaction.user.id,
                                    interaction.guild_id), target)

    async def cancel(self, interaction: discord.Interaction[Any], job_id: int) -> None:
        entry = self.jobs.get(job_id)
        if entry is None:
            await interaction.response.send_message("That request has already finished.",
                                                    ephemeral=True)
            return
        job, owner = entry
        if interaction.user.id != owner:
            await interaction.response.send_message(
                "Only the person who asked can cancel this request.", ephemeral=True)
            return
        job.cancel()
        await interaction.response.send_message("Cancelling…", ephemeral=True)

    def request(self, actor: Actor, session: SessionInfo, message: str, user_id: int,
                guild_id: int | None, attachments: Sequence[Path] = (),
                notes: list[str] | None = None) -> Request:
        return Request(actor, session, message, user_id, guild_id,
                       self.bot.prefs.preset_for(user_id, guild_id), attachments,
                       list(notes or []))

    # -- the turn --------------------------------------------------------------------------

    async def run(self, req: Request, target: Target) -> TurnResult | None:
        loop = asyncio.get_running_loop()
        status = Status(target, self.progress_interval, self.poll)

        def on_progress(what: str, step: int, total: int) -> None:
            loop.call_soon_threadsafe(status.progress, what, step, total)

        started = threading.Event()

        def on_start() -> None:
            started.set()
            loop.call_soon_threadsafe(status.started)

        request = turn_request(req.actor, req.session, req.message, req.attachments,
                               front_end="discord", image_model=req.preset)
        try:
            job = self.studio.submit(request, on_progress=on_progress, on_start=on_start,
                                     limit=self.bot.prefs.guild(req.guild_id).max_jobs)
        except QueueFull as exc:
            await target.edit(Outgoing(f"⏳ Not now: {exc}."))
            return None
        self.jobs[job.id] = (job, req.user_id)
        status.job, status.view = job, cancel_view(job.id)
        follow = asyncio.create_task(status.follow())
        try:
            # Not started within a moment: the studio is busy, so tell the place in line.
            if not await asyncio.to_thread(started.wait, QUEUE_GRACE_S):
                status.queued()
            await asyncio.wait({asyncio.wrap_future(job.future)})
        except asyncio.CancelledError:  # the bot is shutting down: stop the job too
            job.cancel()
            raise
        finally:
            status.stop()
            for outcome in await asyncio.gather(follow, return_exceptions=True):
                if isinstance(outcome, Exception):
                    log.error("status line failed: %r", outcome)
            self.jobs.pop(job.id, None)
        return await self._deliver(job, req, target)

    async def _deliver(self, job: TurnHandle, req: Request, target: Target
                       ) -> TurnResult | None:
        if job.future.cancelled():
            await target.edit(Outgoing("Cancelled before it started."))
            return None
        error = job.future.exception()
        if error is not None:
            log.error("turn failed: %s", error)
            await target.edit(Outgoing(render.clip(f"Sorry, that failed: {error}")))
            return None
        result: TurnResult = job.future.result()
        parts = render.messages(result, short_key(req.session.key), notes=req.notes,
                                upload_limit=target.upload_limit,
                                cancelled=job.state == "cancelled", home=self.store.home)
        first, rest = parts[0], parts[1:]
        try:
            await target.edit(first)
        except discord.HTTPException as exc:  # files over the limit, the message deleted...
            log.warning("could not show the result: %s", exc)
            plain = Outgoing(render.clip(f"{first.content}\n(I couldn't attach the files: "
                                         f"{exc.text or exc.status}; /export has them.)"),
                             view=first.view)
            try:
                await target.edit(plain)
            except discord.HTTPException:
                await target.send(plain)
        for part in rest:
            await target.send(part)
        return result
