"""Keeping the data dir sound: the integrity check and the orphaned files a crash between
an asset write and its row can leave (``museforge doctor [--clean]``). A part of
``Store``, kept apart from the queries the conversation makes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
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
        """Files under assets/ that no row names (left by a crash), temp files included."""
        referenced = set(self._read(lambda s: list(s.scalars(select(Asset.path)))))
        return [p for p in self.assets.all_files() if p not in referenced]

    def clean_orphans(self) -> list[str]:
        """Delete the orphans older than a minute; return what was deleted."""
        removed = []
        for rel in self.orphans():
            path = self.assets.abspath(rel)
            # A file younger than a minute may belong to a write in progress: written (or
            # reused by AssetStore.put, which makes it young again), its row not yet committed.
            if _age_s(path) < ORPHAN_MIN_AGE_S:
                continue
            path.unlink(missing_ok=True)
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
            path = self.assets.abspath(asset["path"])
            if not path.is_file():
                problems.append(f"missing file {asset['path']}")
            elif path.stat().st_size != asset["size"]:
                problems.append(f"partial file {asset['path']}")
            elif hash_files and hashlib.sha256(path.read_bytes()).hexdigest() != asset["sha256"]:
                problems.append(f"corrupt file {asset['path']}")
        return problems


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 1e9


def _plain(asset: Asset) -> dict[str, Any]:
    return {"path": asset.path, "size": asset.size, "sha256": asset.sha256}
