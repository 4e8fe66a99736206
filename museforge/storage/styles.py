"""Learnt styles (``learn_style``): a part of ``Store``, kept apart from the queries the
conversation makes.

A style belongs to the person who trained it, in every session and front-end they use;
anyone else is told it does not exist (``NotFound``, as for artworks out of reach). Each
training is a version, like an artwork's: retraining adds one and the newest is the one
used. Weights are content-addressed assets written durably before the row that names them
is committed, so a training that fails or is cancelled before ``create_style`` leaves no
style; a crash in between leaves at most an orphaned file (``museforge doctor --clean``).
Forgetting deletes the style's rows; its weights file becomes an orphan that the same
clean-up removes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from museforge.storage.assets import AssetFile, AssetStore
from museforge.storage.errors import AlreadyExists, InvalidName, NotFound
from museforge.storage.models import Actor, FileIn, StyleInfo
from museforge.storage.schema import Asset, Style, StyleVersion, VersionAsset, utcnow

STYLE_KINDS = ("image", "music")
STYLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._'-]{0,39}$")


# "in my style", said with no name: the one style of that kind the person has
MY_STYLE = "my style"

def style_key(name: str) -> str:
    """The name as the store compares it ('My Reels' is 'my reels'); InvalidName for a
    name that cannot be one."""
    name = " ".join(name.split())
    if not STYLE_NAME.match(name):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise InvalidName(f"'{shown}' cannot name a style: use 1 to 40 letters, digits, "
                          "spaces, '.', '-', '_' or an apostrophe, starting with a letter "
                          "or digit")
    return name.lower()


def _kind(kind: str) -> str:
    if kind not in STYLE_KINDS:
        raise ValueError(f"a style's kind is one of {STYLE_KINDS}, not {kind!r}")
    return kind


class Styles:
    assets: AssetStore
    _read: Callable[[Callable[[Session], Any]], Any]
    _write: Callable[[Callable[[Session], Any]], Any]
    _insert: Callable[[type], Any]

    def create_style(self, actor: Actor, kind: str, name: str, *,
                     recipe: Mapping[str, Any], weights: FileIn) -> StyleInfo:
        """A new style with its first version. AlreadyExists if the person has a style of
        this kind and name (retrain it, or forget it first)."""
        key, kind = style_key(name), _kind(kind)
        written = self.assets.put(weights.data, weights.mime)

        def op(s: Session) -> StyleInfo:
            if self._style_row(s, actor, key, kind, missing_ok=True) is not None:
                raise AlreadyExists(f"you already have a {kind} style called '{name}'; "
                                    "learn it again to make a new version, or forget it")
            row = Style(owner_id=actor.user.id, kind=kind, name=" ".join(name.split()),
                        name_key=key, version_count=0, created_at=utcnow(),
                        updated_at=utcnow())
            s.add(row)
            s.flush()
            return self._new_style_version(s, row, recipe, written)

        return self._write(op)  # type: ignore[no-any-return]

    def retrain_style(self, actor: Actor, name: str, *, recipe: Mapping[str, Any],
                      weights: FileIn, kind: str | None = None) -> StyleInfo:
        """A new version of the person's style ``name``, which becomes the one used."""
        key = style_key(name)
        written = self.assets.put(weights.data, weights.mime)

        def op(s: Session) -> StyleInfo:
            row = self._style_row(s, actor, key, kind, lock=True, shown=name)
            assert row is not None
            row.updated_at = utcnow()
            return self._new_style_version(s, row, recipe, written)

        return self._write(op)  # type: ignore[no-any-return]

    def style(self, actor: Actor, name: str, kind: str | None = None,
              version: int | None = None, *, exact: bool = False) -> StyleInfo:
        """The person's style ``name`` at ``version`` (default: the newest). ``MY_STYLE``
        ("in my style") is their one style of ``kind`` unless ``exact`` or they named a
        style so."""
        key = style_key(name)

        def op(s: Session) -> StyleInfo:
            row = self._style_row(s, actor, key, kind, shown=name,
                                  missing_ok=key == style_key(MY_STYLE) and not exact)
            if row is None:  # "paint a harbour in my style": the one the person has
                row = self._only_style(s, actor, kind)
            number = row.version_count if version is None else version
            vrow = s.scalars(select(StyleVersion).where(StyleVersion.style_id == row.id,
                                                        StyleVersion.number == number)).first()
            if vrow is None:
                raise NotFound(f"style '{row.name}' has no version v{number} "
                               f"(it has v1..v{row.version_count})")
            return self._style_info(s, row, vrow)

        return self._read(op)  # type: ignore[no-any-return]

    def list_styles(self, actor: Actor, kind: str | None = None) -> list[StyleInfo]:
        """The person's styles, each at its newest version, by name."""

        def op(s: Session) -> list[StyleInfo]:
            q = select(Style, StyleVersion).join(
                StyleVersion, (StyleVersion.style_id == Style.id)
                & (StyleVersion.number == Style.version_count)
            ).where(Style.owner_id == actor.user.id)
            if kind is not None:
                q = q.where(Style.kind == _kind(kind))
            return [self._style_info(s, row, v)
                    for row, v in s.execute(q.order_by(Style.name_key, Style.kind))]

        return self._read(op)  # type: ignore[no-any-return]

    def style_versions(self, actor: Actor, name: str,
                       kind: str | None = None) -> list[StyleInfo]:
        """Every version of the person's style ``name``, oldest first."""
        key = style_key(name)

        def op(s: Session) -> list[StyleInfo]:
            row = self._style_row(s, actor, key, kind, shown=name)
            assert row is not None
            rows = s.scalars(select(StyleVersion).where(StyleVersion.style_id == row.id)
                             .order_by(StyleVersion.number))
            return [self._style_info(s, row, v) for v in rows]

        return self._read(op)  # type: ignore[no-any-return]

    def forget_style(self, actor: Actor, name: str, kind: str | None = None) -> StyleInfo:
        """Delete the person's style ``name`` and all its versions; returns what it was
        (at its newest version). Its weights files are left to the orphan clean-up,
        unless something else still names them."""
        key = style_key(name)

        def op(s: Session) -> StyleInfo:
            row = self._style_row(s, actor, key, kind, lock=True, shown=name)
            assert row is not None
            versions = list(s.scalars(select(StyleVersion)
                                      .where(StyleVersion.style_id == row.id)))
            head = next(v for v in versions if v.number == row.version_count)
            info = self._style_info(s, row, head)
            assets = {v.asset_id for v in versions}
            s.execute(delete(StyleVersion).where(StyleVersion.style_id == row.id))
            s.delete(row)
            s.flush()
            for asset_id in assets:
                if not _asset_in_use(s, asset_id):
                    s.execute(delete(Asset).where(Asset.id == asset_id))
            return info

        return self._write(op)  # type: ignore[no-any-return]

    # -- rows -------------------------------------------------------------------------

    def _only_style(self, s: Session, actor: Actor, kind: str | None) -> Style:
        """The person's one style of ``kind`` ("in my style"); NotFound says what to do
        when they have none or several."""
        q = select(Style).where(Style.owner_id == actor.user.id)
        if kind is not None:
            q = q.where(Style.kind == _kind(kind))
        rows = list(s.scalars(q.order_by(Style.name_key)))
        what = {"image": "picture style", "music": "music style"}.get(kind or "", "style")
        if not rows:
            raise NotFound(f"you have no {what} yet: attach some of your own work and say "
                           "“learn my style from these and call it NAME”")
        if len(rows) > 1:
            names = ", ".join(f"'{r.name}'" for r in rows[:6])
            raise NotFound(f"you have {len(rows)} {what}s ({names}); say which one: "
                           f"“in my {rows[0].name} style”")
        return rows[0]

    def _style_row(self, s: Session, actor: Actor, key: str, kind: str | None, *,
                   lock: bool = False, missing_ok: bool = False, shown: str = ""
                   ) -> Style | None:
        """The person's style of name ``key`` (NotFound says ``shown``, the name as they
        wrote it)."""
        q = select(Style).where(Style.owner_id == actor.user.id, Style.name_key == key)
        if kind is not None:
            q = q.where(Style.kind == _kind(kind))
        if lock and s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        rows = list(s.scalars(q.order_by(Style.kind)))
        if not rows:
            if missing_ok:
                return None
            what = {"image": "picture style", "music": "music style"}.get(kind or "", "style")
            name = " ".join(shown.split()) or key
            raise NotFound(f"you have no {what} called '{name}' (list_styles shows yours)")
        if len(rows) > 1:  # an image and a music style of one name
            raise NotFound(f"you have an image and a music style called '{rows[0].name}'; "
                           "say which kind")
        return rows[0]

    def _new_style_version(self, s: Session, row: Style, recipe: Mapping[str, Any],
                           f: AssetFile) -> StyleInfo:
        s.execute(self._insert(Asset)
                  .values(sha256=f.sha256, mime=f.mime, size=f.size, path=f.path,
                          created_at=utcnow())
                  .on_conflict_do_nothing(index_elements=["sha256"]))
        asset_id = s.scalars(select(Asset.id).where(Asset.sha256 == f.sha256)).one()
        row.version_count += 1
        version = StyleVersion(style_id=row.id, number=row.version_count, recipe=dict(recipe),
                               asset_id=asset_id, created_at=utcnow())
        s.add(version)
        s.flush()
        return self._style_info(s, row, version)

    def _style_info(self, s: Session, row: Style, version: StyleVersion) -> StyleInfo:
        path = s.scalars(select(Asset.path).where(Asset.id == version.asset_id)).one()
        return StyleInfo(row.id, row.owner_id, row.kind, row.name, version.number,
                         row.version_count, dict(version.recipe or {}),
                         self.assets.abspath(path), _utc(version.created_at))


def _asset_in_use(s: Session, asset_id: int) -> bool:
    return bool(s.scalars(select(VersionAsset.asset_id).where(VersionAsset.asset_id == asset_id)
                          .limit(1)).first()
                or s.scalars(select(StyleVersion.id).where(StyleVersion.asset_id == asset_id)
                             .limit(1)).first())


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
