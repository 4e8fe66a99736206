"""The Store: the only code that runs queries. Access is decided here and nowhere else:
whatever lies outside the acting user's reach is ``NotFound``, never "forbidden"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from museforge.storage import db
from museforge.storage.accounts import Accounts
from museforge.storage.assets import AssetFile, AssetStore, FolderAssetStore, open_asset_store
from museforge.storage.errors import HistoryError, NotFound
from museforge.storage.maintenance import Maintenance
from museforge.storage.models import (
    LOCAL_EXTERNAL_ID,
    LOCAL_PLATFORM,
    Actor,
    ArtworkInfo,
    FileIn,
    MessageInfo,
    Scope,
    SessionExport,
    SessionInfo,
    UserRef,
    VersionInfo,
)
from museforge.storage.refs import Ref, parse_ref
from museforge.storage.schema import (
    Artwork,
    Asset,
    ChatSession,
    Message,
    User,
    Version,
    VersionAsset,
    utcnow,
)
from museforge.storage.styles import Styles
from museforge.storage.turn_jobs import TurnJobs, current_job, mark_changed

T = TypeVar("T")
log = logging.getLogger(__name__)
KINDS = ("image", "music", "audio")
ROLES = ("user", "assistant", "tool")



def no_step(number: int, *, back: bool) -> str:
    """The sentence for an undo (``back``) or redo that has no step to take."""
    return f"#{number} is at its first state; nothing to undo" if back else \
        f"#{number} has nothing to redo"

class Store(Maintenance, Accounts, Styles, TurnJobs):
    def __init__(self, url: str, home: Path, *, migrate: bool = True,
                 assets: AssetStore | None = None):
        """``assets`` (from ``open_asset_store``) defaults to ``assets/`` under ``home``."""
        self.url = url
        self.home = Path(home)
        self.assets: AssetStore = assets if assets is not None else FolderAssetStore(self.home)
        self.engine: Engine = db.make_engine(url)
        self._write_engine = self.engine.execution_options(museforge_write=True)
        db.check_reachable(self.engine, url)
        if migrate:
            db.upgrade(self.engine)
        if not self.in_memory:  # a scratch store stands in for a reader: it writes nothing
            removed = self.assets.remove_stale_temp_files()
            if removed:
                log.info("removed %d temp files left by interrupted writes", len(removed))

    @classmethod
    def open(cls, settings: Any, *, create: bool = True) -> Store:
        """The configured database. With ``create=False``, a SQLite file that does not
        exist yet is not made: an empty in-memory database (migrated, gone at close)
        stands in for it, so a caller that only reads writes nothing to disk."""
        url = settings.resolved_database_url
        if not create and db.sqlite_file_missing(url):
            return cls.scratch(settings.home)
        assets = open_asset_store(settings.assets_url, settings.home,
                                  endpoint_url=settings.assets_endpoint_url,
                                  cache_bytes=settings.assets_cache_bytes)
        return cls(url, settings.home, assets=assets)

    @classmethod
    def scratch(cls, home: Path) -> Store:
        """An empty, migrated in-memory database; nothing of it reaches the disk."""
        return cls(db.MEMORY_URL, home)

    @property
    def in_memory(self) -> bool:
        return self.url == db.MEMORY_URL

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------

    def _read(self, fn: Callable[[Session], T]) -> T:
        with Session(self.engine) as s, s.begin():
            return fn(s)

    def _write(self, fn: Callable[[Session], T], *, quiet: bool = False) -> T:
        """Run ``fn`` in a write transaction. Inside a cluster job's turn (``for_job``),
        a write that changes the work (not ``quiet``: the request and answer messages,
        the planner's summary, get-or-create of a user or session are) also marks the
        job as having changed something, in the same transaction."""
        job = None if quiet else current_job.get()

        def attempt() -> T:
            with Session(self._write_engine, expire_on_commit=False) as s, s.begin():
                out = fn(s)
                if job is not None:
                    mark_changed(s, job)
                return out

        return db.with_retry(attempt)

    @property
    def _pg(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    # -- users and sessions -------------------------------------------------------

    def user(self, platform: str, external_id: str, display_name: str = "") -> UserRef:
        """Get or create the user ``platform``/``external_id``."""

        def op(s: Session) -> UserRef:
            stmt = (self._insert(User)
                    .values(platform=platform, external_id=str(external_id),
                            display_name=display_name, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["platform", "external_id"]))
            s.execute(stmt)
            row = s.scalars(
                select(User).where(User.platform == platform,
                                   User.external_id == str(external_id))
            ).one()
            if display_name and row.display_name != display_name:
                row.display_name = display_name
            return _user(row)

        return self._write(op, quiet=True)

    def local_user(self) -> UserRef:
        """The one local user of the CLI and the local web chat."""
        return self.user(LOCAL_PLATFORM, LOCAL_EXTERNAL_ID, "you")

    def session(self, actor: Actor, scope: Scope, title: str = "") -> SessionInfo:
        """Get or create the session for ``scope``; NotFound if it exists out of reach."""
        if scope.kind == "guild" and actor.guild_id != scope.guild_id:
            raise NotFound(f"no session '{scope.name}'")

        def op(s: Session) -> SessionInfo:
            stmt = (self._insert(ChatSession)
                    .values(scope_key=scope.key, name=scope.name, platform=scope.platform,
                            kind=scope.kind, guild_id=scope.guild_id,
                            channel_id=scope.channel_id, thread_id=scope.thread_id,
                            owner_id=actor.user.id, title=title, artwork_count=0,
                            created_at=utcnow(), updated_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["scope_key"]))
            s.execute(stmt)
            row = s.scalars(select(ChatSession).where(ChatSession.scope_key == scope.key)).one()
            _check_access(actor, row, scope.name)
            return _session(row)

        return self._write(op, quiet=True)

    def find_session(self, actor: Actor, key: str) -> SessionInfo:
        """An existing session by scope key (``local:NAME`` ...)."""

        def op(s: Session) -> SessionInfo:
            row = s.scalars(select(ChatSession).where(ChatSession.scope_key == key)).first()
            name = key.split(":")[-1]
            if row is None:
                raise NotFound(f"no session '{name}'")
            _check_access(actor, row, name)
            return _session(row)

        return self._read(op)

    def local_session(self, actor: Actor, name: str) -> SessionInfo:
        return self.find_session(actor, Scope.local(name).key)

    def list_sessions(self, actor: Actor) -> list[SessionInfo]:
        def op(s: Session) -> list[SessionInfo]:
            reach = ChatSession.owner_id == actor.user.id
            if actor.guild_id is not None:
                reach = or_(reach, (ChatSession.kind == "guild")
                            & (ChatSession.guild_id == actor.guild_id))
            rows = s.scalars(select(ChatSession).where(reach)
                             .order_by(ChatSession.updated_at.desc(), ChatSession.id.desc()))
            return [_session(r) for r in rows if _can_access(actor, r)]

        return self._read(op)

    # -- messages -----------------------------------------------------------------

    def add_message(
        self,
        actor: Actor,
        session: SessionInfo,
        role: str,
        text: str,
        *,
        tool_calls: list[Any] | None = None,
        planner: str | None = None,
        timings: Mapping[str, Any] | None = None,
    ) -> MessageInfo:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")

        job = current_job.get()  # a cluster job's turn (turn_jobs.py: for_job)

        def op(s: Session) -> MessageInfo:
            srow = self._session_row(s, actor, session.id)
            if job is not None and role == "user":
                # The job's turn runs again after its worker died: its request is stored.
                again = s.scalars(select(Message).where(
                    Message.job_id == job, Message.role == "user",
                    Message.session_id == srow.id)).first()
                if again is not None:
                    return _message(again)
            row = Message(session_id=srow.id, user_id=actor.user.id if role == "user" else None,
                          role=role, text=text, tool_calls=list(tool_calls or []),
                          planner=planner, timings=dict(timings or {}), created_at=utcnow(),
                          job_id=job)
            s.add(row)
            srow.updated_at = utcnow()
            s.flush()
            return _message(row)

        return self._write(op, quiet=True)

    def history(self, actor: Actor, session: SessionInfo) -> list[MessageInfo]:
        """Every message of the session, oldest first."""

        def op(s: Session) -> list[MessageInfo]:
            self._session_row(s, actor, session.id)
            rows = s.scalars(select(Message).where(Message.session_id == session.id)
                             .order_by(Message.id))
            return [_message(r) for r in rows]

        return self._read(op)

    def recent_messages(self, actor: Actor, session: SessionInfo,
                        limit: int) -> list[MessageInfo]:
        """The last ``limit`` messages, oldest first (what a turn looks back at)."""

        def op(s: Session) -> list[MessageInfo]:
            self._session_row(s, actor, session.id)
            rows = s.scalars(select(Message).where(Message.session_id == session.id)
                             .order_by(Message.id.desc()).limit(limit))
            return [_message(r) for r in reversed(list(rows))]

        return self._read(op)

    def summary(self, actor: Actor, session: SessionInfo) -> tuple[str, int | None]:
        """The session's running summary and the last message folded into it."""

        def op(s: Session) -> tuple[str, int | None]:
            row = self._session_row(s, actor, session.id)
            return row.summary or "", row.summary_upto

        return self._read(op)

    def set_summary(self, actor: Actor, session: SessionInfo, text: str, upto: int) -> None:
        def op(s: Session) -> None:
            row = self._session_row(s, actor, session.id, lock=True)
            row.summary, row.summary_upto = text, upto

        self._write(op, quiet=True)

    # -- artworks and versions ----------------------------------------------------

    def create_artwork(
        self,
        actor: Actor,
        session: SessionInfo,
        kind: str,
        *,
        title: str,
        prompt: str = "",
        operation: str,
        recipe: Mapping[str, Any],
        files: Mapping[str, FileIn],
        message_id: int | None = None,
    ) -> tuple[ArtworkInfo, VersionInfo]:
        """A new artwork ``#N`` with its first version, atomically (files first)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        written = self._put_files(files)

        def op(s: Session) -> tuple[ArtworkInfo, VersionInfo]:
            srow = self._session_row(s, actor, session.id, lock=True)
            srow.artwork_count += 1
            srow.updated_at = utcnow()
            art = Artwork(session_id=srow.id, number=srow.artwork_count, kind=kind,
                          title=title[:300], prompt=prompt, owner_id=actor.user.id,
                          version_count=0, undo_stack=[], redo_stack=[], created_at=utcnow())
            s.add(art)
            s.flush()
            version = self._new_version(s, art, None, operation, recipe, written, message_id)
            return _artwork(art), version

        return self._write(op)

    def add_version(
        self,
        actor: Actor,
        session: SessionInfo,
        artwork: int,
        *,
        operation: str,
        recipe: Mapping[str, Any],
        files: Mapping[str, FileIn],
        parent: int | None = None,
        message_id: int | None = None,
    ) -> VersionInfo:
        """A new version of ``#artwork`` made from version ``parent`` (default: the head),
        which becomes the head. Made from an older version, it starts a new branch."""
        written = self._put_files(files)

        def op(s: Session) -> VersionInfo:
            art = self._artwork_row(s, actor, session.id, artwork, lock=True)
            if parent is None:
                parent_id = art.head_version_id
            else:
                parent_id = self._version_row(s, art, parent).id
            return self._new_version(s, art, parent_id, operation, recipe, written, message_id)

        return self._write(op)

    def _put_files(self, files: Mapping[str, FileIn]) -> dict[str, AssetFile]:
        if not files:
            raise ValueError("a version needs at least one file")
        return {role: self.assets.put(f.data, f.mime) for role, f in files.items()}

    def _new_version(
        self,
        s: Session,
        art: Artwork,
        parent_id: int | None,
        operation: str,
        recipe: Mapping[str, Any],
        files: Mapping[str, AssetFile],
        message_id: int | None,
    ) -> VersionInfo:
        art.version_count += 1
        row = Version(artwork_id=art.id, number=art.version_count, parent_id=parent_id,
                      operation=operation, recipe=dict(recipe), message_id=message_id,
                      created_at=utcnow())
        s.add(row)
        s.flush()
        for role, f in files.items():
            s.execute(self._insert(Asset)
                      .values(sha256=f.sha256, mime=f.mime, size=f.size, path=f.path,
                              created_at=utcnow())
                      .on_conflict_do_nothing(index_elements=["sha256"]))
            asset_id = s.scalars(select(Asset.id).where(Asset.sha256 == f.sha256)).one()
            s.add(VersionAsset(version_id=row.id, role=role, asset_id=asset_id))
        self._move_head(art, row.id)
        s.flush()
        return self._version_info(s, row, art.number)

    def resolve(self, actor: Actor, session: SessionInfo, ref: str | Ref,
                kind: str | None = None) -> tuple[ArtworkInfo, VersionInfo]:
        """``#N`` (its head), ``#N vM``, ``latest``, ``latest image`` -> artwork and version."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref

        def op(s: Session) -> tuple[ArtworkInfo, VersionInfo]:
            if parsed.number is None:
                art = self._latest_row(s, actor, session.id, parsed.kind or kind)
            else:
                art = self._artwork_row(s, actor, session.id, parsed.number)
            if parsed.version is None:
                vrow = s.get(Version, art.head_version_id)
                assert vrow is not None, "every artwork has a head"
            else:
                vrow = self._version_row(s, art, parsed.version)
            return _artwork(art), self._version_info(s, vrow, art.number)

        return self._read(op)

    def artwork(self, actor: Actor, session: SessionInfo, number: int) -> ArtworkInfo:
        return self._read(lambda s: _artwork(self._artwork_row(s, actor, session.id, number)))

    def list_artworks(self, actor: Actor, session: SessionInfo,
                      kind: str | None = None) -> list[ArtworkInfo]:
        def op(s: Session) -> list[ArtworkInfo]:
            self._session_row(s, actor, session.id)
            q = select(Artwork).where(Artwork.session_id == session.id)
            if kind:
                q = q.where(Artwork.kind == kind)
            return [_artwork(a) for a in s.scalars(q.order_by(Artwork.number))]

        return self._read(op)

    def recent_artworks(self, actor: Actor, session: SessionInfo, limit: int,
                        kind: str | None = None) -> list[ArtworkInfo]:
        """The newest ``limit`` artworks, newest first."""

        def op(s: Session) -> list[ArtworkInfo]:
            self._session_row(s, actor, session.id)
            q = select(Artwork).where(Artwork.session_id == session.id)
            if kind:
                q = q.where(Artwork.kind == kind)
            return [_artwork(a) for a in s.scalars(q.order_by(Artwork.number.desc())
                                                   .limit(limit))]

        return self._read(op)

    def versions(self, actor: Actor, session: SessionInfo, artwork: int) -> list[VersionInfo]:
        """Every version of ``#artwork``, in the order they were made."""

        def op(s: Session) -> list[VersionInfo]:
            art = self._artwork_row(s, actor, session.id, artwork)
            rows = s.scalars(select(Version).where(Version.artwork_id == art.id)
                             .order_by(Version.number))
            return [self._version_info(s, v, art.number) for v in rows]

        return self._read(op)

    def search_artworks(self, actor: Actor, session: SessionInfo, words: str,
                        kind: str | None = None) -> list[ArtworkInfo]:
        """Artworks whose title or prompt holds every word of ``words``, newest first."""
        terms = [w.lower() for w in words.split() if w.strip()]

        def op(s: Session) -> list[ArtworkInfo]:
            self._session_row(s, actor, session.id)
            q = select(Artwork).where(Artwork.session_id == session.id)
            if kind:
                q = q.where(Artwork.kind == kind)
            for term in terms:
                pattern = f"%{_escape_like(term)}%"
                q = q.where(or_(func.lower(Artwork.prompt).like(pattern, escape="\\"),
                                func.lower(Artwork.title).like(pattern, escape="\\")))
            return [_artwork(a) for a in s.scalars(q.order_by(Artwork.number.desc()))]

        return self._read(op)

    # -- history: undo, redo, revert move the head; nothing is deleted ------------

    def undo(self, actor: Actor, session: SessionInfo, artwork: int) -> VersionInfo:
        return self._step(actor, session, artwork, back=True)

    def redo(self, actor: Actor, session: SessionInfo, artwork: int) -> VersionInfo:
        return self._step(actor, session, artwork, back=False)

    def _step(self, actor: Actor, session: SessionInfo, artwork: int, *,
              back: bool) -> VersionInfo:
        """Undo (``back``) or redo: pop the target from one stack, push the head onto the
        other."""

        def op(s: Session) -> VersionInfo:
            art = self._artwork_row(s, actor, session.id, artwork, lock=True)
            source = list(art.undo_stack if back else art.redo_stack)
            if not source:
                raise HistoryError(no_step(art.number, back=back))
            target = source.pop()
            other = [*(art.redo_stack if back else art.undo_stack), art.head_version_id]
            if back:
                art.undo_stack, art.redo_stack = source, other
            else:
                art.redo_stack, art.undo_stack = source, other
            art.head_version_id = target
            return self._version_info(s, s.get(Version, target), art.number)

        return self._write(op)

    def revert(self, actor: Actor, session: SessionInfo, artwork: int,
               version: int) -> VersionInfo:
        """Make ``vM`` the head again (undo brings back the head it replaced)."""

        def op(s: Session) -> VersionInfo:
            art = self._artwork_row(s, actor, session.id, artwork, lock=True)
            row = self._version_row(s, art, version)
            if row.id != art.head_version_id:
                self._move_head(art, row.id)
            return self._version_info(s, row, art.number)

        return self._write(op)

    @staticmethod
    def _move_head(art: Artwork, version_id: int) -> None:
        if art.head_version_id is not None:
            art.undo_stack = [*art.undo_stack, art.head_version_id]
        art.redo_stack = []
        art.head_version_id = version_id

    # -- export (integrity and orphans: storage/maintenance.py) -------------------

    def export_data(self, actor: Actor, session: SessionInfo) -> SessionExport:
        out = SessionExport(session=session, messages=self.history(actor, session))
        for art in self.list_artworks(actor, session):
            out.artworks.append((art, self.versions(actor, session, art.number)))
        return out

    # -- rows, with access checked ------------------------------------------------

    def _insert(self, model: type) -> Any:
        return (postgresql.insert if self._pg else sqlite.insert)(model)

    def _session_row(self, s: Session, actor: Actor, session_id: int,
                     lock: bool = False) -> ChatSession:
        q = select(ChatSession).where(ChatSession.id == session_id)
        if lock and self._pg:
            q = q.with_for_update()
        row = s.scalars(q).first()
        if row is None:
            raise NotFound("no such session")
        _check_access(actor, row, "this")
        return row

    def _artwork_row(self, s: Session, actor: Actor, session_id: int, number: int,
                     lock: bool = False) -> Artwork:
        self._session_row(s, actor, session_id)
        q = select(Artwork).where(Artwork.session_id == session_id, Artwork.number == number)
        if lock and self._pg:
            q = q.with_for_update()
        row = s.scalars(q).first()
        if row is None:
            raise NotFound(f"there is no artwork #{number} in this session")
        return row

    def _latest_row(self, s: Session, actor: Actor, session_id: int,
                    kind: str | None) -> Artwork:
        self._session_row(s, actor, session_id)
        q = select(Artwork).where(Artwork.session_id == session_id)
        if kind:
            q = q.where(Artwork.kind == kind)
        row = s.scalars(q.order_by(Artwork.number.desc()).limit(1)).first()
        if row is None:
            raise NotFound(f"there is no {kind or 'artwork'} in this session yet")
        return row

    def _version_row(self, s: Session, art: Artwork, number: int) -> Version:
        row = s.scalars(select(Version).where(Version.artwork_id == art.id,
                                              Version.number == number)).first()
        if row is None:
            raise NotFound(f"#{art.number} has no version v{number} "
                           f"(it has v1..v{art.version_count})")
        return row

    def _version_info(self, s: Session, row: Version | None, artwork_number: int) -> VersionInfo:
        assert row is not None
        parent_number = None
        if row.parent_id is not None:
            parent_number = s.scalars(select(Version.number)
                                      .where(Version.id == row.parent_id)).one()
        files = {
            role: self.assets.abspath(path)
            for role, path in s.execute(
                select(VersionAsset.role, Asset.path)
                .join(Asset, Asset.id == VersionAsset.asset_id)
                .where(VersionAsset.version_id == row.id)
                .order_by(VersionAsset.role)
            )
        }
        return VersionInfo(row.id, row.artwork_id, artwork_number, row.number, parent_number,
                           row.operation, dict(row.recipe or {}), row.message_id, files,
                           _utc(row.created_at))


def _can_access(actor: Actor, row: ChatSession) -> bool:
    if row.kind == "guild":
        return actor.guild_id is not None and actor.guild_id == row.guild_id
    return row.owner_id == actor.user.id


def _check_access(actor: Actor, row: ChatSession, name: str) -> None:
    if not _can_access(actor, row):
        raise NotFound(f"no session '{name}'" if name != "this" else "no such session")


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _user(row: User) -> UserRef:
    return UserRef(row.id, row.platform, row.external_id, row.display_name)


def _session(row: ChatSession) -> SessionInfo:
    return SessionInfo(row.id, row.scope_key, row.name, row.platform, row.kind, row.owner_id,
                       row.guild_id, row.title, row.artwork_count, _utc(row.created_at))


def _message(row: Message) -> MessageInfo:
    return MessageInfo(row.id, row.session_id, row.user_id, row.role, row.text,
                       list(row.tool_calls or []), row.planner, dict(row.timings or {}),
                       _utc(row.created_at))


def _artwork(row: Artwork) -> ArtworkInfo:
    head = None
    if row.head_version_id is not None:
        head = _head_number(row)
    return ArtworkInfo(row.id, row.session_id, row.number, row.kind, row.title, row.prompt,
                       row.owner_id, head, row.version_count, _utc(row.created_at),
                       can_undo=bool(row.undo_stack), can_redo=bool(row.redo_stack))


def _head_number(row: Artwork) -> int | None:
    s = Session.object_session(row)
    if s is None:
        return None
    return s.scalars(select(Version.number).where(Version.id == row.head_version_id)).first()
