"""Talking to the bot: mention it in a channel and it opens a thread for the
conversation; anyone who can post in that thread goes on with it (no mention needed);
a DM is a private conversation. Files attached to the message (an image, a MIDI file, a
score, a recording) become the starting artwork."""

from __future__ import annotations

import asyncio
import logging
import re

import discord
from discord.ext import commands

from museforge.bots.discord.bot import MuseBot
from museforge.bots.discord.context import (
    NO_PINGS,
    actor_for,
    scope_for,
    thread_scope,
    thread_title,
)
from museforge.bots.discord.files import download
from museforge.bots.discord.targets import MessageTarget
from museforge.storage.errors import StorageError
from museforge.storage.models import Scope

log = logging.getLogger(__name__)
CONVERSATION = (discord.MessageType.default, discord.MessageType.reply)
WORKING = "⏳ Working on it…"


def mentions_me(message: discord.Message, me: discord.ClientUser) -> bool:
    """A direct mention, or a mention of the bot's own role (Discord offers both)."""
    if any(user.id == me.id for user in message.mentions):
        return True
    return any(role.tags is not None and role.tags.bot_id == me.id
               for role in message.role_mentions)


def without_mentions_of(text: str, me: discord.ClientUser) -> str:
    return " ".join(re.sub(rf"<@!?{me.id}>", " ", text).split())


class Chat(commands.Cog):
    def __init__(self, bot: MuseBot):
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or message.type not in CONVERSATION:
            return
        channel = message.channel
        mentioned = mentions_me(message, me)
        if message.guild is not None:
            ours = isinstance(channel, discord.Thread) and channel.owner_id == me.id
            if not (mentioned or ours):
                return
        text = without_mentions_of(message.content, me)
        if not text and not message.attachments:
            text = "help"  # a bare mention: say what I can do
        await self.converse(message, text, new_thread=mentioned and isinstance(
            channel, discord.TextChannel))

    async def converse(self, message: discord.Message, text: str, *, new_thread: bool) -> None:
        guild_id = message.guild.id if message.guild is not None else None
        scope: Scope | None = None
        where: discord.abc.Messageable = message.channel
        if new_thread:
            try:
                thread = await message.create_thread(name=thread_title(text))
                scope, where = thread_scope(thread), thread
            except discord.HTTPException as exc:  # no permission: answer in the channel
                log.info("could not open a thread: %s", exc)
        if scope is None:
            scope = scope_for(message.channel, message.author, guild_id)
        store = self.bot.studio.store
        actor = await actor_for(store, message.author, guild_id)
        try:
            session = await asyncio.to_thread(store.session, actor, scope)
        except StorageError as exc:
            await message.reply(f"I can't open this conversation: {exc}.",
                                mention_author=False, allowed_mentions=NO_PINGS)
            return
        if where is message.channel:
            status = await message.reply(WORKING, mention_author=False, allowed_mentions=NO_PINGS)
        else:
            status = await where.send(WORKING, allowed_mentions=NO_PINGS)
        files = await download(message.attachments,
                               self.bot.prefs.guild(guild_id).max_upload_mb)
        try:
            runner = self.bot.runner
            await runner.run(runner.request(actor, session, text, message.author.id, guild_id,
                                            files.paths, files.refused),
                             MessageTarget(status))
        finally:
            files.close()


async def setup(bot: MuseBot) -> None:
    await bot.add_cog(Chat(bot))
