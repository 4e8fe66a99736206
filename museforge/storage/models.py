"""What the store hands out: frozen dataclasses, never ORM rows (they outlive the
database session), plus the scope and actor that decide who sees what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

LOCAL_PLATFORM = "cli"
LOCAL_EXTERNAL_ID = "local"
WEB_PLATFORM = "web"  # a person with a web token of their own (museforge users add)


@dataclass(frozen=True)
class UserRef:
    id: int
    platform: str
    external_id: str
    display_name: str = ""


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the front-end established it. ``guild_id`` is the Discord guild
    the request came from (Discord only delivers a member's message or interaction in a
    channel they can post in); it opens that guild's shared sessions, nothing else."""

    user: UserRef
    guild_id: str | None = None


@dataclass(frozen=True)
class Scope:
    """Where a conversation lives; ``key`` identifies the session."""

    platform: str
    kind: str  # "guild" (shared by the guild's members) or "private" (its owner only)
    key: str
    name: str
    guild_id: str | None = None
    channel_id: str | None = None
    thread_id: str | None = None

    @classmethod
    def local(cls, name: str, platform: str = LOCAL_PLATFORM) -> Scope:
        """A CLI or local web chat session: one local user, so both see the same ones."""
        return cls(platform, "private", f"local:{name}", name)

    @classmethod
    def discord_thread(
        cls, guild_id: str, channel_id: str, thread_id: str | None, name: str
    ) -> Scope:
        where = f"thread:{thread_id}" if thread_id else f"channel:{channel_id}"
        return cls(
            "discord", "guild", f"discord:guild:{guild_id}:{where}", name,
            guild_id, channel_id, thread_id,
        )

    @classmethod
    def discord_dm(cls, user_external_id: str, channel_id: str, name: str) -> Scope:
        return cls(
            "discord", "private", f"discord:dm:{user_external_id}:{channel_id}", name,
            channel_id=channel_id,
        )

    @classmethod
    def web(cls, user_external_id: str, name: str) -> Scope:
        return cls("web", "private", f"web:{user_external_id}:{name}", name)


@dataclass(frozen=True)
class SessionInfo:
    id: int
    key: str
    name: str
    platform: str
    kind: str
    owner_id: int
    guild_id: str | None
    title: str
    artwork_count: int
    created_at: datetime


@dataclass(frozen=True)
class MessageInfo:
    id: int
    session_id: int
    user_id: int | None
    role: str
    text: str
    tool_calls: list[Any]
    planner: str | None
    timings: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class VersionInfo:
    id: int
    artwork_id: int
    artwork_number: int
    number: int
    parent_number: int | None
    operation: str
    recipe: dict[str, Any]
    message_id: int | None
    files: dict[str, Path]  # role -> absolute path
    created_at: datetime


@dataclass(frozen=True)
class ArtworkInfo:
    id: int
    session_id: int
    number: int
    kind: str
    title: str
    prompt: str
    owner_id: int
    head_number: int | None
    version_count: int
    created_at: datetime
    can_undo: bool = False
    can_redo: bool = False

    @property
    def ref(self) -> str:
        return f"#{self.number}"


@dataclass(frozen=True)
class FileIn:
    """Bytes to store as one of a version's files."""

    data: bytes
    mime: str


@dataclass
class SessionExport:
    session: SessionInfo
    messages: list[MessageInfo] = field(default_factory=list)
    artworks: list[tuple[ArtworkInfo, list[VersionInfo]]] = field(default_factory=list)


@dataclass(frozen=True)
class WebAccount:
    """A person who was given a web token (``museforge users list``)."""

    user: UserRef
    name: str  # as given to ``users add``; the account is found by it in any case
    active: bool  # holds a token that is not revoked
    tokens: int  # tokens issued, revoked ones included
    sessions: int
    created_at: datetime
    revoked_at: datetime | None  # when the last token was revoked, while not active


@dataclass(frozen=True)
class StyleInfo:
    """A learnt style at one of its versions (the newest unless asked): its weights file
    and the recipe of the training that made them."""

    id: int
    owner_id: int
    kind: str  # image | music
    name: str
    version: int
    version_count: int
    recipe: dict[str, Any]
    weights: Path  # absolute path of the version's weights (or adapter) file
    created_at: datetime  # of this version
