"""The ORM schema. Alembic revisions in ``migrations/versions`` must produce exactly this
(tests/storage/test_migrations.py compares them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_users_platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChatSession(Base):
    """A conversation. ``scope_key`` names it uniquely (``local:NAME``,
    ``discord:guild:G:thread:T``, ``discord:dm:U:NAME``); ``kind`` decides who may see it."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # guild | private
    guild_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    artwork_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A running summary of the conversation before the planner's window of recent
    # messages, and the last message folded into it (0002).
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    summary_upto: Mapped[int | None] = mapped_column(Integer)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_session_order", "session_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | tool
    text: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[list[Any]] = mapped_column(JSON, default=list)
    planner: Mapped[str | None] = mapped_column(String(32))
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The cluster job (``turn_jobs.id``) whose turn wrote it (0005): a job run again after
    # its worker died finds what the first run wrote instead of writing it twice. No FK:
    # finished jobs' rows are pruned, their messages stay.
    job_id: Mapped[int | None] = mapped_column(Integer, index=True)


class Artwork(Base):
    __tablename__ = "artworks"
    __table_args__ = (UniqueConstraint("session_id", "number", name="uq_artworks_session_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # image | music
    title: Mapped[str] = mapped_column(String(300), default="")
    prompt: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # No FK to versions: the artwork row exists before its first version, and a
    # cycle of FKs would need deferred constraints on both databases.
    head_version_id: Mapped[int | None] = mapped_column(Integer)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    # Head history, as version ids: undo pops ``undo_stack``, redo pops ``redo_stack``.
    undo_stack: Mapped[list[Any]] = mapped_column(JSON, default=list)
    redo_stack: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("artwork_id", "number", name="uq_versions_artwork_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artwork_id: Mapped[int] = mapped_column(ForeignKey("artworks.id"))
    number: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    operation: Mapped[str] = mapped_column(String(64))
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(String(300))  # relative to the data dir
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VersionAsset(Base):
    """Which files a version has: role ``png``, ``mid``, ``ogg``, ``roll``..."""

    __tablename__ = "version_assets"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)


class UserToken(Base):
    """A person's web token (``museforge users add NAME``, 0003). The token is
    ``mf_<lookup>_<secret>``: ``lookup`` finds the row and is no secret; of the secret only
    ``digest`` is kept, an HMAC-SHA256 keyed by the row's own random ``salt``. A token is
    never deleted, only revoked (``revoked_at``); a person with no token left that is not
    revoked has no web access, and keeps their sessions."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lookup: Mapped[str] = mapped_column(String(32), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Style(Base):
    """A learnt style or character (0004), owned by one person whatever the session:
    ``kind`` image | music, ``name`` as the person wrote it, ``name_key`` its lower-case
    form (one name per person and kind, in any case). Each (re)training is a
    ``StyleVersion``; the head is the newest."""

    __tablename__ = "styles"
    __table_args__ = (UniqueConstraint("owner_id", "kind", "name_key",
                                       name="uq_styles_owner_kind_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StyleVersion(Base):
    """One training of a style: its weights (an asset) and its recipe (base model and
    revision, data hashes, settings, the figures it reached)."""

    __tablename__ = "style_versions"
    __table_args__ = (UniqueConstraint("style_id", "number",
                                       name="uq_style_versions_style_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    style_id: Mapped[int] = mapped_column(ForeignKey("styles.id"))
    number: Mapped[int] = mapped_column(Integer)
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TurnJob(Base):
    """One turn submitted to the cluster queue (``MUSEFORGE_QUEUE=celery``, 0005): what
    was asked (``request``, a ``TurnRequest``'s JSON), whose turn it is (``queue_key``),
    which workers may run it (``route``, a Celery queue), where it stands (``state``:
    queued | dispatched | running | done | failed | cancelled) and how it ended
    (``result``, ``error``). ``origin`` is the front-end process that waits for it;
    ``worker`` the worker it was sent to (dispatched), then the one running it; ``attempts``
    how many claims there were."""

    __tablename__ = "turn_jobs"
    __table_args__ = (Index("ix_turn_jobs_state_route", "state", "route"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_key: Mapped[str] = mapped_column(String(200), index=True)
    route: Mapped[str] = mapped_column(String(120))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str] = mapped_column(String(200))
    worker: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When a run of its turn first changed the work (a version, a head moved, a style):
    # a run again after its worker died must not do that twice.
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The plan the front-end made of ``request`` to route it (0007; ``assistant/
    # planned.py``): what the worker runs, unless the conversation moved on meanwhile.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TurnWorker(Base):
    """A ``museforge worker`` process (0005): the routes (Celery queues) it consumes,
    space-separated, how many turns it runs at once, and its heartbeat; one whose
    heartbeat stopped is gone."""

    __tablename__ = "turn_workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    route: Mapped[str] = mapped_column(Text)
    slots: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
