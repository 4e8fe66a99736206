"""Keeping the data dir sound: the integrity check and the orphaned files a crash between
an asset write and its row can leave (``museforge doctor [--clean]``). A part of
``Store``, kept apart from the queries the conversation makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from museforge.storage.assets import AssetStore
from museforge.storage.schema import Asset

ORPHAN_MIN_AGE_S = 60


class Maintenance:
    engine: Engine
    assets: AssetStore
    _read: Callable[[Callable[[Session], Any]], Any]

    def orphans(self) -> list[str]:
        """Stored assets that no row names (left by a crash), a folder's temp files
        included; in an object store, the objects under its prefix."""
        referenced = set(self._read(lambda s: list(s.scalars(select(Asset.path)))))
        return [p for p in self.assets.all_files() if p not in referenced]

    def clean_orphans(self) -> list[str]:
        """Delete the orphans older than a minute; return what was deleted."""
        removed = []
        for rel in self.orphans():
            found = self.assets.stat(rel)
            # A file younger than a minute may belong to a write in progress: written (or
            # reused by AssetStore.put, which makes it young again), its row not yet committed.
            if found is None or found.age_s < ORPHAN_MIN_AGE_S:
                continue
            self.assets.delete(rel)
            removed.append(rel)
        return removed

    def integrity_problems(self, *, hash_files: bool = False) -> list[str]:
        """Empty when the database is sound and every asset row names a whole file."""
        problems: list[str] = []
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                result = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
                if result != ["ok"]:
                    problems.extend(f"sqlite: {r}" for r in result)
                fk = list(conn.execute(text("PRAGMA foreign_key_check")))
                problems.extend(f"foreign key: {tuple(r)}" for r in fk)
        for asset in self._read(lambda s: [_plain(a) for a in s.scalars(select(Asset))]):
            found = self.assets.stat(asset["path"])
            if found is None:
                problems.append(f"missing file {asset['path']}")
            elif found.size != asset["size"]:
                problems.append(f"partial file {asset['path']}")
            elif hash_files and self.assets.sha256_of(asset["path"]) != asset["sha256"]:
                problems.append(f"corrupt file {asset['path']}")
        return problems


def _plain(asset: Asset) -> dict[str, Any]:
    return {"path": asset.path, "size": asset.size, "sha256": asset.sha256}
