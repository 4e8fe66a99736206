"""Helpers for the Discord bot tests: a small world to act in, and readers of what the
bot showed (button custom ids, attachments, edits)."""

from __future__ import annotations

import io
from typing import Any

from museforge.bots.discord import MuseBot


def new_bot(studio: Any) -> MuseBot:
    # No pause between status edits: simcord's clock is virtual, and the procedural
    # painter's steps take milliseconds.
    return MuseBot(studio, progress_interval=0)


class World:
    """A guild with #general, two members and the bot."""

    def __init__(self, env: Any, name: str = "Test Guild", tag: str = ""):
        self.env = env
        self.guild = env.create_guild(name)
        self.general = self.guild.create_text_channel("general")
        self.alice = self.guild.add_member(env.create_user(f"alice{tag}"))
        self.bob = self.guild.add_member(env.create_user(f"bob{tag}"))

    @property
    def me(self) -> str:
        return self.env.bot.user.mention


def custom_ids(message: Any) -> list[str]:
    """Every button custom id on a message (discord.Message or simcord's response)."""
    rows = message.components
    out = []
    for row in rows:
        children = row.get("components", []) if isinstance(row, dict) else row.children
        for child in children:
            cid = child.get("custom_id") if isinstance(child, dict) else child.custom_id
            if cid:
                out.append(cid)
    return out


def labels(message: Any) -> dict[str, str]:
    out = {}
    for row in message.components:
        for child in row.get("components", []) if isinstance(row, dict) else row.children:
            if isinstance(child, dict):
                out[child.get("label")] = child.get("custom_id")
            else:
                out[child.label] = child.custom_id
    return out


def file_bytes(env: Any, attachment: Any) -> bytes:
    data = env.backend.cdn.get(attachment.url)
    assert data is not None, attachment
    return data


def png(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (30, 90, 200)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def bot_edits(env: Any, contains: str = "") -> list[str]:
    """The contents of every message edit the bot made, in order."""
    return [r.json.get("content") or "" for r in env.http_requests
            if r.method == "PATCH" and "/messages/" in r.path and isinstance(r.json, dict)
            and contains in (r.json.get("content") or "")]


def forge_button(env: Any, channel: Any, custom_id: str) -> Any:
    """A bot message carrying ``custom_id``, as if the bot had posted it there: what a
    crafted or stale button looks like to the bot when pressed."""
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "press",
                                      "custom_id": custom_id}]}
    env.backend.create_message(channel.id, env.bot.user.id, "forged", components=[row])
    return channel.last_message
