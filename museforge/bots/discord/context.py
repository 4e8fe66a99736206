"""Where a Discord event belongs: who acts (``Actor``) and which conversation
(``Scope``). A guild thread is one session shared by the guild's members; a DM, or a
slash command with private replies, is a private session of its user."""

from __future__ import annotations

import asyncio

import discord

from museforge.storage.models import Actor, Scope
from museforge.storage.store import Store

NO_PINGS = discord.AllowedMentions.none()  # model and user text never pings anyone
PREFIX = "discord:"


def thread_scope(thread: discord.Thread) -> Scope:
    return Scope.discord_thread(str(thread.guild.id), str(thread.parent_id), str(thread.id),
                                thread.name)


def scope_for(channel: object, user: discord.abc.User, guild_id: int | None, *,
              private: bool = False) -> Scope:
    """The session of a message or command in ``channel``."""
    channel_id = str(getattr(channel, "id", ""))
    if guild_id is None:
        return Scope.discord_dm(str(user.id), channel_id, f"DM with {user.name}")
    where = getattr(channel, "name", None) or channel_id
    if private:
        return Scope.discord_dm(str(user.id), channel_id, f"{user.name} in #{where}")
    if isinstance(channel, discord.Thread):
        return thread_scope(channel)
    return Scope.discord_thread(str(guild_id), channel_id, None, str(where))


def short_key(scope_key: str) -> str:
    """The scope key as buttons carry it (without the constant ``discord:``)."""
    return scope_key[len(PREFIX):] if scope_key.startswith(PREFIX) else scope_key


def full_key(short: str) -> str:
    return PREFIX + short


async def actor_for(store: Store, user: discord.abc.User, guild_id: int | None) -> Actor:
    """The acting user, created on first sight; the guild opens that guild's sessions."""
    ref = await asyncio.to_thread(store.user, "discord", str(user.id), user.display_name)
    return Actor(ref, guild_id=str(guild_id) if guild_id is not None else None)


def thread_title(text: str, fallback: str = "museforge") -> str:
    title = " ".join(text.split())[:90].strip()
    return title or fallback
